// CUDA random kernels: the same counter-based function of (seed, offset + i) as the CPU, computed
// in double, so both backends give the same numbers. Writes n elements, reads nothing.
#include "kernels/cuda/launch.cuh"
#include "kernels/random.h"
#include "kernels/random_bits.h"

namespace dytgrad::kernels::cuda {

namespace {

template <class T> __global__ void uniform_kernel(T* y, int64_t n, uint64_t seed, uint64_t offset, double low, double high) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = T(low + (high - low) * random_uniform(seed, offset + uint64_t(i)));
}

template <class T> __global__ void normal_kernel(T* y, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = T(mean + std * random_normal(seed, offset + uint64_t(i)));
}

__global__ void randint_kernel(int64_t* y, int64_t n, uint64_t seed, uint64_t offset, int64_t low, uint64_t range) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = low + int64_t(random_bits(seed, offset + uint64_t(i)) % range);
}

template <class T> __global__ void dropout_kernel(T* y, int64_t n, uint64_t seed, uint64_t offset, double p) {
  T keep = T(1.0 / (1.0 - p));
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = random_uniform(seed, offset + uint64_t(i)) < p ? T(0) : keep;
}

}  // namespace

template <class T> void uniform(T* y, int64_t n, uint64_t seed, uint64_t offset, double low, double high) {
  uniform_kernel<<<grid_for(n), kThreads, 0, stream()>>>(y, n, seed, offset, low, high);
  DYT_CUDA_LAUNCHED();
}

template <class T> void normal(T* y, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  normal_kernel<<<grid_for(n), kThreads, 0, stream()>>>(y, n, seed, offset, mean, std);
  DYT_CUDA_LAUNCHED();
}

void randint(int64_t* y, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high) {
  randint_kernel<<<grid_for(n), kThreads, 0, stream()>>>(y, n, seed, offset, low, uint64_t(high - low));
  DYT_CUDA_LAUNCHED();
}

template <class T> void dropout_mask(T* y, int64_t n, uint64_t seed, uint64_t offset, double p) {
  dropout_kernel<<<grid_for(n), kThreads, 0, stream()>>>(y, n, seed, offset, p);
  DYT_CUDA_LAUNCHED();
}

template void uniform<float>(float*, int64_t, uint64_t, uint64_t, double, double);
template void uniform<double>(double*, int64_t, uint64_t, uint64_t, double, double);
template void normal<float>(float*, int64_t, uint64_t, uint64_t, double, double);
template void normal<double>(double*, int64_t, uint64_t, uint64_t, double, double);
template void dropout_mask<float>(float*, int64_t, uint64_t, uint64_t, double);
template void dropout_mask<double>(double*, int64_t, uint64_t, uint64_t, double);

}  // namespace dytgrad::kernels::cuda
