// Dynamic Tanh: y = gamma * tanh(alpha * x) + beta over the last dim (alpha one scalar).
//
// dyt_forward: one pass; each thread reads 4 consecutive x (16 bytes) and the matching gamma and
//   beta (cached: they are `cols` floats shared by every row), writes 4 y.
//   Traffic: read x, write y = 2 * rows * cols * 4 bytes (+ gamma, beta once from L2).
//
// dyt_backward: one pass. With t = tanh(alpha x) and u = dy * gamma * (1 - t^2):
//   dx = alpha * u,  dalpha = sum(u * x),  dgamma[c] = sum_r dy t,  dbeta[c] = sum_r dy.
//   Each block walks a contiguous chunk of rows with its threads spread across the columns (four
//   per thread, per chunk of 4 * blockDim columns), keeping per-column sums of dgamma and dbeta and
//   a per-thread dalpha sum in registers; it writes one partial row of dgamma and dbeta and one
//   partial dalpha. A second small kernel sums the partials in a fixed order: deterministic, no
//   atomics. Traffic: read x and dy, write dx = 3 * rows * cols * 4 bytes, plus the partials
//   (2 * blocks * cols floats, a few percent of it). (Evict-first cache hints on x, y, dy, dx were
//   tried on 2026-11-23 and measured 3% slower at 8192x4096: not kept.)
//
// Mixed precision: the same kernels with x (and dx) in float32 or bfloat16, y and dy in bfloat16,
// float32 parameters and math, each stored element rounded once. With bfloat16 activations the
// traffic halves: forward 2 * 2 bytes an element, backward 3 * 2.
#include "kernels/cuda/column_partials.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/memory.h"
#include "kernels/norms.h"

namespace dytgrad::kernels::cuda {

namespace {

// Four consecutive activations as a float4 (float32: one 16-byte access, bfloat16: one of 8 bytes).
__device__ inline float4 load4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ inline void store4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }
__device__ inline float bfloat16_bits_to_float(uint32_t bits) { return __uint_as_float(bits << 16); }
__device__ inline float4 load4(const bfloat16* p) {
  uint2 raw = *reinterpret_cast<const uint2*>(p);  // little-endian: the first element in the low half
  return make_float4(bfloat16_bits_to_float(raw.x & 0xffffu), bfloat16_bits_to_float(raw.x >> 16),
                     bfloat16_bits_to_float(raw.y & 0xffffu), bfloat16_bits_to_float(raw.y >> 16));
}
__device__ inline void store4(bfloat16* p, float4 v) {
  auto bits = [](float f) { return uint32_t(bfloat16::from_float(f).bits); };
  *reinterpret_cast<uint2*>(p) = make_uint2(bits(v.x) | bits(v.y) << 16, bits(v.z) | bits(v.w) << 16);
}

// x in X, y in Y (float32 or bfloat16), float32 parameters; four elements a thread.
template <class X, class Y>
__global__ void dyt_forward_vec4(const X* __restrict__ x, const float* __restrict__ alpha,
                                 const float4* __restrict__ gamma, const float4* __restrict__ beta,
                                 Y* __restrict__ y, int64_t n4, int64_t cols4) {
  const float a = *alpha;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n4; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = i % cols4;
    float4 v = load4(x + 4 * i), g = __ldg(gamma + c), b = __ldg(beta + c);
    store4(y + 4 * i, make_float4(fmaf(g.x, tanhf(a * v.x), b.x), fmaf(g.y, tanhf(a * v.y), b.y),
                                  fmaf(g.z, tanhf(a * v.z), b.z), fmaf(g.w, tanhf(a * v.w), b.w)));
  }
}

// Any layout: x in X, parameters and math in P, y in Y.
template <class X, class P, class Y>
__global__ void dyt_forward_any(const X* x, const P* alpha, const P* gamma, const P* beta, Y* y, int64_t n, int64_t cols) {
  const P a = *alpha;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = i % cols;
    y[i] = element_cast<Y>(gamma[c] * tanh(a * element_cast<P>(x[i])) + beta[c]);
  }
}

