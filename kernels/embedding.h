// Embedding lookup: out[i, :] = weight[index[i], :] for a [vocab, dim] weight.
#pragma once
#include <cstdint>

namespace dytgrad::kernels {

#define DYT_DECLARE_EMBEDDING_KERNELS                                                            \
  /* Returns the first i whose index is out of [0, vocab), or -1 (then nothing is written). */   \
  template <class T> int64_t embedding_forward(const T* weight, const int64_t* index, T* out,    \
                                               int64_t count, int64_t vocab, int64_t dim);       \
  /* dweight = sum of dout rows into the rows they came from; deterministic: each weight row      \
     adds its contributions in the order of i. dweight is overwritten. */                        \
  template <class T> void embedding_backward(const T* dout, const int64_t* index, T* dweight,    \
                                             int64_t count, int64_t vocab, int64_t dim);

namespace cpu { DYT_DECLARE_EMBEDDING_KERNELS }
namespace cuda { DYT_DECLARE_EMBEDDING_KERNELS }

}  // namespace dytgrad::kernels
