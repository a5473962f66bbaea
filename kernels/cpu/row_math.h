// Reductions along one contiguous row, for the row-wise CPU kernels (softmax, cross-entropy): the
// max over 16 interleaved lanes, and the sum over 16 lanes within chunks of 512, the chunks in double. The lanes let the loops vectorise
// (a single running max or sum is a chain of dependent instructions, ~1.5 ns an element) while the
// order stays fixed, so results do not depend on threads or alignment.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>

namespace dytgrad::kernels::cpu {

// -inf for an empty row
template <class T> T row_max(const T* x, int64_t n) {
  constexpr int kLanes = 16;
  T lanes[kLanes];
  std::fill(lanes, lanes + kLanes, -std::numeric_limits<T>::infinity());
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int lane = 0; lane < kLanes; ++lane) lanes[lane] = std::max(lanes[lane], x[i + lane]);
  for (; i < n; ++i) lanes[0] = std::max(lanes[0], x[i]);
  return *std::max_element(lanes, lanes + kLanes);
}

// Chunks of 512 summed in T over 16 lanes (32 terms a lane), the chunks' sums added in double.
template <class T> double row_sum(const T* x, int64_t n) {
  constexpr int kLanes = 16;
  constexpr int64_t kChunk = 512;
  double total = 0;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    int64_t end = std::min(n, c0 + kChunk), i = c0;
    T lanes[kLanes] = {};
    for (; i + kLanes <= end; i += kLanes)
      for (int lane = 0; lane < kLanes; ++lane) lanes[lane] += x[i + lane];
    for (; i < end; ++i) lanes[0] += x[i];
    T chunk = 0;
    for (T lane : lanes) chunk += lane;
    total += double(chunk);
  }
  return total;
}

// The sum of squares of a row, by blocks of 512 squared in T and summed through row_sum.
template <class T> double row_sum_of_squares(const T* x, int64_t n) {
  constexpr int64_t kChunk = 512;
  double total = 0;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    int64_t count = std::min(kChunk, n - c0);
    T squares[kChunk];
    for (int64_t i = 0; i < count; ++i) squares[i] = x[c0 + i] * x[c0 + i];
    total += row_sum(squares, count);
  }
  return total;
}

}  // namespace dytgrad::kernels::cpu