// add_dyt_forward (residual add + DyT): one pass, sum = x + y, out = gamma * tanh(alpha sum) + beta.
//   Traffic: read x and y, write sum and out = 4 * rows * cols * sizeof(T) (an add and dyt_forward
//   apart: 5). set_cuda_add_dyt_kernel(false) runs add then dyt_forward instead (tests/test_norms.cpp
//   checks both).
template <class T>
__global__ void add_dyt_forward_any(const T* __restrict__ x, const T* __restrict__ y, const T* __restrict__ alpha,
                                    const T* __restrict__ gamma, const T* __restrict__ beta, T* __restrict__ sum,
                                    T* __restrict__ out, int64_t n, int64_t cols) {
  const T a = *alpha;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = i % cols;
    T h = x[i] + y[i];
    sum[i] = h;
    out[i] = gamma[c] * tanh(a * h) + beta[c];
  }
}

// Block (b, tile): rows [b * rows_per_block, ...), columns [tile * 4 * blockDim, ...) four per thread.
// x and dx in X, dy in Y, float32 parameters, partial sums and math.
template <class X, class Y>
__global__ void dyt_backward_vec4(const X* __restrict__ x, const float* __restrict__ alpha,
                                  const float* __restrict__ gamma, const Y* __restrict__ dy,
                                  X* __restrict__ dx, float* __restrict__ partial_gamma,
                                  float* __restrict__ partial_beta, float* __restrict__ partial_alpha, int64_t rows,
                                  int64_t cols, int64_t rows_per_block) {
  __shared__ float scratch[32];
  const float a = *alpha;
  int64_t c = (int64_t(blockIdx.y) * blockDim.x + threadIdx.x) * 4;
  int64_t r0 = blockIdx.x * rows_per_block, r1 = min(rows, r0 + rows_per_block);
  float4 sg = make_float4(0, 0, 0, 0), sb = sg;
  float sa = 0;
  if (c < cols) {
    float4 g = *reinterpret_cast<const float4*>(gamma + c);
#pragma unroll 4
    for (int64_t r = r0; r < r1; ++r) {
      float4 v = load4(x + r * cols + c), d = load4(dy + r * cols + c);
      float tx = tanhf(a * v.x), ty = tanhf(a * v.y), tz = tanhf(a * v.z), tw = tanhf(a * v.w);
      float ux = d.x * g.x * (1.f - tx * tx), uy = d.y * g.y * (1.f - ty * ty);
      float uz = d.z * g.z * (1.f - tz * tz), uw = d.w * g.w * (1.f - tw * tw);
      store4(dx + r * cols + c, make_float4(a * ux, a * uy, a * uz, a * uw));
      sa += (ux * v.x + uy * v.y) + (uz * v.z + uw * v.w);
      sg.x += d.x * tx, sg.y += d.y * ty, sg.z += d.z * tz, sg.w += d.w * tw;
      sb.x += d.x, sb.y += d.y, sb.z += d.z, sb.w += d.w;
    }
    *reinterpret_cast<float4*>(partial_gamma + blockIdx.x * cols + c) = sg;
    *reinterpret_cast<float4*>(partial_beta + blockIdx.x * cols + c) = sb;
  }
  sa = block_sum(sa, scratch);
  if (threadIdx.x == 0) partial_alpha[blockIdx.x * gridDim.y + blockIdx.y] = sa;
}

