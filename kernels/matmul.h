// Batched matrix product, row-major: C[b] = op(A[b]) * op(B[b]) for b < batch, where op
// transposes when its flag is set. A[b] starts at A + b * stride_a (a stride of 0 broadcasts).
// CPU: CBLAS. CUDA: cuBLAS strided-batched GEMM, TF32 unless strict fp32 is asked for.
// T is float, double or bfloat16; bfloat16 reads and writes bfloat16 and accumulates in float32,
// rounding each element of C once (CPU: oneDNN's matmul on the bfloat16 matrix units, or the
// float32 GEMM of converted operands without oneDNN; CUDA: cuBLAS's bfloat16 tensor-core GEMM,
// float32 compute). The order of the sums differs between them: a result can move by one step.
#pragma once
#include <cstdint>

#include "kernels/bfloat16.h"

namespace dytgrad::kernels {

struct GemmShape {
  bool transpose_a = false, transpose_b = false;
  int64_t m = 0, n = 0, k = 0;            // C is m x n, op(A) is m x k, op(B) is k x n
  int64_t lda = 0, ldb = 0, ldc = 0;      // row strides as stored
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  int64_t batch = 1;
};

// linear_forward: y = x W^T + bias for x [rows, in], W [out, in], bias [out], all contiguous, float
// or double, with no pass of the bias's own: on the CPU each row of y starts as the bias and the
// GEMM adds onto it (beta = 1); on CUDA float32 adds it in cuBLASLt's epilogue (y written once)
// and float64 as the CPU.
// linear_gelu_forward: pre = x W^T + bias (kept for the backward) and y = gelu(pre), tanh
// approximation: on the CPU the gelu of each block of rows right after its GEMM (the block still in
// cache); on CUDA float32 both from cuBLASLt's GELU_AUX_BIAS epilogue (pre and y written once, no
// pass of their own), float64 as linear_forward and a gelu pass.
#define DYT_DECLARE_MATMUL_KERNELS                                                                \
  template <class T> void gemm_batched(const GemmShape& s, const T* a, const T* b, T* c);         \
  template <class T> void linear_forward(const T* x, const T* weight, const T* bias, T* y,        \
                                         int64_t rows, int64_t in, int64_t out);                  \
  template <class T> void linear_gelu_forward(const T* x, const T* weight, const T* bias, T* pre, \
                                              T* y, int64_t rows, int64_t in, int64_t out);

namespace cpu { DYT_DECLARE_MATMUL_KERNELS }
namespace cuda {
DYT_DECLARE_MATMUL_KERNELS
// bfloat16 operands, a float32 result (float32 accumulation): attention's scores on tensor cores.
void gemm_batched_float_result(const GemmShape& s, const bfloat16* a, const bfloat16* b, float* c);
}  // namespace cuda

}  // namespace dytgrad::kernels
