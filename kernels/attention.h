// Scaled dot-product attention over contiguous [heads, tq, d] queries and [heads, tk, d] keys and
// values (heads = batch * heads). causal masks key j > query i. Forward saves the logsumexp of
// each score row; backward recomputes the probabilities from it, so nothing of size tq x tk is kept.
#pragma once
#include <cstdint>

#include "bfloat16.h"

namespace dytgrad::kernels {

struct AttentionShape {
  int64_t heads = 0, tq = 0, tk = 0, d = 0;
  bool causal = false;
  double scale = 1.0;
};

// The FLOPs of the kernels below, counted per (query, key) pair the mask keeps (all tq tk, or
// tq (tq + 1) / 2 when causal) and per head: the forward's q k^T and p v are 2 d multiply-adds
// (4 d FLOPs); the backward recomputes q k^T and adds dv, dp, dq and dk (10 d FLOPs).
inline double attention_flops(const AttentionShape& s, bool backward) {
  double pairs = s.causal ? double(s.tq) * double(s.tq + 1) / 2 : double(s.tq) * double(s.tk);
  return double(s.heads) * pairs * double(s.d) * (backward ? 10.0 : 4.0);
}

#define DYT_DECLARE_ATTENTION_KERNELS                                                            \
  template <class T> void attention_forward(const AttentionShape& s, const T* q, const T* k,     \
                                            const T* v, T* out, T* logsumexp);                   \
  /* dq, dk, dv are overwritten */                                                               \
  template <class T> void attention_backward(const AttentionShape& s, const T* q, const T* k,    \
                                             const T* v, const T* out, const T* logsumexp,       \
                                             const T* dout, T* dq, T* dk, T* dv);                \
  /* Mixed precision: bfloat16 q, k, v, out and gradients, float32 math and logsumexp (CPU: the    \
     float32 kernels on the rows widened, each result rounded once; CUDA: bfloat16 GEMMs with     \
     float32 scores, attention_gemm.cu) */                                                      \
  void attention_forward(const AttentionShape& s, const bfloat16* q, const bfloat16* k,           \
                         const bfloat16* v, bfloat16* out, float* logsumexp);                     \
  void attention_backward(const AttentionShape& s, const bfloat16* q, const bfloat16* k,          \
                          const bfloat16* v, const bfloat16* out, const float* logsumexp,         \
                          const bfloat16* dout, bfloat16* dq, bfloat16* dk, bfloat16* dv);

namespace cpu { DYT_DECLARE_ATTENTION_KERNELS }
namespace cuda { DYT_DECLARE_ATTENTION_KERNELS }

// Where one operand's heads lie in memory: head n (n < heads) starts at
//   base + (n / heads_per_batch) * batch_stride + (n % heads_per_batch) * head_stride
// and its rows are row_stride apart, the d values of each row contiguous. Contiguous [heads, t, d]
// is {1, t d, 0, d}; the q of a packed [batch, t, 3 width] qkv with H heads of d = width / H is
// {H, 3 t width, d, 3 width} (k and v: the same from base + width and base + 2 width).
struct AttentionLayout {
  int64_t heads_per_batch = 1, batch_stride = 0, head_stride = 0, row_stride = 0;
  int64_t offset(int64_t head) const {
    return (head / heads_per_batch) * batch_stride + (head % heads_per_batch) * head_stride;
  }
};

struct AttentionLayouts {
  AttentionLayout q, kv, out;  // k and v share one; dq, dk, dv are laid out as q, k, v; dout as out
};

// The CPU kernels over any such layouts (on CUDA the packed case runs the contiguous kernels after
// a split; core/ops/attention.cpp). logsumexp is contiguous [heads, tq]; dq, dk, dv are overwritten.
namespace cpu {
template <class T>
void attention_forward_strided(const AttentionShape& s, const AttentionLayouts& L, const T* q, const T* k, const T* v,
                               T* out, T* logsumexp);
template <class T>
void attention_backward_strided(const AttentionShape& s, const AttentionLayouts& L, const T* q, const T* k,
                                const T* v, const T* out, const T* logsumexp, const T* dout, T* dq, T* dk, T* dv);
}  // namespace cpu

}  // namespace dytgrad::kernels
