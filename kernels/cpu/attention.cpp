// CPU attention, tiled like the CUDA kernel (flash attention): per (batch, head), queries in tiles
// of kTile rows against keys in tiles of kTile rows, each tile's two products through the BLAS.
// Nothing of size tq x tk is kept: the forward saves the logsumexp of each score row, and the
// backward recomputes each tile's probabilities from it. Causal tiles wholly above the diagonal
// are skipped. (batch, head) pairs run in parallel, and each pair's order is fixed, so the results
// are the same for any number of threads. Each operand may lie anywhere a row stride reaches
// (kernels/attention.h: AttentionLayout), so the GPT's packed qkv is read where the Linear wrote it.
//
// Forward, per query tile, with a running max m and sum l per row (an online softmax):
//   S = scale Q K_j^T                          (BLAS, tile x tile x d)
//   m' = max(m, rowmax S),  P = exp(S - m'),  c = exp(m - m')
//   l = c l + rowsum P,  O = c O + P V_j       (BLAS)
//   finally O = O / l,  logsumexp = m + log l
// Backward, D = rowsum(dO * O), per (query tile, key tile):
//   P = exp(scale Q K_j^T - logsumexp),  dV_j += P^T dO,  dP = dO V_j^T,
//   dS = P (dP - D),  dQ += scale dS K_j,  dK_j += scale dS^T Q          (five BLAS calls)
// Traffic: q, k, v read once per query tile (L2-resident at these sizes), out and dq/dk/dv written
// once; the work is 4 tq tk d FLOPs forward and 8 tq tk d backward (halved when causal, less the
// skipped tiles).
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

// Keys [0, end) that some query of the tile [q0, q0 + rows) may see; causal: key j <= query i.
int64_t visible_end(const AttentionShape& s, int64_t q0, int64_t rows) {
  return s.causal ? std::min(s.tk, q0 + rows) : s.tk;
}

// Sets the scores of keys above the diagonal to -inf in a tile that crosses it.
template <class T> void mask_tile(const AttentionShape& s, int64_t q0, int64_t rows, int64_t k0, int64_t cols, T* S) {
  if (!s.causal || k0 + cols - 1 <= q0) return;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = std::max<int64_t>(0, q0 + i + 1 - k0); j < cols; ++j) S[i * kTile + j] = T(-INFINITY);
}

}  // namespace