// Any layout: x and dx in X, dy in Y, parameters, partial sums and math in P.
template <class X, class P, class Y>
__global__ void dyt_backward_any(const X* x, const P* alpha, const P* gamma, const Y* dy, X* dx, P* partial_gamma,
                                 P* partial_beta, P* partial_alpha, int64_t rows, int64_t cols, int64_t rows_per_block) {
  __shared__ P scratch[32];
  const P a = *alpha;
  int64_t c = int64_t(blockIdx.y) * blockDim.x + threadIdx.x;
  int64_t r0 = blockIdx.x * rows_per_block, r1 = min(rows, r0 + rows_per_block);
  P sg = 0, sb = 0, sa = 0;
  if (c < cols) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t i = r * cols + c;
      P xi = element_cast<P>(x[i]), d = element_cast<P>(dy[i]);
      P t = tanh(a * xi), u = d * gamma[c] * (P(1) - t * t);
      dx[i] = element_cast<X>(a * u);
      sa += u * xi;
      sg += d * t;
      sb += d;
    }
    partial_gamma[blockIdx.x * cols + c] = sg;
    partial_beta[blockIdx.x * cols + c] = sb;
  }
  sa = block_sum(sa, scratch);
  if (threadIdx.x == 0) partial_alpha[blockIdx.x * gridDim.y + blockIdx.y] = sa;
}

bool aligned(const void* p, uintptr_t bytes) { return (reinterpret_cast<uintptr_t>(p) & (bytes - 1)) == 0; }

// The four-wide kernels need whole groups of four in every row, each group aligned to its size.
template <class X, class P, class Y>
bool fits_vec4(int64_t cols, const X* x, const Y* y, const P* gamma, const P* beta) {
  return std::is_same_v<P, float> && cols % 4 == 0 && aligned(x, 4 * sizeof(X)) && aligned(y, 4 * sizeof(Y)) &&
         aligned(gamma, 16) && (!beta || aligned(beta, 16));
}

template <class X, class P, class Y>
void launch_dyt_forward(const X* x, const P* alpha, const P* gamma, const P* beta, Y* y, int64_t rows, int64_t cols) {
  int64_t n = rows * cols;
  if (n == 0) return;
  if constexpr (std::is_same_v<P, float>) {
    if (fits_vec4(cols, x, y, gamma, beta)) {
      dyt_forward_vec4<<<grid_for(n / 4), kThreads, 0, stream()>>>(x, alpha, reinterpret_cast<const float4*>(gamma),
                                                      reinterpret_cast<const float4*>(beta), y, n / 4, cols / 4);
      DYT_CUDA_LAUNCHED();
      return;
    }
  }
  dyt_forward_any<<<grid_for(n), kThreads, 0, stream()>>>(x, alpha, gamma, beta, y, n, cols);
  DYT_CUDA_LAUNCHED();
}

template <class X, class P, class Y>
void launch_dyt_backward(const X* x, const P* alpha, const P* gamma, const Y* dy, X* dx, P* dalpha, P* dgamma, P* dbeta,
                         int64_t rows, int64_t cols) {
  bool vec4 = fits_vec4(cols, x, dy, gamma, static_cast<const P*>(nullptr)) && aligned(dx, 4 * sizeof(X));
  int64_t per_thread = vec4 ? 4 : 1;
  int threads = row_threads((cols + per_thread - 1) / per_thread);
  unsigned tiles = unsigned((cols + per_thread * threads - 1) / (per_thread * threads));
  int64_t blocks = 1;
  if (rows > 0) {
    if constexpr (std::is_same_v<P, float>)
      blocks = vec4 ? row_blocks_for(dyt_backward_vec4<X, Y>, rows, threads, tiles)
                    : row_blocks_for(dyt_backward_any<X, P, Y>, rows, threads, tiles);
    else
      blocks = row_blocks_for(dyt_backward_any<X, P, Y>, rows, threads, tiles);
  }
  int64_t rows_per_block = std::max<int64_t>(1, (rows + blocks - 1) / blocks);
  blocks = rows == 0 ? 1 : (rows + rows_per_block - 1) / rows_per_block;
  P* partials = static_cast<P*>(allocate(sizeof(P) * size_t(2 * blocks * cols + blocks * tiles)));
  P *partial_gamma = partials, *partial_beta = partials + blocks * cols, *partial_alpha = partials + 2 * blocks * cols;
  dim3 grid(unsigned(blocks), tiles);
  if constexpr (std::is_same_v<P, float>) {
    if (vec4)
      dyt_backward_vec4<<<grid, threads, 0, stream()>>>(x, alpha, gamma, dy, dx, partial_gamma, partial_beta, partial_alpha, rows,
                                           cols, rows_per_block);
  }
  if (!vec4)
    dyt_backward_any<<<grid, threads, 0, stream()>>>(x, alpha, gamma, dy, dx, partial_gamma, partial_beta, partial_alpha, rows, cols,
                                        rows_per_block);
  DYT_CUDA_LAUNCHED();
  PartialSums<P> sums{{partial_gamma, partial_beta, partial_alpha}, {dgamma, dbeta, dalpha}, {blocks, blocks, blocks * tiles},
                      {cols, cols, 1}};
  sum_column_partials(sums, 3);
  release(partials);
}

}  // namespace

