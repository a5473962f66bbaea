// CPU attention, flash-attention style: per (batch, head), the keys in tiles of kTile rows, and
// for each key tile every query row that sees it at once, so each tile's products are a few BLAS
// calls (at T = 128: 4 forward and 10 backward per head, against 6 and 15 with query tiles too;
// measured the same speed on one core, 2026-11-30, but simpler). Nothing of size tq x tk is kept: the forward saves the logsumexp of each
// score row, and the backward recomputes each tile's probabilities from it. Causal: key tile j is
// seen only by the queries i >= its first key, and the scores above the diagonal are masked.
// (batch, head) pairs run in parallel, each in a fixed order, so the results are the same for any
// number of threads. Each operand may lie anywhere a row stride reaches (kernels/attention.h:
// AttentionLayout), so the GPT's packed qkv is read where the Linear wrote it.
//
// Forward, per key tile j, for its rows R of queries, with a running max m and sum l per row (an
// online softmax, the key tiles in order):
//   S = scale Q_R K_j^T                        (BLAS, |R| x tile x d)
//   m' = max(m, rowmax S),  P = exp(S - m'),  c = exp(m - m')
//   l = c l + rowsum P,  O_R = c O_R + P V_j   (BLAS)
//   finally O = O / l,  logsumexp = m + log l
// Backward, D = rowsum(dO * O), per key tile j:
//   P = exp(scale Q_R K_j^T - logsumexp),  dV_j = P^T dO_R,  dP = dO_R V_j^T,
//   dS = P (dP - D),  dQ_R += scale dS K_j,  dK_j = scale dS^T Q_R          (five BLAS calls)
// dK_j and dV_j are written by one call each (beta = 0), dQ by the first tile then added to.
// Traffic: q, k, v, dout read once per key tile (L2-resident at these sizes), out and dq/dk/dv
// written once; the work is 4 tq tk d FLOPs forward and 8 tq tk d backward (about halved when
// causal: the diagonal tiles are computed whole).
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/row_math.h"
#include "kernels/cpu/threads.h"
#include "kernels/cpu/vector_math.h"

