// CPU random kernels: element i is a pure function of (seed, offset + i); see random_bits.h.
#include "kernels/random.h"

#include "kernels/cpu/parallel.h"
#include "kernels/random_bits.h"

namespace dytgrad::kernels::cpu {

template <class T> void uniform(T* y, int64_t n, uint64_t seed, uint64_t offset, double low, double high) {
  DYT_PARALLEL_FOR(n)
  for (int64_t i = 0; i < n; ++i) y[i] = T(low + (high - low) * random_uniform(seed, offset + uint64_t(i)));
}

template <class T> void normal(T* y, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  DYT_PARALLEL_FOR(n)
  for (int64_t i = 0; i < n; ++i) y[i] = T(mean + std * random_normal(seed, offset + uint64_t(i)));
}

void randint(int64_t* y, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high) {
  uint64_t range = uint64_t(high - low);
  DYT_PARALLEL_FOR(n)
  for (int64_t i = 0; i < n; ++i) y[i] = low + int64_t(random_bits(seed, offset + uint64_t(i)) % range);
}

template <class T> void dropout_mask(T* y, int64_t n, uint64_t seed, uint64_t offset, double p) {
  T keep = T(1.0 / (1.0 - p));
  DYT_PARALLEL_FOR(n)
  for (int64_t i = 0; i < n; ++i) y[i] = random_uniform(seed, offset + uint64_t(i)) < p ? T(0) : keep;
}

template void uniform<float>(float*, int64_t, uint64_t, uint64_t, double, double);
template void uniform<double>(double*, int64_t, uint64_t, uint64_t, double, double);
template void normal<float>(float*, int64_t, uint64_t, uint64_t, double, double);
template void normal<double>(double*, int64_t, uint64_t, uint64_t, double, double);
template void dropout_mask<float>(float*, int64_t, uint64_t, uint64_t, double);
template void dropout_mask<double>(double*, int64_t, uint64_t, uint64_t, double);

}  // namespace dytgrad::kernels::cpu
