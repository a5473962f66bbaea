// Reductions over one dim of a contiguous tensor viewed as [outer, reduce, inner].
#pragma once
#include <cstdint>

namespace dytgrad::kernels {

// sum_long_rows is sum_dim's sum for inner == 1 with each row cut into chunks of kLongRowChunk
// elements (the last one shorter) that are summed in parallel: for a few long rows (a whole tensor
// summed to one value), where a thread or block per row would leave the machine idle.
constexpr int64_t kLongRowChunk = 16384;
inline int64_t long_row_chunks(int64_t reduce) { return (reduce + kLongRowChunk - 1) / kLongRowChunk; }
// Where it pays: rows of 4 chunks or more, and fewer rows than fill a GPU with one block each.
inline bool splits_long_rows(int64_t outer, int64_t reduce) { return reduce >= 4 * kLongRowChunk && outer < 1024; }

// sum_dim and sum_long_rows also take bfloat16 x and y: elements widened as read, double sums,
// the result rounded once through float32 (the bits of a float32 sum of the widened tensor,
// rounded). Traffic: 2 bytes an element read, where casting first would move 6 more.
#define DYT_DECLARE_REDUCE_KERNELS                                                               \
  /* y[o, i] = scale * sum_r x[o, r, i] */                                                       \
  template <class T> void sum_dim(const T* x, T* y, int64_t outer, int64_t reduce, int64_t inner, \
                                  double scale);                                                 \
  /* y[o] = T(scale * sum_c partials[o, c]), the partials added in order, where                  \
     partials[o, c] (outer x long_row_chunks(reduce) doubles) = chunk c of row o summed in double: \
     the same bits for any thread count or launch shape. Reads x once. */                        \
  template <class T> void sum_long_rows(const T* x, T* y, int64_t outer, int64_t reduce,         \
                                        double scale, double* partials);                         \
  /* y[o, i] = max_r x[o, r, i]; index[o, i] = the first r that attains it */                    \
  template <class T> void max_dim(const T* x, T* y, int64_t* index, int64_t outer, int64_t reduce,\
                                  int64_t inner);

namespace cpu { DYT_DECLARE_REDUCE_KERNELS }
namespace cuda { DYT_DECLARE_REDUCE_KERNELS }

}  // namespace dytgrad::kernels
