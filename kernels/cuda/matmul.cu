// Matmul through cuBLAS: one handle and one 32 MiB workspace for the process, strided-batched
// GEMM, transposes as cuBLAS flags (no copies). Row-major C = op(A) op(B) is computed as the
// column-major product C^T = op(B)^T op(A)^T, i.e. with A and B swapped.
// float32 uses TF32 tensor cores unless set_tf32(false) asks for strict fp32; bfloat16 uses
// bfloat16 tensor cores with float32 accumulation (CUBLAS_COMPUTE_32F), bfloat16 C.
#include "kernels/cuda/check.cuh"
#include "kernels/matmul.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

bool g_tf32 = true;

cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t created;
    DYT_CUBLAS_CHECK(cublasCreate(&created));
    constexpr size_t kWorkspace = size_t(32) << 20;
    DYT_CUBLAS_CHECK(cublasSetWorkspace(created, allocate(kWorkspace), kWorkspace));
    return created;
  }();
  return h;
}

cublasOperation_t op(bool transpose) { return transpose ? CUBLAS_OP_T : CUBLAS_OP_N; }

}  // namespace

void set_tf32(bool enabled) { g_tf32 = enabled; }
bool tf32_enabled() { return g_tf32; }

template <> void gemm_batched<float>(const GemmShape& s, const float* a, const float* b, float* c) {
  const float one = 1.f, zero = 0.f;
  DYT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle(), op(s.transpose_b), op(s.transpose_a), int(s.n), int(s.m), int(s.k), &one, b, CUDA_R_32F, int(s.ldb),
      s.stride_b, a, CUDA_R_32F, int(s.lda), s.stride_a, &zero, c, CUDA_R_32F, int(s.ldc), s.stride_c, int(s.batch),
      g_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

template <> void gemm_batched<double>(const GemmShape& s, const double* a, const double* b, double* c) {
  const double one = 1.0, zero = 0.0;
  DYT_CUBLAS_CHECK(cublasDgemmStridedBatched(handle(), op(s.transpose_b), op(s.transpose_a), int(s.n), int(s.m),
                                             int(s.k), &one, b, int(s.ldb), s.stride_b, a, int(s.lda), s.stride_a,
                                             &zero, c, int(s.ldc), s.stride_c, int(s.batch)));
}

// kernels/bfloat16.h's bfloat16 has the layout of CUDA's __nv_bfloat16 (its 16 bits), which cuBLAS
// reads as CUDA_R_16BF.
template <> void gemm_batched<bfloat16>(const GemmShape& s, const bfloat16* a, const bfloat16* b, bfloat16* c) {
  static_assert(sizeof(bfloat16) == 2);
  const float one = 1.f, zero = 0.f;
  DYT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle(), op(s.transpose_b), op(s.transpose_a), int(s.n), int(s.m), int(s.k), &one, b, CUDA_R_16BF,
      int(s.ldb), s.stride_b, a, CUDA_R_16BF, int(s.lda), s.stride_a, &zero, c, CUDA_R_16BF, int(s.ldc), s.stride_c,
      int(s.batch), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace dytgrad::kernels::cuda
