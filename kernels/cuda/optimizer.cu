// CUDA AdamW as a multi-tensor launch: up to 48 tensors' pointers travel in the kernel's parameters;
// the work is cut into chunks of 4096 elements and block b finds its tensor from the chunk offsets.
// Traffic per element: read p, g, m, v; write p, m, v (7 passes), one launch per 48 tensors.
#include "kernels/adamw_math.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/optimizer.h"

namespace dytgrad::kernels::cuda {

namespace {

constexpr int64_t kChunk = 4096;

struct AdamWBatch {
  AdamWTensor tensors[kAdamWTensorsPerLaunch];
  int64_t first_chunk[kAdamWTensorsPerLaunch + 1];  // chunk offsets: tensor t owns [first_chunk[t], first_chunk[t+1])
  int count;
};

template <class T> __global__ void adamw_kernel(AdamWBatch batch, AdamWHyper h) {
  int64_t chunk = blockIdx.x;
  int t = 0;
  while (t + 1 < batch.count && batch.first_chunk[t + 1] <= chunk) ++t;
  const AdamWTensor& a = batch.tensors[t];
  int64_t begin = (chunk - batch.first_chunk[t]) * kChunk, end = min(a.numel, begin + kChunk);
  T *p = static_cast<T*>(a.param), *m = static_cast<T*>(a.exp_avg), *v = static_cast<T*>(a.exp_avg_sq);
  const T* g = static_cast<const T*>(a.grad);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T pi = p[i], mi = m[i], vi = v[i];
    adamw_element(pi, g[i], mi, vi, h, a.weight_decay);
    p[i] = pi, m[i] = mi, v[i] = vi;
  }
}

}  // namespace

template <class T> void adamw_step(const AdamWTensor* tensors, int count, const AdamWHyper& h) {
  for (int start = 0; start < count; start += kAdamWTensorsPerLaunch) {
    AdamWBatch batch{};
    batch.count = std::min(kAdamWTensorsPerLaunch, count - start);
    for (int t = 0; t < batch.count; ++t) {
      batch.tensors[t] = tensors[start + t];
      batch.first_chunk[t + 1] = batch.first_chunk[t] + (tensors[start + t].numel + kChunk - 1) / kChunk;
    }
    int64_t chunks = batch.first_chunk[batch.count];
    if (chunks == 0) continue;
    adamw_kernel<T><<<unsigned(chunks), kThreads>>>(batch, h);
    DYT_CUDA_LAUNCHED();
  }
}

template void adamw_step<float>(const AdamWTensor*, int, const AdamWHyper&);
template void adamw_step<double>(const AdamWTensor*, int, const AdamWHyper&);

}  // namespace dytgrad::kernels::cuda
