// Reductions over one dim of a contiguous tensor viewed as [outer, reduce, inner].
#pragma once
#include <cstdint>

namespace dytgrad::kernels {

#define DYT_DECLARE_REDUCE_KERNELS                                                               \
  /* y[o, i] = scale * sum_r x[o, r, i] */                                                       \
  template <class T> void sum_dim(const T* x, T* y, int64_t outer, int64_t reduce, int64_t inner, \
                                  double scale);                                                 \
  /* y[o, i] = max_r x[o, r, i]; index[o, i] = the first r that attains it */                    \
  template <class T> void max_dim(const T* x, T* y, int64_t* index, int64_t outer, int64_t reduce,\
                                  int64_t inner);

namespace cpu { DYT_DECLARE_REDUCE_KERNELS }
namespace cuda { DYT_DECLARE_REDUCE_KERNELS }

}  // namespace dytgrad::kernels
