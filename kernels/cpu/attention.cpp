// CPU attention: the reference the fused CUDA kernel is checked against. One (head, query row) at
// a time: scores, max, exp, sum, logsumexp, weighted sum of v. Backward recomputes each
// probability row from the saved logsumexp:
//   p_j = exp(s_j - lse),  dp_j = dO . v_j,  D = dO . O,  ds_j = p_j (dp_j - D)
//   dq += scale * ds_j k_j,  dk_j += scale * ds_j q,  dv_j += p_j dO
// Heads run in parallel; within a head the order is fixed, so results are deterministic.
#include "kernels/attention.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace dytgrad::kernels::cpu {

namespace {
int64_t visible_keys(const AttentionShape& s, int64_t i) { return s.causal ? std::min(i + 1, s.tk) : s.tk; }
}  // namespace

template <class T>
void attention_forward(const AttentionShape& s, const T* q, const T* k, const T* v, T* out, T* logsumexp) {
#pragma omp parallel for schedule(static)
  for (int64_t h = 0; h < s.heads; ++h) {
    std::vector<double> scores(size_t(s.tk)), acc(size_t(s.d));
    const T *qh = q + h * s.tq * s.d, *kh = k + h * s.tk * s.d, *vh = v + h * s.tk * s.d;
    for (int64_t i = 0; i < s.tq; ++i) {
      int64_t n = visible_keys(s, i);
      double m = -INFINITY, sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < s.d; ++c) dot += double(qh[i * s.d + c]) * double(kh[j * s.d + c]);
        scores[j] = dot * s.scale;
        m = std::max(m, scores[j]);
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = 0; j < n; ++j) {
        double p = std::exp(scores[j] - m);
        sum += p;
        for (int64_t c = 0; c < s.d; ++c) acc[c] += p * double(vh[j * s.d + c]);
      }
      for (int64_t c = 0; c < s.d; ++c) out[(h * s.tq + i) * s.d + c] = T(acc[c] / sum);
      logsumexp[h * s.tq + i] = T(m + std::log(sum));
    }
  }
}

template <class T>
void attention_backward(const AttentionShape& s, const T* q, const T* k, const T* v, const T* out,
                        const T* logsumexp, const T* dout, T* dq, T* dk, T* dv) {
#pragma omp parallel for schedule(static)
  for (int64_t h = 0; h < s.heads; ++h) {
    int64_t qo = h * s.tq * s.d, ko = h * s.tk * s.d;
    std::vector<double> dqa(size_t(s.d)), dka(size_t(s.tk * s.d), 0.0), dva(size_t(s.tk * s.d), 0.0);
    for (int64_t i = 0; i < s.tq; ++i) {
      const T *qi = q + qo + i * s.d, *oi = out + qo + i * s.d, *gi = dout + qo + i * s.d;
      double lse = double(logsumexp[h * s.tq + i]), D = 0;
      for (int64_t c = 0; c < s.d; ++c) D += double(gi[c]) * double(oi[c]);
      std::fill(dqa.begin(), dqa.end(), 0.0);
      for (int64_t j = 0; j < visible_keys(s, i); ++j) {
        const T *kj = k + ko + j * s.d, *vj = v + ko + j * s.d;
        double dot = 0, dp = 0;
        for (int64_t c = 0; c < s.d; ++c) {
          dot += double(qi[c]) * double(kj[c]);
          dp += double(gi[c]) * double(vj[c]);
        }
        double p = std::exp(dot * s.scale - lse), ds = p * (dp - D) * s.scale;
        for (int64_t c = 0; c < s.d; ++c) {
          dqa[c] += ds * double(kj[c]);
          dka[j * s.d + c] += ds * double(qi[c]);
          dva[j * s.d + c] += p * double(gi[c]);
        }
      }
      for (int64_t c = 0; c < s.d; ++c) dq[qo + i * s.d + c] = T(dqa[c]);
    }
    for (int64_t e = 0; e < s.tk * s.d; ++e) {
      dk[ko + e] = T(dka[e]);
      dv[ko + e] = T(dva[e]);
    }
  }
}

template void attention_forward<float>(const AttentionShape&, const float*, const float*, const float*, float*, float*);
template void attention_forward<double>(const AttentionShape&, const double*, const double*, const double*, double*,
                                        double*);
template void attention_backward<float>(const AttentionShape&, const float*, const float*, const float*, const float*,
                                        const float*, const float*, float*, float*, float*);
template void attention_backward<double>(const AttentionShape&, const double*, const double*, const double*,
                                         const double*, const double*, const double*, double*, double*, double*);

}  // namespace dytgrad::kernels::cpu
