#pragma once
// OpenBLAS's CBLAS interface (Debian: libopenblas-dev puts cblas.h on the include path).
#include <cblas.h>

// Number of threads OpenBLAS uses; declared by openblas_config.h / cblas.h on Debian.
static inline int kp2d_openblas_threads(void) { return openblas_get_num_threads(); }
static inline void kp2d_openblas_set_threads(int n) { openblas_set_num_threads(n); }
