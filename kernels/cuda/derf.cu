// Dynamic erf (Derf, arXiv 2512.10938): y = gamma * erf(alpha * x + shift) + beta over the last
// dim (alpha and shift one scalar each). Written after dyt.cu's plain kernels; tests/test_norms.cpp
// checks them against the CPU.
//
// derf_forward: one pass, one element a thread. Traffic: read x, write y = 2 * rows * cols *
//   sizeof(T) (+ gamma, beta once from L2).
// derf_backward: one pass. With u = alpha x + shift and g = dy * gamma * 2 / sqrt(pi) * exp(-u^2):
//   dx = alpha g, dalpha = sum g x, dshift = sum g, dgamma[c] = sum_r dy erf(u), dbeta[c] = sum_r dy.
//   Blocks walk chunks of rows with a thread per column, keep the column sums and the dalpha and
//   dshift sums in registers and write partials, which column_partials_sum adds in a fixed order
//   (deterministic, no atomics). Traffic: read x and dy, write dx = 3 * rows * cols * sizeof(T),
//   plus the partials.
#include "kernels/cuda/column_partials.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/memory.h"
#include "kernels/norms.h"

namespace dytgrad::kernels::cuda {

namespace {

template <class T>
__global__ void derf_forward_any(const T* __restrict__ x, const T* __restrict__ alpha, const T* __restrict__ shift,
                                 const T* __restrict__ gamma, const T* __restrict__ beta, T* __restrict__ y, int64_t n,
                                 int64_t cols) {
  const T a = *alpha, s = *shift;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = i % cols;
    y[i] = gamma[c] * erf(a * x[i] + s) + beta[c];
  }
}

template <class T>
__global__ void derf_backward_any(const T* __restrict__ x, const T* __restrict__ alpha, const T* __restrict__ shift,
                                  const T* __restrict__ gamma, const T* __restrict__ dy, T* __restrict__ dx,
                                  T* __restrict__ partial_gamma, T* __restrict__ partial_beta,
                                  T* __restrict__ partial_alpha, T* __restrict__ partial_shift, int64_t rows,
                                  int64_t cols, int64_t rows_per_block) {
  __shared__ T scratch[32];
  const T a = *alpha, s = *shift, two_over_sqrt_pi = T(1.1283791670955126);
  int64_t c = int64_t(blockIdx.y) * blockDim.x + threadIdx.x;
  int64_t r0 = blockIdx.x * rows_per_block, r1 = min(rows, r0 + rows_per_block);
  T sg = 0, sb = 0, sa = 0, ss = 0;
  if (c < cols) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t i = r * cols + c;
      T u = a * x[i] + s, g = dy[i] * gamma[c] * two_over_sqrt_pi * exp(-u * u);
      dx[i] = a * g;
      sa += g * x[i];
      ss += g;
      sg += dy[i] * erf(u);
      sb += dy[i];
    }
    partial_gamma[blockIdx.x * cols + c] = sg;
    partial_beta[blockIdx.x * cols + c] = sb;
  }
  sa = block_sum(sa, scratch);
  ss = block_sum(ss, scratch);
  if (threadIdx.x == 0) {
    partial_alpha[blockIdx.x * gridDim.y + blockIdx.y] = sa;
    partial_shift[blockIdx.x * gridDim.y + blockIdx.y] = ss;
  }
}

}  // namespace

template <class T>
void derf_forward(const T* x, const T* alpha, const T* shift, const T* gamma, const T* beta, T* y, int64_t rows,
                  int64_t cols) {
  int64_t n = rows * cols;
  if (n == 0) return;
  derf_forward_any<<<grid_for(n), kThreads, 0, stream()>>>(x, alpha, shift, gamma, beta, y, n, cols);
  DYT_CUDA_LAUNCHED();
}

template <class T>
void derf_backward(const T* x, const T* alpha, const T* shift, const T* gamma, const T* dy, T* dx, T* dalpha, T* dshift,
                   T* dgamma, T* dbeta, int64_t rows, int64_t cols) {
  int threads = row_threads(cols);
  unsigned tiles = unsigned((cols + threads - 1) / threads);
  int64_t blocks = rows == 0 ? 1 : row_blocks_for(derf_backward_any<T>, rows, threads, tiles);
  int64_t rows_per_block = std::max<int64_t>(1, (rows + blocks - 1) / blocks);
  blocks = rows == 0 ? 1 : (rows + rows_per_block - 1) / rows_per_block;
  T* partials = static_cast<T*>(allocate(sizeof(T) * size_t(2 * blocks * cols + 2 * blocks * tiles)));
  T *partial_gamma = partials, *partial_beta = partials + blocks * cols;
  T *partial_alpha = partials + 2 * blocks * cols, *partial_shift = partial_alpha + blocks * tiles;
  derf_backward_any<<<dim3(unsigned(blocks), tiles), threads, 0, stream()>>>(x, alpha, shift, gamma, dy, dx, partial_gamma,
                                                                 partial_beta, partial_alpha, partial_shift, rows, cols,
                                                                 rows_per_block);
  DYT_CUDA_LAUNCHED();
  PartialSums<T> sums{{partial_gamma, partial_beta, partial_alpha}, {dgamma, dbeta, dalpha},
                      {blocks, blocks, blocks * tiles}, {cols, cols, 1}};
  sum_column_partials(sums, 3);
  PartialSums<T> shift_sum{{partial_shift}, {dshift}, {blocks * tiles}, {1}};
  sum_column_partials(shift_sum, 1);
  release(partials);
}

#define DYT_INSTANTIATE_DERF(T)                                                                              \
  template void derf_forward<T>(const T*, const T*, const T*, const T*, const T*, T*, int64_t, int64_t);     \
  template void derf_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*, int64_t, \
                                 int64_t);
DYT_INSTANTIATE_DERF(float)
DYT_INSTANTIATE_DERF(double)

}  // namespace dytgrad::kernels::cuda
