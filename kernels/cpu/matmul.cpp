// CPU matmul through CBLAS (OpenBLAS), one GEMM per batch element.
#include "kernels/matmul.h"

#include <cblas.h>

namespace dytgrad::kernels::cpu {

namespace {
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, const GemmShape& s, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, ta, tb, int(s.m), int(s.n), int(s.k), 1.0f, a, int(s.lda), b, int(s.ldb), 0.0f, c,
              int(s.ldc));
}
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, const GemmShape& s, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, ta, tb, int(s.m), int(s.n), int(s.k), 1.0, a, int(s.lda), b, int(s.ldb), 0.0, c,
              int(s.ldc));
}
}  // namespace

template <class T> void gemm_batched(const GemmShape& s, const T* a, const T* b, T* c) {
  CBLAS_TRANSPOSE ta = s.transpose_a ? CblasTrans : CblasNoTrans;
  CBLAS_TRANSPOSE tb = s.transpose_b ? CblasTrans : CblasNoTrans;
  for (int64_t i = 0; i < s.batch; ++i)
    gemm(ta, tb, s, a + i * s.stride_a, b + i * s.stride_b, c + i * s.stride_c);
}

template void gemm_batched<float>(const GemmShape&, const float*, const float*, float*);
template void gemm_batched<double>(const GemmShape&, const double*, const double*, double*);

}  // namespace dytgrad::kernels::cpu
