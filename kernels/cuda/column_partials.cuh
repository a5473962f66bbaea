// The second level of the deterministic parameter-gradient reductions (dgamma, dbeta, dalpha):
// the backward kernels write one partial sum per (row block, column); this sums them over the row
// blocks. A block of 32 x 32 threads takes 32 columns: thread (x, y) sums partial rows y, y + 32,
// ... of column x (reads coalesced across x), then row y = 0 adds the 32 results in order.
// Fixed order throughout: deterministic. Accumulates in double.
#pragma once
#include <cstdint>

#include "launch.cuh"

namespace dytgrad::kernels::cuda {

// Up to three reductions in one launch (blockIdx.y picks which): dgamma, dbeta and dalpha of one
// backward cost one launch, not three.
template <class T> struct PartialSums {
  const T* partials[3];
  T* out[3];
  int64_t blocks[3], cols[3];
};

template <class T> __global__ void column_partials_sum(PartialSums<T> sums_in) {
  __shared__ double sums[32][33];
  const T* __restrict__ partials = sums_in.partials[blockIdx.y];
  T* __restrict__ out = sums_in.out[blockIdx.y];
  int64_t blocks = sums_in.blocks[blockIdx.y], cols = sums_in.cols[blockIdx.y];
  int64_t c = int64_t(blockIdx.x) * 32 + threadIdx.x;
  if (int64_t(blockIdx.x) * 32 >= cols) return;  // whole block past this reduction's columns
  double acc = 0;
  if (c < cols)
    for (int64_t b = threadIdx.y; b < blocks; b += 32) acc += double(partials[b * cols + c]);
  sums[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    double total = 0;
    for (int y = 0; y < 32; ++y) total += sums[y][threadIdx.x];
    out[c] = T(total);
  }
}

template <class T> void sum_column_partials(const PartialSums<T>& sums, int count) {
  int64_t widest = 1;
  for (int i = 0; i < count; ++i) widest = std::max(widest, sums.cols[i]);
  column_partials_sum<<<dim3(unsigned((widest + 31) / 32), unsigned(count)), dim3(32, 32), 0, stream()>>>(sums);
  DYT_CUDA_LAUNCHED();
}

// How many row blocks a backward kernel that walks rows in chunks should use: exactly one full wave
// of `kernel` (as many blocks as fit on all multiprocessors at once, by the occupancy calculator),
// shared among `tiles` column tiles, and no more than there are rows. One wave means no tail, and
// the fewest partial rows to sum afterwards.
template <class Kernel> int64_t row_blocks_for(Kernel kernel, int64_t rows, int threads, int64_t tiles = 1) {
  int per_sm = 0;
  DYT_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0));
  int64_t wave = int64_t(multiprocessor_count()) * std::max(1, per_sm);
  return std::max<int64_t>(1, std::min(rows, wave / tiles));
}

}  // namespace dytgrad::kernels::cuda
