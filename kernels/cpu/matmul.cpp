// CPU matmul through blas.h (float32: oneDNN where built with it, else OpenBLAS; float64: OpenBLAS;
// bfloat16: oneDNN's matmul where built with it, else a float32 GEMM of converted copies).
// Each GEMM runs single-threaded: a library's own thread pool and OpenMP's (which the other CPU
// kernels use) would fight over the cores; on 2 cores OpenBLAS's cost a third of a ViT training
// step in scheduling (perf, 2026-11-23). The parallelism is OpenMP's, across the batch's GEMMs and
// blocks of C's rows within each.
#include "kernels/matmul.h"

#include <algorithm>

#include "kernels/cpu/blas.h"
#include "kernels/elementwise.h"
#include "kernels/cpu/threads.h"

namespace dytgrad::kernels::cpu {

namespace {
template <class T> void gemm(const GemmShape& s, const T* a, const T* b, T* c) {
  blas::gemm(s.transpose_a, s.transpose_b, s.m, s.n, s.k, 1, a, s.lda, b, s.ldb, 0, c, s.ldc);
}

// Large GEMMs are cut into blocks of C's rows (rows r of C need rows r of op(A)) whose size depends
// on the shape alone, so that any thread count makes the same GEMM calls: a library may pick its
// kernel, and so its order of sums, by the size of the call (oneDNN's sgemm does on AVX2 CPUs). At
// most 16 blocks, of at least 64 rows; at least 512 where C is 1024 or more wide, where oneDNN's
// sgemm ran at half its rate on 64-row blocks (1024^3 on an AVX2 EPYC, 2026-12-04: 37 against 73
// GFLOP/s; the GPT's GEMMs, at most 768 wide, ran as fast in 64- to 256-row blocks as whole).
int64_t rows_per_gemm_block(int64_t m, int64_t n) { return std::max<int64_t>(n >= 1024 ? 512 : 64, (m + 15) / 16); }
}  // namespace

template <class T> void gemm_batched(const GemmShape& s, const T* a, const T* b, T* c) {
  int64_t threads = cpu::threads(), flops = 2 * s.m * s.n * s.k;
  bool parallel = threads > 1 && flops * s.batch >= (int64_t(1) << 20);
  int64_t rows_per_block = rows_per_gemm_block(s.m, s.n), blocks = (s.m + rows_per_block - 1) / rows_per_block;
#pragma omp parallel for if (parallel) num_threads(threads) schedule(static)
  for (int64_t item = 0; item < s.batch * blocks; ++item) {
    int64_t i = item / blocks, first = (item % blocks) * rows_per_block;
    GemmShape block = s;
    block.m = std::min(s.m, first + rows_per_block) - first;
    const T* a_rows = a + i * s.stride_a + (s.transpose_a ? first : first * s.lda);  // A^T: rows of op(A) are columns
    gemm(block, a_rows, b + i * s.stride_b, c + i * s.stride_c + first * s.ldc);
  }
}

namespace {
// Row blocks of y in parallel (the rows of y need only the rows of x): each block is filled with
// the bias, then one GEMM with beta = 1 adds x W^T, then after_block(first row, rows) runs on it
// while it is in cache. Reads x and W, writes y once (plus the GEMM's read of y): an add of the
// bias afterwards would read y and write it again.
template <class T, class AfterBlock>
void linear_blocks(const T* x, const T* weight, const T* bias, T* y, int64_t rows, int64_t in, int64_t out,
                   AfterBlock after_block) {
  int64_t threads = cpu::threads();
  bool parallel = threads > 1 && 2 * rows * in * out >= (int64_t(1) << 20);
  int64_t rows_per_block = rows_per_gemm_block(rows, out), blocks = (rows + rows_per_block - 1) / rows_per_block;
#pragma omp parallel for if (parallel) num_threads(threads) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    int64_t first = b * rows_per_block, count = std::min(rows, first + rows_per_block) - first;
    if (count <= 0) continue;
    for (int64_t r = first; r < first + count; ++r) std::copy(bias, bias + out, y + r * out);
    blas::gemm(false, true, count, out, in, T(1), x + first * in, in, weight, in, T(1), y + first * out, out);
    after_block(first, count);
  }
}
}  // namespace

template <class T> void linear_forward(const T* x, const T* weight, const T* bias, T* y, int64_t rows, int64_t in,
                                       int64_t out) {
  linear_blocks(x, weight, bias, y, rows, in, out, [](int64_t, int64_t) {});
}

// The block's gelu inside the block's thread (the unary kernel's own threads stay idle there: nested).
template <class T> void linear_gelu_forward(const T* x, const T* weight, const T* bias, T* pre, T* y, int64_t rows,
                                            int64_t in, int64_t out) {
  linear_blocks(x, weight, bias, pre, rows, in, out, [&](int64_t first, int64_t count) {
    unary<T>(UnaryOp::Gelu, pre + first * out, y + first * out, count * out, 0);
  });
}

template void gemm_batched<float>(const GemmShape&, const float*, const float*, float*);
template void gemm_batched<double>(const GemmShape&, const double*, const double*, double*);
template void gemm_batched<bfloat16>(const GemmShape&, const bfloat16*, const bfloat16*, bfloat16*);
template void linear_forward<float>(const float*, const float*, const float*, float*, int64_t, int64_t, int64_t);
template void linear_forward<double>(const double*, const double*, const double*, double*, int64_t, int64_t, int64_t);
template void linear_gelu_forward<float>(const float*, const float*, const float*, float*, float*, int64_t, int64_t,
                                         int64_t);
template void linear_gelu_forward<double>(const double*, const double*, const double*, double*, double*, int64_t,
                                          int64_t, int64_t);

}  // namespace dytgrad::kernels::cpu
