// CUDA AdamW and the sum of squares as multi-tensor launches: up to 48 tensors' pointers travel in
// the kernel's parameters; the work is cut into chunks and block b finds its tensor from the chunk
// offsets.
// AdamW: chunks of 4096 elements; traffic per element: read p, g, m, v; write p, m, v (7 passes),
// one launch per 48 tensors. The clipping step also reads the squared norm (8 bytes) in every block,
// and, for a captured step, the hyperparameters (48 bytes).
// Sum of squares: chunks of kSquaresChunk elements, one block each, summing in double (each thread
// its strided elements, then the block's fixed tree) into partials[chunk]; then one block sums the
// partials (each thread a fixed stride of them, then the tree) into *total. No atomics: the same bits
// every run. Traffic: every element read once (4 or 8 bytes), 8 bytes a chunk written and read back;
// one launch per 48 tensors, plus one.
#include "kernels/adamw_math.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/optimizer.h"

namespace dytgrad::kernels::cuda {

namespace {

constexpr int64_t kChunk = 4096;

struct AdamWBatch {
  AdamWTensor tensors[kTensorsPerLaunch];
  int64_t first_chunk[kTensorsPerLaunch + 1];  // chunk offsets: tensor t owns [first_chunk[t], first_chunk[t+1])
  int count;
};

// kClipped: each thread reads the squared norm once (one 8-byte broadcast per block) and scales g.
// hyper_on_device: the hyperparameters read from device memory (a captured step's) instead of h.
template <class T, bool kClipped>
__global__ void adamw_kernel(AdamWBatch batch, AdamWHyper host_hyper, const AdamWHyper* hyper_on_device, GradClip clip) {
  const AdamWHyper h = hyper_on_device ? *hyper_on_device : host_hyper;
  T scale = T(1);
  if constexpr (kClipped) scale = T(clip_factor(*clip.sq_norm, clip.max_norm));
  int64_t chunk = blockIdx.x;
  int t = 0;
  while (t + 1 < batch.count && batch.first_chunk[t + 1] <= chunk) ++t;
  const AdamWTensor& a = batch.tensors[t];
  int64_t begin = (chunk - batch.first_chunk[t]) * kChunk, end = min(a.numel, begin + kChunk);
  T *p = static_cast<T*>(a.param), *m = static_cast<T*>(a.exp_avg), *v = static_cast<T*>(a.exp_avg_sq);
  const T* g = static_cast<const T*>(a.grad);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T pi = p[i], gi = g[i], mi = m[i], vi = v[i];
    if constexpr (kClipped) gi = gi * scale;
    adamw_element(pi, gi, mi, vi, h, a.weight_decay);
    p[i] = pi, m[i] = mi, v[i] = vi;
  }
}

struct SquaresBatch {
  SquaresTensor tensors[kTensorsPerLaunch];
  int64_t first_chunk[kTensorsPerLaunch + 1];
  int count;
};

template <class T> __global__ void squares_kernel(SquaresBatch batch, double* partials) {
  __shared__ double scratch[32];
  int64_t chunk = blockIdx.x;
  int t = 0;
  while (t + 1 < batch.count && batch.first_chunk[t + 1] <= chunk) ++t;
  const SquaresTensor& a = batch.tensors[t];
  int64_t begin = (chunk - batch.first_chunk[t]) * kSquaresChunk, end = min(a.numel, begin + kSquaresChunk);
  const T* x = static_cast<const T*>(a.data);
  double sum = 0;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) sum += double(x[i]) * double(x[i]);
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) partials[chunk] = sum;
}

__global__ void sum_partials_kernel(const double* partials, int64_t n, double* total) {
  __shared__ double scratch[32];
  double sum = block_sum_of(partials, n, scratch);
  if (threadIdx.x == 0) *total = sum;
}

}  // namespace

template <class T> void sum_of_squares(const SquaresTensor* tensors, int count, double* partials, double* total) {
  int64_t done = 0;  // chunks of the launches before
  for (int start = 0; start < count; start += kTensorsPerLaunch) {
    SquaresBatch batch{};
    batch.count = std::min(kTensorsPerLaunch, count - start);
    for (int t = 0; t < batch.count; ++t) {
      batch.tensors[t] = tensors[start + t];
      batch.first_chunk[t + 1] = batch.first_chunk[t] + (tensors[start + t].numel + kSquaresChunk - 1) / kSquaresChunk;
    }
    int64_t chunks = batch.first_chunk[batch.count];
    if (chunks == 0) continue;
    squares_kernel<T><<<unsigned(chunks), kThreads, 0, stream()>>>(batch, partials + done);
    DYT_CUDA_LAUNCHED();
    done += chunks;
  }
  sum_partials_kernel<<<1, 1024, 0, stream()>>>(partials, done, total);
  DYT_CUDA_LAUNCHED();
}

namespace {

template <class T, bool kClipped>
void adamw_launches(const AdamWTensor* tensors, int count, const AdamWHyper& h, const AdamWHyper* hyper_on_device,
                    const GradClip& clip) {
  for (int start = 0; start < count; start += kTensorsPerLaunch) {
    AdamWBatch batch{};
    batch.count = std::min(kTensorsPerLaunch, count - start);
    for (int t = 0; t < batch.count; ++t) {
      batch.tensors[t] = tensors[start + t];
      batch.first_chunk[t + 1] = batch.first_chunk[t] + (tensors[start + t].numel + kChunk - 1) / kChunk;
    }
    int64_t chunks = batch.first_chunk[batch.count];
    if (chunks == 0) continue;
    adamw_kernel<T, kClipped><<<unsigned(chunks), kThreads, 0, stream()>>>(batch, h, hyper_on_device, clip);
    DYT_CUDA_LAUNCHED();
  }
}

}  // namespace

template <class T> void adamw_step(const AdamWTensor* tensors, int count, const AdamWHyper& h) {
  adamw_launches<T, false>(tensors, count, h, nullptr, GradClip{nullptr, 0});
}

template <class T>
void adamw_step_clipped(const AdamWTensor* tensors, int count, const AdamWHyper& h, const GradClip& clip) {
  adamw_launches<T, true>(tensors, count, h, nullptr, clip);
}

template <class T>
void adamw_step_clipped(const AdamWTensor* tensors, int count, const AdamWHyper* h, const GradClip& clip) {
  adamw_launches<T, true>(tensors, count, AdamWHyper{}, h, clip);
}

template void adamw_step<float>(const AdamWTensor*, int, const AdamWHyper&);
template void adamw_step<double>(const AdamWTensor*, int, const AdamWHyper&);
template void adamw_step_clipped<float>(const AdamWTensor*, int, const AdamWHyper&, const GradClip&);
template void adamw_step_clipped<double>(const AdamWTensor*, int, const AdamWHyper&, const GradClip&);
template void adamw_step_clipped<float>(const AdamWTensor*, int, const AdamWHyper*, const GradClip&);
template void adamw_step_clipped<double>(const AdamWTensor*, int, const AdamWHyper*, const GradClip&);
template void sum_of_squares<float>(const SquaresTensor*, int, double*, double*);
template void sum_of_squares<double>(const SquaresTensor*, int, double*, double*);

}  // namespace dytgrad::kernels::cuda