namespace dytgrad::kernels::cpu {

namespace {

constexpr int64_t kTile = 64;

// The first query row that sees a key of the tile starting at key k0 (causal: query i sees keys <= i).
int64_t first_query(const AttentionShape& s, int64_t k0) { return s.causal ? k0 : 0; }

// Sets to -inf the scores of keys above the diagonal, in the rows [first, first + rows) against
// the keys [k0, k0 + cols) (row stride kTile).
template <class T>
void mask_above_diagonal(const AttentionShape& s, int64_t first, int64_t rows, int64_t k0, int64_t cols, T* S) {
  if (!s.causal) return;
  for (int64_t i = 0; i < rows && first + i < k0 + cols - 1; ++i)
    for (int64_t j = std::max<int64_t>(0, first + i + 1 - k0); j < cols; ++j) S[i * kTile + j] = T(-INFINITY);
}

}  // namespace

template <class T>
void attention_forward_strided(const AttentionShape& s, const AttentionLayouts& L, const T* q, const T* k, const T* v,
                               T* out, T* logsumexp) {
  const T scale = T(s.scale);
  const int64_t ldq = L.q.row_stride, ldkv = L.kv.row_stride, ldo = L.out.row_stride;
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (int64_t h = 0; h < s.heads; ++h) {
    std::vector<T> S(size_t(s.tq * kTile)), acc(size_t(s.tq * s.d), T(0)), m(size_t(s.tq), T(-INFINITY));
    std::vector<T> l(size_t(s.tq), T(0));
    const T *qh = q + L.q.offset(h), *kh = k + L.kv.offset(h), *vh = v + L.kv.offset(h);
    T* oh = out + L.out.offset(h);
    for (int64_t k0 = 0; k0 < s.tk; k0 += kTile) {
      int64_t cols = std::min(kTile, s.tk - k0), first = first_query(s, k0), rows = s.tq - first;
      if (rows <= 0) break;
      blas::gemm(false, true, rows, cols, s.d, scale, qh + first * ldq, ldq, kh + k0 * ldkv, ldkv, T(0), S.data(),
                 kTile);
      mask_above_diagonal(s, first, rows, k0, cols, S.data());
      for (int64_t r = 0; r < rows; ++r) {
        int64_t i = first + r;
        T* Si = S.data() + r * kTile;
        T m_new = std::max(m[size_t(i)], row_max(Si, cols));
        if (m_new == T(-INFINITY)) continue;  // every key of the row masked so far: nothing to add
        for (int64_t j = 0; j < cols; ++j) Si[j] -= m_new;
        vector_math::exp(Si, Si, cols);
        T correction = std::exp(m[size_t(i)] - m_new);
        l[size_t(i)] = correction * l[size_t(i)] + T(row_sum(Si, cols));
        m[size_t(i)] = m_new;
        for (int64_t c = 0; c < s.d; ++c) acc[size_t(i * s.d + c)] *= correction;
      }
      blas::gemm(false, false, rows, s.d, cols, T(1), S.data(), kTile, vh + k0 * ldkv, ldkv, T(1),
                 acc.data() + first * s.d, s.d);
    }
    for (int64_t i = 0; i < s.tq; ++i) {
      T* oi = oh + i * ldo;
      for (int64_t c = 0; c < s.d; ++c) oi[c] = acc[size_t(i * s.d + c)] / l[size_t(i)];
      logsumexp[h * s.tq + i] = m[size_t(i)] + std::log(l[size_t(i)]);
    }
  }
}

template <class T>
void attention_backward_strided(const AttentionShape& s, const AttentionLayouts& L, const T* q, const T* k,
                                const T* v, const T* out, const T* logsumexp, const T* dout, T* dq, T* dk, T* dv) {
  const T scale = T(s.scale);
  const int64_t ldq = L.q.row_stride, ldkv = L.kv.row_stride, ldo = L.out.row_stride;
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (int64_t h = 0; h < s.heads; ++h) {
    std::vector<T> P(size_t(s.tq * kTile)), dS(size_t(s.tq * kTile)), D(size_t(s.tq));
    const T *qh = q + L.q.offset(h), *kh = k + L.kv.offset(h), *vh = v + L.kv.offset(h);
    const T *oh = out + L.out.offset(h), *gh = dout + L.out.offset(h), *lse = logsumexp + h * s.tq;
    T *dqh = dq + L.q.offset(h), *dkh = dk + L.kv.offset(h), *dvh = dv + L.kv.offset(h);
    for (int64_t i = 0; i < s.tq; ++i) {
      T sum = 0;
      for (int64_t c = 0; c < s.d; ++c) sum += gh[i * ldo + c] * oh[i * ldo + c];
      D[size_t(i)] = sum;
    }
    for (int64_t i = 0; i < s.tq; ++i) std::fill(dqh + i * ldq, dqh + i * ldq + s.d, T(0));
    for (int64_t k0 = 0; k0 < s.tk; k0 += kTile) {
      int64_t cols = std::min(kTile, s.tk - k0), first = first_query(s, k0), rows = std::max<int64_t>(0, s.tq - first);
      T *dkt = dkh + k0 * ldkv, *dvt = dvh + k0 * ldkv;
      if (rows == 0) {  // keys no query sees (causal, tk > tq): no gradient
        for (int64_t j = 0; j < cols; ++j) {
          std::fill(dkt + j * ldkv, dkt + j * ldkv + s.d, T(0));
          std::fill(dvt + j * ldkv, dvt + j * ldkv + s.d, T(0));
        }
        continue;
      }
      const T *qt = qh + first * ldq, *gt = gh + first * ldo, *kt = kh + k0 * ldkv, *vt = vh + k0 * ldkv;
      blas::gemm(false, true, rows, cols, s.d, scale, qt, ldq, kt, ldkv, T(0), P.data(), kTile);
      mask_above_diagonal(s, first, rows, k0, cols, P.data());
      for (int64_t r = 0; r < rows; ++r) {
        T* Pr = P.data() + r * kTile;
        for (int64_t j = 0; j < cols; ++j) Pr[j] -= lse[first + r];
        vector_math::exp(Pr, Pr, cols);
      }
      blas::gemm(true, false, cols, s.d, rows, T(1), P.data(), kTile, gt, ldo, T(0), dvt, ldkv);
      blas::gemm(false, true, rows, cols, s.d, T(1), gt, ldo, vt, ldkv, T(0), dS.data(), kTile);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j)
          dS[size_t(r * kTile + j)] = P[size_t(r * kTile + j)] * (dS[size_t(r * kTile + j)] - D[size_t(first + r)]);
      blas::gemm(false, false, rows, s.d, cols, scale, dS.data(), kTile, kt, ldkv, T(1), dqh + first * ldq, ldq);
      blas::gemm(true, false, cols, s.d, rows, scale, dS.data(), kTile, qt, ldq, T(0), dkt, ldkv);
    }
  }
}

