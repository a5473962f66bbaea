// Scaled dot-product attention over contiguous [heads, tq, d] queries and [heads, tk, d] keys and
// values (heads = batch * heads). causal masks key j > query i. Forward saves the logsumexp of
// each score row; backward recomputes the probabilities from it, so nothing of size tq x tk is kept.
#pragma once
#include <cstdint>

namespace dytgrad::kernels {

struct AttentionShape {
  int64_t heads = 0, tq = 0, tk = 0, d = 0;
  bool causal = false;
  double scale = 1.0;
};

#define DYT_DECLARE_ATTENTION_KERNELS                                                            \
  template <class T> void attention_forward(const AttentionShape& s, const T* q, const T* k,     \
                                            const T* v, T* out, T* logsumexp);                   \
  /* dq, dk, dv are overwritten */                                                               \
  template <class T> void attention_backward(const AttentionShape& s, const T* q, const T* k,    \
                                             const T* v, const T* out, const T* logsumexp,       \
                                             const T* dout, T* dq, T* dk, T* dv);

namespace cpu { DYT_DECLARE_ATTENTION_KERNELS }
namespace cuda { DYT_DECLARE_ATTENTION_KERNELS }

}  // namespace dytgrad::kernels
