// Softmax and log-softmax over the last dim, one block per row.
// Forward:  m = max(x), s = sum exp(x - m), y = exp(x - m) / s  (log: y = x - m - log s).
//   Traffic: read x once, write y once (2 passes over memory); the row stays in registers.
// Backward: softmax dx = y (dy - sum(dy y)); log_softmax dx = dy - exp(y) sum(dy).
//   Traffic: read y and dy once, write dx once (3 passes).
// Rows that do not fit in registers (or double) loop over global memory instead, with an online
// max and sum (one read for the statistics, one to write).
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/row_vector.cuh"
#include "kernels/softmax.h"

namespace dytgrad::kernels::cuda {

namespace {

template <int K> __global__ void softmax_forward_rows(const float* x, float* y, int64_t cols, bool log) {
  __shared__ float scratch[32];
  const float4* xr = reinterpret_cast<const float4*>(x + blockIdx.x * cols);
  float4* yr = reinterpret_cast<float4*>(y + blockIdx.x * cols);
  int n4 = int(cols / 4);
  float4 v[K];
  float m = -INFINITY;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    int j = threadIdx.x + k * blockDim.x;
    v[k] = j < n4 ? xr[j] : make_float4(-INFINITY, -INFINITY, -INFINITY, -INFINITY);
    m = fmaxf(m, max4(v[k]));
  }
  m = block_max(m, scratch);
  float s = 0;
#pragma unroll
  for (int k = 0; k < K; ++k)
    if (threadIdx.x + k * blockDim.x < n4)
      s += (expf(v[k].x - m) + expf(v[k].y - m)) + (expf(v[k].z - m) + expf(v[k].w - m));
  s = block_sum(s, scratch);
  float lse = m + logf(s), inv = 1.f / s;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    int j = threadIdx.x + k * blockDim.x;
    if (j >= n4) continue;
    float4 o = v[k];
    if (log) o = make_float4(o.x - lse, o.y - lse, o.z - lse, o.w - lse);
    else o = make_float4(expf(o.x - m) * inv, expf(o.y - m) * inv, expf(o.z - m) * inv, expf(o.w - m) * inv);
    yr[j] = o;
  }
}

template <int K> __global__ void softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t cols, bool log) {
  __shared__ float scratch[32];
  int64_t base = blockIdx.x * cols;
  const float4 *yr = reinterpret_cast<const float4*>(y + base), *gr = reinterpret_cast<const float4*>(dy + base);
  float4* dr = reinterpret_cast<float4*>(dx + base);
  int n4 = int(cols / 4);
  float4 yv[K], gv[K];
  float s = 0;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    int j = threadIdx.x + k * blockDim.x;
    if (j >= n4) continue;
    yv[k] = yr[j];
    gv[k] = gr[j];
    s += log ? sum4(gv[k]) : (gv[k].x * yv[k].x + gv[k].y * yv[k].y) + (gv[k].z * yv[k].z + gv[k].w * yv[k].w);
  }
  s = block_sum(s, scratch);
#pragma unroll
  for (int k = 0; k < K; ++k) {
    int j = threadIdx.x + k * blockDim.x;
    if (j >= n4) continue;
    float4 a = yv[k], g = gv[k];
    dr[j] = log ? make_float4(g.x - expf(a.x) * s, g.y - expf(a.y) * s, g.z - expf(a.z) * s, g.w - expf(a.w) * s)
                : make_float4(a.x * (g.x - s), a.y * (g.y - s), a.z * (g.z - s), a.w * (g.w - s));
  }
}

// Any type and length: two reads of the row. The first keeps a running (max, sum of exp) per thread
// (the online softmax recurrence: s = s e^(m - m') + e^(x - m')), merged across the block; the
// second writes y.
template <class T> __global__ void softmax_forward_any(const T* x, T* y, int64_t cols, bool log) {
  __shared__ T scratch[32];
  const T* xr = x + blockIdx.x * cols;
  T* yr = y + blockIdx.x * cols;
  T m = -INFINITY, s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) online_add(m, s, xr[c]);
  online_merge(m, s, scratch);
  T lse = m + ::log(s);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = log ? xr[c] - lse : exp(xr[c] - lse);
}

template <class T> __global__ void softmax_backward_any(const T* y, const T* dy, T* dx, int64_t cols, bool log) {
  __shared__ T scratch[32];
  int64_t base = blockIdx.x * cols;
  T s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += log ? dy[base + c] : dy[base + c] * y[base + c];
  s = block_sum(s, scratch);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    dx[base + c] = log ? dy[base + c] - exp(y[base + c]) * s : y[base + c] * (dy[base + c] - s);
}

}  // namespace

template <class T> void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  if constexpr (std::is_same_v<T, float>) {
    int threads = row_threads(cols / 4), k = chunks_per_thread(cols, threads);
    if (k > 0 && row_vectorizable(cols, x) && row_vectorizable(cols, y)) {
      with_chunks(k, [&](auto chunks) {
        softmax_forward_rows<decltype(chunks)::value><<<unsigned(rows), threads, 0, stream()>>>(x, y, cols, log);
      });
      DYT_CUDA_LAUNCHED();
      return;
    }
  }
  softmax_forward_any<<<unsigned(rows), row_threads(cols), 0, stream()>>>(x, y, cols, log);
  DYT_CUDA_LAUNCHED();
}

template <class T> void softmax_backward(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols, bool log) {
  if constexpr (std::is_same_v<T, float>) {
    int threads = row_threads(cols / 4), k = chunks_per_thread(cols, threads);
    if (k > 0 && row_vectorizable(cols, y) && row_vectorizable(cols, dy) && row_vectorizable(cols, dx)) {
      with_chunks(k, [&](auto chunks) {
        softmax_backward_rows<decltype(chunks)::value><<<unsigned(rows), threads, 0, stream()>>>(y, dy, dx, cols, log);
      });
      DYT_CUDA_LAUNCHED();
      return;
    }
  }
  softmax_backward_any<<<unsigned(rows), row_threads(cols), 0, stream()>>>(y, dy, dx, cols, log);
  DYT_CUDA_LAUNCHED();
}

template void softmax_forward<float>(const float*, float*, int64_t, int64_t, bool);
template void softmax_forward<double>(const double*, double*, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t, bool);

}  // namespace dytgrad::kernels::cuda
