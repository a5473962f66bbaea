// Launch-shape helpers and the reductions every row kernel uses. Reductions are trees of fixed
// shape (warp shuffles, then one warp over the warps' results), so results are deterministic.
#pragma once
#include <cstdint>

#include "check.cuh"

namespace dytgrad::kernels::cuda {

constexpr int kThreads = 256;

// The stream every kernel, asynchronous copy and library call is issued on: the legacy default
// stream, except while a CUDA graph is captured (kernels/cuda/graph.cu), when it is the capture
// stream, which replays also use. That stream is created blocking, so work on it and on the legacy
// stream stays in order.
cudaStream_t stream();

inline int multiprocessor_count() {
  static int count = [] {
    int device = 0, n = 0;
    DYT_CUDA_CHECK(cudaGetDevice(&device));
    DYT_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
    return n;
  }();
  return count;
}

// Blocks for a grid-stride loop over n items: enough to fill the GPU, no more than needed.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t wanted = (n + threads - 1) / threads;
  int64_t cap = int64_t(multiprocessor_count()) * (2048 / threads) * 4;
  return unsigned(std::max<int64_t>(1, std::min(wanted, cap)));
}

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ inline double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <class T> __device__ inline T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `scratch` is 32 elements of shared memory; the call syncs so it can be reused right after.
template <class T> __device__ inline T block_sum(T v, T* scratch) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(0);
  return warp_sum(v);
}

// p[0, n) summed by one block in a fixed order (thread t adds p[t], p[t + blockDim.x], ..., then
// block_sum): the partial sums of a multi-block reduction, deterministic. Every thread gets it.
__device__ inline double block_sum_of(const double* p, int64_t n, double* scratch) {
  double sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += p[i];
  return block_sum(sum, scratch);
}

template <class T> __device__ inline T block_max(T v, T* scratch) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(-INFINITY);
  return warp_max(v);
}

// The online softmax statistics: a running max m and sum s of exp(x - m), updated one value at a
// time (s = s e^(m - m') + e^(x - m') when the max grows), then merged across the block. One read of
// the row gives its logsumexp = max + log(sum).
template <class T> __device__ inline void online_add(T& m, T& s, T v) {
  if (v > m) {
    s = s * exp(m - v) + T(1);
    m = v;
  } else {
    s += exp(v - m);
  }
}

// Merges every thread's (m, s); all threads get the row's max and sum. scratch: 32 shared elements.
template <class T> __device__ inline void online_merge(T& m, T& s, T* scratch) {
  T row_max = block_max(m, scratch);
  s = block_sum(m == T(-INFINITY) ? T(0) : s * exp(m - row_max), scratch);
  m = row_max;
}

// A device-side "first bad position" for kernels that validate indices (embedding, cross-entropy
// targets): kernels atomicMin the offending position into it (integer min: the result does not
// depend on the order), and the host reads it back once. While a CUDA graph is captured, read()
// hands the flag to the graph, which reads it after each replay (kernels/graph.h).
class FirstBadPosition {
 public:
  FirstBadPosition();
  ~FirstBadPosition();
  unsigned long long* device() const { return flag_; }
  int64_t read();  // -1 if no kernel reported one
 private:
  unsigned long long* flag_;
};

// Threads for a block that walks one row of `cols` elements: a multiple of 32, at most kThreads.
inline int row_threads(int64_t cols) {
  int64_t t = (cols + 31) / 32 * 32;
  return int(std::max<int64_t>(32, std::min<int64_t>(t, kThreads)));
}

}  // namespace dytgrad::kernels::cuda