template <class T>
void dyt_forward(const T* x, const T* alpha, const T* gamma, const T* beta, T* y, int64_t rows, int64_t cols) {
  launch_dyt_forward(x, alpha, gamma, beta, y, rows, cols);
}

template <class X>
void dyt_forward(const X* x, const float* alpha, const float* gamma, const float* beta, bfloat16* y, int64_t rows,
                 int64_t cols) {
  launch_dyt_forward(x, alpha, gamma, beta, y, rows, cols);
}

template <class T>
void add_dyt_forward(const T* x, const T* y, const T* alpha, const T* gamma, const T* beta, T* sum, T* out,
                     int64_t rows, int64_t cols) {
  int64_t n = rows * cols;
  if (n == 0) return;
  add_dyt_forward_any<<<grid_for(n), kThreads, 0, stream()>>>(x, y, alpha, gamma, beta, sum, out, n, cols);
  DYT_CUDA_LAUNCHED();
}

template <class T>
void dyt_backward(const T* x, const T* alpha, const T* gamma, const T* dy, T* dx, T* dalpha, T* dgamma, T* dbeta,
                  int64_t rows, int64_t cols) {
  launch_dyt_backward(x, alpha, gamma, dy, dx, dalpha, dgamma, dbeta, rows, cols);
}

template <class X>
void dyt_backward(const X* x, const float* alpha, const float* gamma, const bfloat16* dy, X* dx, float* dalpha,
                  float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  launch_dyt_backward(x, alpha, gamma, dy, dx, dalpha, dgamma, dbeta, rows, cols);
}

template void dyt_forward<float>(const float*, const float*, const float*, const float*, float*, int64_t, int64_t);
template void dyt_forward<double>(const double*, const double*, const double*, const double*, double*, int64_t, int64_t);
template void add_dyt_forward<float>(const float*, const float*, const float*, const float*, const float*, float*,
                                     float*, int64_t, int64_t);
template void add_dyt_forward<double>(const double*, const double*, const double*, const double*, const double*,
                                      double*, double*, int64_t, int64_t);
template void dyt_backward<float>(const float*, const float*, const float*, const float*, float*, float*, float*, float*,
                                  int64_t, int64_t);
template void dyt_backward<double>(const double*, const double*, const double*, const double*, double*, double*, double*,
                                   double*, int64_t, int64_t);

// Mixed precision: bfloat16 or float32 x, bfloat16 y and dy.
template void dyt_forward<bfloat16>(const bfloat16*, const float*, const float*, const float*, bfloat16*, int64_t, int64_t);
template void dyt_forward<float>(const float*, const float*, const float*, const float*, bfloat16*, int64_t, int64_t);
template void dyt_backward<bfloat16>(const bfloat16*, const float*, const float*, const bfloat16*, bfloat16*, float*,
                                     float*, float*, int64_t, int64_t);
template void dyt_backward<float>(const float*, const float*, const float*, const bfloat16*, float*, float*, float*,
                                  float*, int64_t, int64_t);

}  // namespace dytgrad::kernels::cuda
