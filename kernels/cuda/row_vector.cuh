// Rows held in registers. A row kernel runs one block per row; thread t holds the 16-byte chunks
// t, t + blockDim, ..., t + (K-1) blockDim of its row in registers, so the row is read from device
// memory once however many passes the math makes over it. Used when the element type is float,
// cols % 4 == 0 and cols / 4 <= K * blockDim; kernels fall back to plain loops otherwise.
#pragma once
#include <cstdint>
#include <type_traits>

namespace dytgrad::kernels::cuda {

constexpr int kMaxChunksPerThread = 8;  // rows up to 8 * 4 * 256 = 8192 floats

// Smallest K in {1, 2, 4, 8} with K * threads * 4 >= cols, or 0 if the row does not fit.
inline int chunks_per_thread(int64_t cols, int threads) {
  int64_t chunks = (cols / 4 + threads - 1) / threads;
  for (int k = 1; k <= kMaxChunksPerThread; k *= 2)
    if (chunks <= k) return k;
  return 0;
}

inline bool row_vectorizable(int64_t cols, const void* p) {
  return cols % 4 == 0 && (reinterpret_cast<uintptr_t>(p) & 15) == 0;
}

__device__ inline float sum4(float4 v) { return (v.x + v.y) + (v.z + v.w); }
__device__ inline float max4(float4 v) { return fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w)); }

// Calls body(std::integral_constant<int, K>{}) with the compile-time K equal to the runtime
// k in {1, 2, 4, 8} (chunks_per_thread's answer), so a kernel templated on K can be launched:
//   with_chunks(k, [&](auto chunks) { kernel<decltype(chunks)::value><<<...>>>(...); });
template <class Body> void with_chunks(int k, Body&& body) {
  switch (k) {
    case 1: body(std::integral_constant<int, 1>{}); break;
    case 2: body(std::integral_constant<int, 2>{}); break;
    case 4: body(std::integral_constant<int, 4>{}); break;
    default: body(std::integral_constant<int, kMaxChunksPerThread>{}); break;
  }
}

}  // namespace dytgrad::kernels::cuda
