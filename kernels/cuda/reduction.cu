// CUDA reductions over the middle dim of [outer, reduce, inner].
//  inner == 1 (reducing the last dim): one block per output, threads stride along the row and a
//    block_sum finishes; reads each element once.
//  inner > 1, long reduce (bias gradients: [tokens, width] summed over tokens): a block of 32 x 32
//    threads per (32 columns, o); thread (x, y) sums rows y, y + 32, ... of its column (coalesced
//    across x), then row y = 0 adds the 32 partial sums in order. Reads each element once.
//  inner > 1, short reduce: one thread per output (o, i) walks r (coalesced across i).
//  sum_long_rows (a few rows, each of 4 chunks of 16K or more; a whole tensor summed to one value):
//    block (c, o) sums chunk c of row o into a double partial, then one block per row adds its
//    partials in order. Reads each element once, plus 8 bytes a chunk written and read back; two
//    launches, where one block per row would keep one SM busy for the whole row.
// Sums accumulate in double (as the CPU does), in a fixed order: deterministic, and as accurate as
// the CPU reference on long, badly conditioned sums. bfloat16 elements are widened as read and the
// result rounded once through float32, as on the CPU (2 bytes an element read).
#include <type_traits>

#include "kernels/bfloat16.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/reduction.h"

namespace dytgrad::kernels::cuda {

namespace {

// A sum's result stored in T: through float32 for bfloat16 (as a float32 sum rounded).
template <class T> __device__ T stored(double sum) {
  if constexpr (std::is_same_v<T, bfloat16>) return bfloat16::from_float(float(sum));
  else return T(sum);
}

template <class T> __global__ void sum_rows_kernel(const T* x, T* y, int64_t reduce, double scale) {
  __shared__ double scratch[32];
  const T* row = x + blockIdx.x * reduce;
  double acc = 0;
  for (int64_t r = threadIdx.x; r < reduce; r += blockDim.x) acc += element_cast<double>(row[r]);
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) y[blockIdx.x] = stored<T>(acc * scale);
}

// sum_long_rows, first pass: block (c, o) sums chunk c of row o in double.
template <class T> __global__ void sum_chunks_kernel(const T* x, double* partials, int64_t reduce) {
  __shared__ double scratch[32];
  int64_t o = blockIdx.y, c = blockIdx.x, begin = c * kLongRowChunk, end = min(reduce, begin + kLongRowChunk);
  const T* row = x + o * reduce;
  double acc = 0;
  for (int64_t r = begin + threadIdx.x; r < end; r += blockDim.x) acc += element_cast<double>(row[r]);
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) partials[o * gridDim.x + c] = acc;
}

// Second pass: block o adds row o's partials in order.
template <class T> __global__ void sum_row_partials_kernel(const double* partials, int64_t chunks, T* y, double scale) {
  __shared__ double scratch[32];
  double total = block_sum_of(partials + blockIdx.x * chunks, chunks, scratch);
  if (threadIdx.x == 0) y[blockIdx.x] = stored<T>(total * scale);
}

template <class T> __global__ void sum_columns_kernel(const T* x, T* y, int64_t outer, int64_t reduce, int64_t inner, double scale) {
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < outer * inner; k += int64_t(gridDim.x) * blockDim.x) {
    int64_t o = k / inner, i = k % inner;
    const T* p = x + o * reduce * inner + i;
    double acc = 0;
    for (int64_t r = 0; r < reduce; ++r) acc += element_cast<double>(p[r * inner]);
    y[k] = stored<T>(acc * scale);
  }
}

template <class T> __global__ void sum_columns_tiled(const T* x, T* y, int64_t reduce, int64_t inner, double scale) {
  __shared__ double sums[32][33];
  int64_t o = blockIdx.y, c = int64_t(blockIdx.x) * 32 + threadIdx.x;
  double acc = 0;
  if (c < inner) {
    const T* p = x + o * reduce * inner + c;
    for (int64_t r = threadIdx.y; r < reduce; r += 32) acc += element_cast<double>(p[r * inner]);
  }
  sums[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < inner) {
    double total = 0;
    for (int k = 0; k < 32; ++k) total += sums[k][threadIdx.x];
    y[o * inner + c] = stored<T>(total * scale);
  }
}

template <class T> __global__ void max_kernel(const T* x, T* y, int64_t* index, int64_t outer, int64_t reduce, int64_t inner) {
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < outer * inner; k += int64_t(gridDim.x) * blockDim.x) {
    int64_t o = k / inner, i = k % inner;
    const T* p = x + o * reduce * inner + i;
    T best = p[0];
    int64_t at = 0;
    for (int64_t r = 1; r < reduce; ++r) {
      T v = p[r * inner];
      if (v > best || (v != v && best == best)) best = v, at = r;
    }
    y[k] = best;
    index[k] = at;
  }
}

}  // namespace

template <class T> void sum_dim(const T* x, T* y, int64_t outer, int64_t reduce, int64_t inner, double scale) {
  if (inner == 1 && reduce >= 256 && outer < (int64_t(1) << 31)) {
    sum_rows_kernel<<<unsigned(outer), kThreads, 0, stream()>>>(x, y, reduce, scale);
  } else if (inner > 1 && reduce >= 64 && outer < 65536) {
    sum_columns_tiled<<<dim3(unsigned((inner + 31) / 32), unsigned(outer)), dim3(32, 32), 0, stream()>>>(
        x, y, reduce, inner, scale);
  } else {
    sum_columns_kernel<<<grid_for(outer * inner), kThreads, 0, stream()>>>(x, y, outer, reduce, inner, scale);
  }
  DYT_CUDA_LAUNCHED();
}

template <class T> void sum_long_rows(const T* x, T* y, int64_t outer, int64_t reduce, double scale, double* partials) {
  if (outer == 0) return;
  int64_t chunks = long_row_chunks(reduce);
  sum_chunks_kernel<<<dim3(unsigned(chunks), unsigned(outer)), kThreads, 0, stream()>>>(x, partials, reduce);
  DYT_CUDA_LAUNCHED();
  sum_row_partials_kernel<<<unsigned(outer), 1024, 0, stream()>>>(partials, chunks, y, scale);
  DYT_CUDA_LAUNCHED();
}

template <class T> void max_dim(const T* x, T* y, int64_t* index, int64_t outer, int64_t reduce, int64_t inner) {
  max_kernel<<<grid_for(outer * inner), kThreads, 0, stream()>>>(x, y, index, outer, reduce, inner);
  DYT_CUDA_LAUNCHED();
}

template void sum_dim<float>(const float*, float*, int64_t, int64_t, int64_t, double);
template void sum_dim<double>(const double*, double*, int64_t, int64_t, int64_t, double);
template void sum_long_rows<float>(const float*, float*, int64_t, int64_t, double, double*);
template void sum_long_rows<double>(const double*, double*, int64_t, int64_t, double, double*);
template void sum_dim<bfloat16>(const bfloat16*, bfloat16*, int64_t, int64_t, int64_t, double);
template void sum_long_rows<bfloat16>(const bfloat16*, bfloat16*, int64_t, int64_t, double, double*);
template void max_dim<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t);
template void max_dim<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t);

}  // namespace dytgrad::kernels::cuda
