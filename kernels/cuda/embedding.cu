// Embedding on the GPU.
// Forward: one block per looked-up row copies `dim` values. Traffic: read count*dim, write count*dim.
// Backward, deterministic without float atomics: sort (index, position) pairs by index with a
// stable radix sort (CUB), so that the positions of each vocabulary row are contiguous and in
// increasing order; then one block per distinct index sums its rows in that order and writes the
// weight row once; the whole table is zeroed first (rows never looked up stay 0). Traffic: read
// the count indices (and write and read them sorted, with their positions), read count*dim
// gradient values, write vocab*dim (the zeroing) and distinct*dim (the sums).
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/launch.cuh"
#include "kernels/embedding.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

template <class T>
__global__ void embedding_forward_kernel(const T* weight, const int64_t* index, T* out, int64_t vocab, int64_t dim,
                                         unsigned long long* bad) {
  int64_t i = blockIdx.x, row = index[i];
  if (row < 0 || row >= vocab) {
    if (threadIdx.x == 0) atomicMin(bad, static_cast<unsigned long long>(i));
    return;
  }
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) out[i * dim + c] = weight[row * dim + c];
}

// Block p handles the run of equal sorted indices that starts at p (others exit at once).
template <class T>
__global__ void embedding_backward_kernel(const T* dout, const int64_t* sorted_index, const int64_t* sorted_position,
                                          T* dweight, int64_t count, int64_t dim) {
  int64_t p = blockIdx.x;
  int64_t row = sorted_index[p];
  if (p > 0 && sorted_index[p - 1] == row) return;
  int64_t end = p;
  while (end < count && sorted_index[end] == row) ++end;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    T acc = 0;
    for (int64_t q = p; q < end; ++q) acc += dout[sorted_position[q] * dim + c];
    dweight[row * dim + c] = acc;
  }
}

__global__ void iota_kernel(int64_t* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) y[i] = i;
}

}  // namespace

template <class T>
int64_t embedding_forward(const T* weight, const int64_t* index, T* out, int64_t count, int64_t vocab, int64_t dim) {
  if (count == 0) return -1;
  FirstBadPosition first_bad;
  embedding_forward_kernel<<<unsigned(count), row_threads(dim), 0, stream()>>>(
      weight, index, out, vocab, dim, first_bad.device());
  DYT_CUDA_LAUNCHED();
  return first_bad.read();
}

template <class T>
void embedding_backward(const T* dout, const int64_t* index, T* dweight, int64_t count, int64_t vocab, int64_t dim) {
  DYT_CUDA_CHECK(cudaMemsetAsync(dweight, 0, size_t(vocab * dim) * sizeof(T), stream()));
  if (count == 0) return;
  size_t bytes = size_t(count) * sizeof(int64_t);
  auto* positions = static_cast<int64_t*>(allocate(bytes));
  auto* sorted_index = static_cast<int64_t*>(allocate(bytes));
  auto* sorted_position = static_cast<int64_t*>(allocate(bytes));
  iota_kernel<<<grid_for(count), kThreads, 0, stream()>>>(positions, count);
  DYT_CUDA_LAUNCHED();
  int end_bit = 1;
  while (end_bit < 63 && (int64_t(1) << end_bit) < vocab) ++end_bit;
  size_t temp_bytes = 0;
  DYT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, index, sorted_index, positions, sorted_position,
                                                 count, 0, end_bit, stream()));
  void* temp = allocate(temp_bytes);
  DYT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, index, sorted_index, positions, sorted_position,
                                                 count, 0, end_bit, stream()));
  embedding_backward_kernel<<<unsigned(count), row_threads(dim), 0, stream()>>>(
      dout, sorted_index, sorted_position, dweight, count, dim);
  DYT_CUDA_LAUNCHED();
  for (void* p : {static_cast<void*>(positions), static_cast<void*>(sorted_index), static_cast<void*>(sorted_position), temp})
    release(p);
}

template int64_t embedding_forward<float>(const float*, const int64_t*, float*, int64_t, int64_t, int64_t);
template int64_t embedding_forward<double>(const double*, const int64_t*, double*, int64_t, int64_t, int64_t);
template void embedding_backward<float>(const float*, const int64_t*, float*, int64_t, int64_t, int64_t);
template void embedding_backward<double>(const double*, const int64_t*, double*, int64_t, int64_t, int64_t);

}  // namespace dytgrad::kernels::cuda
