// Row-major GEMM: C = alpha op(A) op(B) + beta C, float32 through oneDNN where the build has it
// (DYTGRAD_ONEDNN; faster on the models' shapes), else through CBLAS (Debian's OpenBLAS), float64
// always through CBLAS, bfloat16 through oneDNN's matmul (bfloat16_gemm.cpp). Each call is single-threaded: the CPU kernels' parallelism is
// OpenMP's (one thread pool; a library's own threads would fight it for the cores, and would make
// the results depend on the thread count), and the callers split the work.
#pragma once
#include <cblas.h>
#include <cstdint>
#include <string>

#include "kernels/bfloat16.h"
#ifdef DYTGRAD_ONEDNN
#include <dnnl.h>
#include <omp.h>
#include <stdexcept>
#endif

namespace dytgrad::kernels::cpu::blas {

inline void keep_single_threaded() {
  static const bool done = (openblas_set_num_threads(1), true);
  (void)done;
}

inline CBLAS_TRANSPOSE op(bool transpose) { return transpose ? CblasTrans : CblasNoTrans; }

inline void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
#ifdef DYTGRAD_ONEDNN
  if (m == 0 || n == 0) return;
  dnnl_status_t status = dnnl_success;
  // oneDNN takes as many threads as OpenMP's setting of the calling task: a region of one thread
  // whose setting is 1 keeps it to the calling thread.
#pragma omp parallel num_threads(1)
  {
    omp_set_num_threads(1);
    status = dnnl_sgemm(transpose_a ? 'T' : 'N', transpose_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  if (status != dnnl_success)
    throw std::runtime_error("oneDNN sgemm failed (status " + std::to_string(int(status)) + ") for m " +
                             std::to_string(m) + ", n " + std::to_string(n) + ", k " + std::to_string(k));
  return;
#endif
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

// bfloat16 operands and result, float32 accumulation, C = op(A) op(B) only (alpha 1, beta 0):
// oneDNN's matmul on the CPU's bfloat16 units where the build has oneDNN, else the float32 GEMM of
// converted copies (kernels/cpu/bfloat16_gemm.cpp).
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const bfloat16* a,
          int64_t lda, const bfloat16* b, int64_t ldb, float beta, bfloat16* c, int64_t ldc);

}  // namespace dytgrad::kernels::cpu::blas
