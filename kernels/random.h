// Random numbers from a counter-based generator: element i of a draw with (seed, offset) is a pure
// function of (seed, offset + i), so the CPU and the GPU produce the same numbers for the same seed,
// whatever the launch shape. See kernels/random_bits.h for the function itself.
#pragma once
#include <cstdint>

namespace dytgrad::kernels {

#define DYT_DECLARE_RANDOM_KERNELS                                                              \
  template <class T> void uniform(T* y, int64_t n, uint64_t seed, uint64_t offset, double low,  \
                                  double high);                                                 \
  template <class T> void normal(T* y, int64_t n, uint64_t seed, uint64_t offset, double mean,  \
                                 double std);                                                   \
  void randint(int64_t* y, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high);\
  /* y[i] = 0 with probability p, else 1 / (1 - p): the multiplier dropout applies */          \
  template <class T> void dropout_mask(T* y, int64_t n, uint64_t seed, uint64_t offset, double p);

namespace cpu { DYT_DECLARE_RANDOM_KERNELS }
namespace cuda { DYT_DECLARE_RANDOM_KERNELS }

}  // namespace dytgrad::kernels