namespace {
// Contiguous [heads, tq, d] queries and outputs, [heads, tk, d] keys and values.
AttentionLayouts contiguous_layouts(const AttentionShape& s) {
  return {{1, s.tq * s.d, 0, s.d}, {1, s.tk * s.d, 0, s.d}, {1, s.tq * s.d, 0, s.d}};
}
}  // namespace

template <class T>
void attention_forward(const AttentionShape& s, const T* q, const T* k, const T* v, T* out, T* logsumexp) {
  attention_forward_strided(s, contiguous_layouts(s), q, k, v, out, logsumexp);
}

template <class T>
void attention_backward(const AttentionShape& s, const T* q, const T* k, const T* v, const T* out,
                        const T* logsumexp, const T* dout, T* dq, T* dk, T* dv) {
  attention_backward_strided(s, contiguous_layouts(s), q, k, v, out, logsumexp, dout, dq, dk, dv);
}

namespace {
std::vector<float> widened(const bfloat16* x, int64_t n) {
  std::vector<float> w(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) w[size_t(i)] = x[i].to_float();
  return w;
}
void rounded(const std::vector<float>& x, bfloat16* y) {
  for (size_t i = 0; i < x.size(); ++i) y[i] = bfloat16::from_float(x[i]);
}
}  // namespace

// bfloat16: the float32 kernels on widened copies, each result rounded once (a reference: the
// copies are the casts a float32 op between casts would make). Traffic: q, k, v (and out, dout)
// read, widened and written as float32, the results rounded from float32.
void attention_forward(const AttentionShape& s, const bfloat16* q, const bfloat16* k, const bfloat16* v, bfloat16* out,
                       float* logsumexp) {
  int64_t nq = s.heads * s.tq * s.d, nk = s.heads * s.tk * s.d;
  std::vector<float> o(static_cast<size_t>(nq));
  attention_forward(s, widened(q, nq).data(), widened(k, nk).data(), widened(v, nk).data(), o.data(), logsumexp);
  rounded(o, out);
}

void attention_backward(const AttentionShape& s, const bfloat16* q, const bfloat16* k, const bfloat16* v,
                        const bfloat16* out, const float* logsumexp, const bfloat16* dout, bfloat16* dq, bfloat16* dk,
                        bfloat16* dv) {
  int64_t nq = s.heads * s.tq * s.d, nk = s.heads * s.tk * s.d;
  std::vector<float> gq(static_cast<size_t>(nq)), gk(static_cast<size_t>(nk)), gv(static_cast<size_t>(nk));
  attention_backward(s, widened(q, nq).data(), widened(k, nk).data(), widened(v, nk).data(), widened(out, nq).data(),
                     logsumexp, widened(dout, nq).data(), gq.data(), gk.data(), gv.data());
  rounded(gq, dq);
  rounded(gk, dk);
  rounded(gv, dv);
}

template void attention_forward<float>(const AttentionShape&, const float*, const float*, const float*, float*, float*);
template void attention_forward<double>(const AttentionShape&, const double*, const double*, const double*, double*,
                                        double*);
template void attention_backward<float>(const AttentionShape&, const float*, const float*, const float*, const float*,
                                        const float*, const float*, float*, float*, float*);
template void attention_backward<double>(const AttentionShape&, const double*, const double*, const double*,
                                         const double*, const double*, const double*, double*, double*, double*);
template void attention_forward_strided<float>(const AttentionShape&, const AttentionLayouts&, const float*,
                                               const float*, const float*, float*, float*);
template void attention_forward_strided<double>(const AttentionShape&, const AttentionLayouts&, const double*,
                                                const double*, const double*, double*, double*);
template void attention_backward_strided<float>(const AttentionShape&, const AttentionLayouts&, const float*,
                                                const float*, const float*, const float*, const float*, const float*,
                                                float*, float*, float*);
template void attention_backward_strided<double>(const AttentionShape&, const AttentionLayouts&, const double*,
                                                 const double*, const double*, const double*, const double*,
                                                 const double*, double*, double*, double*);

}  // namespace dytgrad::kernels::cpu
