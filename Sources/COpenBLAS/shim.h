#pragma once
// OpenBLAS's CBLAS interface (Debian: libopenblas-dev puts cblas.h on the include path).
#include <cblas.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

// Number of threads OpenBLAS uses; declared by openblas_config.h / cblas.h on Debian.
static inline int kp2d_openblas_threads(void) { return openblas_get_num_threads(); }
static inline void kp2d_openblas_set_threads(int n) { openblas_set_num_threads(n); }

// The kernel set ("core") OpenBLAS chose when it initialised, e.g. "Haswell", "SkylakeX", and its build config.
static inline const char *kp2d_openblas_corename(void) { return openblas_get_corename(); }
static inline const char *kp2d_openblas_config(void) { return openblas_get_config(); }

// CPU vector extensions the CPU has AND the operating system saves (cpuid + xgetbv), as bits:
// 1 AVX, 2 AVX2, 4 FMA, 8 AVX-512F, 16 AVX-512CD, 32 AVX-512BW, 64 AVX-512DQ, 128 AVX-512VL. 0 off x86.
static inline uint32_t kp2d_cpu_vector_features(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave) return 0;
    unsigned int xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    int osYmm = (xlo & 0x6) == 0x6, osZmm = (xlo & 0xe6) == 0xe6;
    if (!avx || !osYmm) return 0;
    uint32_t f = 1;
    if (fma) f |= 4;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    if ((b >> 5) & 1) f |= 2;
    if (osZmm) {
        if ((b >> 16) & 1) f |= 8;
        if ((b >> 28) & 1) f |= 16;
        if ((b >> 30) & 1) f |= 32;
        if ((b >> 17) & 1) f |= 64;
        if ((b >> 31) & 1) f |= 128;
    }
    return f;
#else
    return 0;
#endif
}
