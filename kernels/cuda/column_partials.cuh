// The second level of the deterministic parameter-gradient reductions (dgamma, dbeta, dalpha):
// the backward kernels write one partial sum per (row block, column); this sums them over the row
// blocks in a fixed order, one thread per column, coalesced across columns.
#pragma once
#include <cstdint>

#include "kernels/cuda/launch.cuh"

namespace dytgrad::kernels::cuda {

template <class T>
__global__ void column_partials_sum(const T* __restrict__ partials, T* __restrict__ out, int64_t blocks, int64_t cols) {
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < cols; c += int64_t(gridDim.x) * blockDim.x) {
    T acc = 0;
    for (int64_t b = 0; b < blocks; ++b) acc += partials[b * cols + c];
    out[c] = acc;
  }
}

template <class T> void sum_column_partials(const T* partials, T* out, int64_t blocks, int64_t cols) {
  column_partials_sum<<<grid_for(cols), kThreads>>>(partials, out, blocks, cols);
  DYT_CUDA_LAUNCHED();
}

// How many blocks a backward kernel that walks rows in chunks should use: enough to fill every
// multiprocessor, no more than there are rows.
inline int64_t row_blocks_for(int64_t rows, int threads) {
  int64_t resident = int64_t(multiprocessor_count()) * std::max(1, 2048 / threads);
  return std::max<int64_t>(1, std::min(rows, resident));
}

}  // namespace dytgrad::kernels::cuda
