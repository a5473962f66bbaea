// CPU reductions over the middle dim of [outer, reduce, inner]. Sums accumulate in double.
#include "kernels/reduce.h"

#include "kernels/cpu/parallel.h"

namespace dytgrad::kernels::cpu {

template <class T> void sum_dim(const T* x, T* y, int64_t outer, int64_t reduce, int64_t inner, double scale) {
  DYT_PARALLEL_FOR(outer * reduce * inner)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = 0;
      const T* p = x + o * reduce * inner + i;
      for (int64_t r = 0; r < reduce; ++r) acc += double(p[r * inner]);
      y[o * inner + i] = T(acc * scale);
    }
}

template <class T> void max_dim(const T* x, T* y, int64_t* index, int64_t outer, int64_t reduce, int64_t inner) {
  DYT_PARALLEL_FOR(outer * reduce * inner)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = x + o * reduce * inner + i;
      T best = p[0];
      int64_t at = 0;
      for (int64_t r = 1; r < reduce; ++r)
        if (p[r * inner] > best || (p[r * inner] != p[r * inner] && best == best)) {  // NaN wins, like PyTorch
          best = p[r * inner];
          at = r;
        }
      y[o * inner + i] = best;
      index[o * inner + i] = at;
    }
}

template void sum_dim<float>(const float*, float*, int64_t, int64_t, int64_t, double);
template void sum_dim<double>(const double*, double*, int64_t, int64_t, int64_t, double);
template void max_dim<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t);
template void max_dim<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t);

}  // namespace dytgrad::kernels::cpu