template <class T>
void attention_forward_strided(const AttentionShape& s, const AttentionLayouts& L, const T* q, const T* k, const T* v,
                               T* out, T* logsumexp) {
  const T scale = T(s.scale);
  const int64_t ldq = L.q.row_stride, ldkv = L.kv.row_stride, ldo = L.out.row_stride;
#pragma omp parallel for num_threads(threads()) schedule(static)
  for (int64_t h = 0; h < s.heads; ++h) {
    std::vector<T> S(size_t(kTile * kTile)), acc(size_t(kTile * s.d)), m(kTile), l(kTile);
    const T *qh = q + L.q.offset(h), *kh = k + L.kv.offset(h), *vh = v + L.kv.offset(h);
    T* oh = out + L.out.offset(h);
    for (int64_t q0 = 0; q0 < s.tq; q0 += kTile) {
      int64_t rows = std::min(kTile, s.tq - q0), end = visible_end(s, q0, rows);
      std::fill(m.begin(), m.end(), T(-INFINITY));
      std::fill(l.begin(), l.end(), T(0));
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t k0 = 0; k0 < end; k0 += kTile) {
        int64_t cols = std::min(kTile, end - k0);
        blas::gemm(false, true, rows, cols, s.d, scale, qh + q0 * ldq, ldq, kh + k0 * ldkv, ldkv, T(0), S.data(), kTile);
        mask_tile(s, q0, rows, k0, cols, S.data());
        for (int64_t i = 0; i < rows; ++i) {
          T* Si = S.data() + i * kTile;
          T m_new = std::max(m[i], row_max(Si, cols));
          if (m_new == T(-INFINITY)) continue;  // every key of the row masked so far: nothing to add
          for (int64_t j = 0; j < cols; ++j) Si[j] -= m_new;
          vector_math::exp(Si, Si, cols);
          T correction = std::exp(m[i] - m_new);
          l[i] = correction * l[i] + T(row_sum(Si, cols));
          m[i] = m_new;
          for (int64_t c = 0; c < s.d; ++c) acc[i * s.d + c] *= correction;
        }
        blas::gemm(false, false, rows, s.d, cols, T(1), S.data(), kTile, vh + k0 * ldkv, ldkv, T(1), acc.data(), s.d);
      }
      for (int64_t i = 0; i < rows; ++i) {
        T* oi = oh + (q0 + i) * ldo;
        for (int64_t c = 0; c < s.d; ++c) oi[c] = acc[i * s.d + c] / l[i];
        logsumexp[h * s.tq + q0 + i] = m[i] + std::log(l[i]);
      }
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
    std::vector<T> P(size_t(kTile * kTile)), dS(size_t(kTile * kTile)), D(size_t(s.tq));
    const T *qh = q + L.q.offset(h), *kh = k + L.kv.offset(h), *vh = v + L.kv.offset(h);
    const T *oh = out + L.out.offset(h), *gh = dout + L.out.offset(h), *lse = logsumexp + h * s.tq;
    T *dqh = dq + L.q.offset(h), *dkh = dk + L.kv.offset(h), *dvh = dv + L.kv.offset(h);
    for (int64_t i = 0; i < s.tq; ++i) std::fill(dqh + i * ldq, dqh + i * ldq + s.d, T(0));
    for (int64_t j = 0; j < s.tk; ++j) {
      std::fill(dkh + j * ldkv, dkh + j * ldkv + s.d, T(0));
      std::fill(dvh + j * ldkv, dvh + j * ldkv + s.d, T(0));
    }
    for (int64_t i = 0; i < s.tq; ++i) {
      T sum = 0;
      for (int64_t c = 0; c < s.d; ++c) sum += gh[i * ldo + c] * oh[i * ldo + c];
      D[size_t(i)] = sum;
    }
    for (int64_t q0 = 0; q0 < s.tq; q0 += kTile) {
      int64_t rows = std::min(kTile, s.tq - q0), end = visible_end(s, q0, rows);
      const T *qt = qh + q0 * ldq, *gt = gh + q0 * ldo;
      for (int64_t k0 = 0; k0 < end; k0 += kTile) {
        int64_t cols = std::min(kTile, end - k0);
        const T *kt = kh + k0 * ldkv, *vt = vh + k0 * ldkv;
        blas::gemm(false, true, rows, cols, s.d, scale, qt, ldq, kt, ldkv, T(0), P.data(), kTile);
        mask_tile(s, q0, rows, k0, cols, P.data());
        for (int64_t i = 0; i < rows; ++i) {
          T* Pi = P.data() + i * kTile;
          for (int64_t j = 0; j < cols; ++j) Pi[j] -= lse[q0 + i];
          vector_math::exp(Pi, Pi, cols);
        }
        blas::gemm(true, false, cols, s.d, rows, T(1), P.data(), kTile, gt, ldo, T(1), dvh + k0 * ldkv, ldkv);
        blas::gemm(false, true, rows, cols, s.d, T(1), gt, ldo, vt, ldkv, T(0), dS.data(), kTile);
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j)
            dS[i * kTile + j] = P[i * kTile + j] * (dS[i * kTile + j] - D[size_t(q0 + i)]);
        blas::gemm(false, false, rows, s.d, cols, scale, dS.data(), kTile, kt, ldkv, T(1), dqh + q0 * ldq, ldq);
        blas::gemm(true, false, cols, s.d, rows, scale, dS.data(), kTile, qt, ldq, T(1), dkh + k0 * ldkv, ldkv);
      }
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
