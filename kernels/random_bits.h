// The counter-based generator shared by both backends. A stateless 64-bit mixer (the finaliser of
// SplitMix64) applied to seed and counter; good statistical quality for training, and identical
// on host and device because it is integer arithmetic only.
#pragma once
#include <cmath>
#include <cstdint>

#include "layout.h"  // DYT_HOST_DEVICE

namespace dytgrad::kernels {

DYT_HOST_DEVICE inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

DYT_HOST_DEVICE inline uint64_t random_bits(uint64_t seed, uint64_t counter) {
  return mix64(mix64(seed) ^ counter);
}

// Uniform in [0, 1) with 53 random bits.
DYT_HOST_DEVICE inline double random_uniform(uint64_t seed, uint64_t counter) {
  return double(random_bits(seed, counter) >> 11) * (1.0 / 9007199254740992.0);
}

// Standard normal for counter c by Box-Muller over two uniforms (counters 2c and 2c+1), in double
// on both backends so that the float results agree.
DYT_HOST_DEVICE inline double random_normal(uint64_t seed, uint64_t counter) {
  double u1 = random_uniform(seed, 2 * counter), u2 = random_uniform(seed, 2 * counter + 1);
  double r = ::sqrt(-2.0 * ::log(1.0 - u1));  // 1 - u1 is in (0, 1]; :: as dytgrad has ops of these names
  return r * ::cos(6.283185307179586 * u2);
}

}  // namespace dytgrad::kernels
