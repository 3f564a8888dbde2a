#pragma once
// Open MPI's C interface (Debian: libopenmpi-dev; include and link flags from pkg-config "ompi-c").
// MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE ... are macros over addresses of library globals,
// which Swift cannot import, so every call Distributed needs is wrapped here on MPI_COMM_WORLD.
// Each wrapper returns the MPI error code (MPI_SUCCESS = 0) unless noted.
#include <mpi.h>
#include <stdint.h>

/// MPI_Init_thread asking for MPI_THREAD_SERIALIZED (calls come from one thread at a time: the trainer
/// thread; init and finalize from the main thread). `provided` receives the level granted.
static inline int kp2d_mpi_init(int *provided) {
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
}
static inline int kp2d_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int kp2d_mpi_initialized(void) { int f = 0; MPI_Initialized(&f); return f; }
static inline int kp2d_mpi_finalized(void) { int f = 0; MPI_Finalized(&f); return f; }
static inline int kp2d_mpi_finalize(void) { return MPI_Finalize(); }
static inline int kp2d_mpi_rank(void) { int r = -1; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int kp2d_mpi_size(void) { int s = 0; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
static inline void kp2d_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static inline int kp2d_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline double kp2d_mpi_wtime(void) { return MPI_Wtime(); }

/// In-place sum of `count` floats over every rank (every rank gets the same result).
static inline int kp2d_mpi_allreduce_sum_float(float *buffer, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
/// In-place maximum of `count` 64-bit integers over every rank.
static inline int kp2d_mpi_allreduce_max_i64(int64_t *buffer, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
}
/// Blocking broadcast of `count` bytes from `root`.
static inline int kp2d_mpi_bcast_bytes(void *buffer, int count, int root) {
    return MPI_Bcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD);
}
/// Every rank's `count` bytes, gathered in rank order into `out` (size * count bytes).
static inline int kp2d_mpi_allgather_bytes(const void *mine, void *out, int count) {
    return MPI_Allgather(mine, count, MPI_BYTE, out, count, MPI_BYTE, MPI_COMM_WORLD);
}

/// A nonblocking broadcast in flight (MPI_Request is a pointer in Open MPI; kept opaque here).
typedef struct { MPI_Request request; } kp2d_mpi_pending;

static inline int kp2d_mpi_ibcast_bytes(void *buffer, int count, int root, kp2d_mpi_pending *pending) {
    return MPI_Ibcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD, &pending->request);
}
/// Sets *done to 1 once the operation has completed (drives MPI's progress engine).
static inline int kp2d_mpi_test(kp2d_mpi_pending *pending, int *done) {
    return MPI_Test(&pending->request, done, MPI_STATUS_IGNORE);
}
static inline int kp2d_mpi_wait(kp2d_mpi_pending *pending) {
    return MPI_Wait(&pending->request, MPI_STATUS_IGNORE);
}
