// CPU matmul through blas.h (float32: oneDNN where built with it, else OpenBLAS; float64: OpenBLAS).
// Each GEMM runs single-threaded: a library's own thread pool and OpenMP's (which the other CPU
// kernels use) would fight over the cores; on 2 cores OpenBLAS's cost a third of a ViT training
// step in scheduling (perf, 2026-11-23). The parallelism is OpenMP's:
// across the batch's GEMMs when there are enough, else across row blocks of C within each GEMM.
#include "kernels/matmul.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/threads.h"

namespace dytgrad::kernels::cpu {

namespace {
template <class T> void gemm(const GemmShape& s, const T* a, const T* b, T* c) {
  blas::gemm(s.transpose_a, s.transpose_b, s.m, s.n, s.k, T(1), a, s.lda, b, s.ldb, T(0), c, s.ldc);
}
}  // namespace

template <class T> void gemm_batched(const GemmShape& s, const T* a, const T* b, T* c) {
  int64_t threads = cpu::threads(), flops = 2 * s.m * s.n * s.k;
  bool parallel = threads > 1 && flops * s.batch >= (int64_t(1) << 20);
  if (!parallel || s.batch >= threads) {
#pragma omp parallel for if (parallel) num_threads(threads) schedule(static)
    for (int64_t i = 0; i < s.batch; ++i) gemm(s, a + i * s.stride_a, b + i * s.stride_b, c + i * s.stride_c);
    return;
  }
  // Few large GEMMs: each thread computes a block of C's rows (rows r of C need rows r of op(A)).
  int64_t rows_per_thread = (s.m + threads - 1) / threads;
  for (int64_t i = 0; i < s.batch; ++i) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t t = 0; t < threads; ++t) {
      int64_t first = t * rows_per_thread, rows = std::min(s.m, first + rows_per_thread) - first;
      if (rows <= 0) continue;
      GemmShape block = s;
      block.m = rows;
      const T* a_rows = a + i * s.stride_a + (s.transpose_a ? first : first * s.lda);  // A^T: rows of op(A) are columns
      gemm(block, a_rows, b + i * s.stride_b, c + i * s.stride_c + first * s.ldc);
    }
  }
}

// bfloat16: the float32 GEMM on float32 copies of A and B laid out as they are (the same shape and
// strides, so the same sums in the same order), its result rounded once into C. Reads A and B and
// writes their float32 copies, then the GEMM, then reads C's float32 copy and writes C: a reference
// for the GPU's kernel, not a fast path (this CPU's float32 GEMM is its fastest).
namespace {
// Elements from the first of an operand's batch to the last of its last row, as laid out.
int64_t extent(int64_t batch, int64_t batch_stride, int64_t rows, int64_t cols, int64_t ld) {
  return rows == 0 || cols == 0 ? 0 : (batch - 1) * batch_stride + (rows - 1) * ld + cols;
}
std::vector<float> to_float32(const bfloat16* x, int64_t n) {
  std::vector<float> y(size_t(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) y[size_t(i)] = x[i].to_float();
  return y;
}
}  // namespace

template <> void gemm_batched<bfloat16>(const GemmShape& s, const bfloat16* a, const bfloat16* b, bfloat16* c) {
  int64_t a_rows = s.transpose_a ? s.k : s.m, a_cols = s.transpose_a ? s.m : s.k;
  int64_t b_rows = s.transpose_b ? s.n : s.k, b_cols = s.transpose_b ? s.k : s.n;
  std::vector<float> a32 = to_float32(a, extent(s.batch, s.stride_a, a_rows, a_cols, s.lda));
  std::vector<float> b32 = to_float32(b, extent(s.batch, s.stride_b, b_rows, b_cols, s.ldb));
  std::vector<float> c32(size_t(extent(s.batch, s.stride_c, s.m, s.n, s.ldc)));
  gemm_batched<float>(s, a32.data(), b32.data(), c32.data());
  for (int64_t i = 0; i < s.batch; ++i)
    for (int64_t r = 0; r < s.m; ++r)
      for (int64_t j = 0; j < s.n; ++j) {
        int64_t at = i * s.stride_c + r * s.ldc + j;
        c[at] = bfloat16::from_float(c32[size_t(at)]);
      }
}

// Row blocks of y in parallel (the rows of y need only the rows of x): each block is filled with
// the bias, then one GEMM with beta = 1 adds x W^T. Reads x and W, writes y once (plus the GEMM's
// read of y): an add of the bias afterwards would read y and write it again.
template <class T> void linear_forward(const T* x, const T* weight, const T* bias, T* y, int64_t rows, int64_t in,
                                       int64_t out) {
  int64_t threads = cpu::threads();
  bool parallel = threads > 1 && 2 * rows * in * out >= (int64_t(1) << 20);
  int64_t blocks = parallel ? threads : 1, rows_per_block = (rows + blocks - 1) / blocks;
#pragma omp parallel for if (parallel) num_threads(threads) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    int64_t first = b * rows_per_block, count = std::min(rows, first + rows_per_block) - first;
    if (count <= 0) continue;
    for (int64_t r = first; r < first + count; ++r) std::copy(bias, bias + out, y + r * out);
    blas::gemm(false, true, count, out, in, T(1), x + first * in, in, weight, in, T(1), y + first * out, out);
  }
}

template void gemm_batched<float>(const GemmShape&, const float*, const float*, float*);
template void gemm_batched<double>(const GemmShape&, const double*, const double*, double*);
template void linear_forward<float>(const float*, const float*, const float*, float*, int64_t, int64_t, int64_t);
template void linear_forward<double>(const double*, const double*, const double*, double*, int64_t, int64_t, int64_t);

}  // namespace dytgrad::kernels::cpu
