// Cross-entropy from logits [rows, cols] and integer targets [rows], fused: the probabilities are
// never written as a tensor of their own.
#pragma once
#include <cstdint>

#include "bfloat16.h"

namespace dytgrad::kernels {

#define DYT_DECLARE_LOSS_KERNELS                                                                 \
  /* row_loss[r] = logsumexp(x[r]) - x[r, t[r]] (0 where t[r] == ignore_index);                   \
     logsumexp[r] saved for backward. Returns the first row whose target is out of [0, cols)     \
     and not ignore_index, or -1. */                                                             \
  template <class T> int64_t cross_entropy_forward(const T* logits, const int64_t* targets,      \
                                                   T* row_loss, T* logsumexp, int64_t rows,      \
                                                   int64_t cols, int64_t ignore_index);          \
  /* dlogits[r, c] = scale * (exp(x[r, c] - lse[r]) - [c == t[r]]), 0 for ignored rows, where      \
     scale = *grad_loss * inv_count (grad_loss is a pointer to one element on the device) */    \
  template <class T> void cross_entropy_backward(const T* logits, const int64_t* targets,        \
                                                 const T* logsumexp, const T* grad_loss,         \
                                                 double inv_count, T* dlogits, int64_t rows,     \
                                                 int64_t cols, int64_t ignore_index);          \
  /* Mixed precision: bfloat16 logits and dlogits, float32 math, losses, logsumexps and grad_loss; \
     the float32 kernels' results on the logits widened, dlogits rounded once. */                 \
  int64_t cross_entropy_forward(const bfloat16* logits, const int64_t* targets, float* row_loss,   \
                                float* logsumexp, int64_t rows, int64_t cols, int64_t ignore_index); \
  void cross_entropy_backward(const bfloat16* logits, const int64_t* targets, const float* logsumexp, \
                              const float* grad_loss, double inv_count, bfloat16* dlogits,         \
                              int64_t rows, int64_t cols, int64_t ignore_index);

namespace cpu { DYT_DECLARE_LOSS_KERNELS }
namespace cuda { DYT_DECLARE_LOSS_KERNELS }

}  // namespace dytgrad::kernels
