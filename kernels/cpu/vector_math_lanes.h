// One array function out of one SLEEF vector function: whole vectors of `Lanes` floats, then the
// tail through a zero-padded vector, so every element goes through the same function (results do
// not depend on where an element sits in the array). Included by the per-ISA files only.
#pragma once
#include <algorithm>
#include <cstdint>

namespace dytgrad::kernels::cpu::vector_math {

template <int Lanes, class Load, class Store, class Fn>
inline void map_lanes(const float* x, float* y, int64_t n, Load load, Store store, Fn fn) {
  int64_t i = 0;
  for (; i + Lanes <= n; i += Lanes) store(y + i, fn(load(x + i)));
  if (i < n) {
    float tail[Lanes] = {};
    std::copy(x + i, x + n, tail);
    store(tail, fn(load(tail)));
    std::copy(tail, tail + (n - i), y + i);
  }
}

}  // namespace dytgrad::kernels::cpu::vector_math
