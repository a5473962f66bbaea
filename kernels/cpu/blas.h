// Row-major GEMM through CBLAS (Debian's OpenBLAS): C = alpha op(A) op(B) + beta C, for float and
// double. OpenBLAS is kept single-threaded: the CPU kernels' parallelism is OpenMP's (one thread
// pool; OpenBLAS's own threads would fight it for the cores), and the callers split the work.
#pragma once
#include <cblas.h>
#include <cstdint>

namespace dytgrad::kernels::cpu::blas {

inline void keep_single_threaded() {
  static const bool done = (openblas_set_num_threads(1), true);
  (void)done;
}

inline CBLAS_TRANSPOSE op(bool transpose) { return transpose ? CblasTrans : CblasNoTrans; }

inline void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  keep_single_threaded();
  cblas_sgemm(CblasRowMajor, op(transpose_a), op(transpose_b), int(m), int(n), int(k), alpha, a, int(lda), b,
              int(ldb), beta, c, int(ldc));
}

inline void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                 int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  keep_single_threaded();
  cblas_dgemm(CblasRowMajor, op(transpose_a), op(transpose_b), int(m), int(n), int(k), alpha, a, int(lda), b,
              int(ldb), beta, c, int(ldc));
}

}  // namespace dytgrad::kernels::cpu::blas
