// Scaled dot-product attention, flash style: the tq x tk score matrix is never written to device
// memory. q, k, v, out are [heads, t, d] contiguous; scale = 1 / sqrt(d).
//
// float32 goes to batched GEMMs on tensor cores (attention_gemm.cu) while unverified kernels are
// allowed (they have not run on a GPU yet); else, with head dim 32, 64 or 128, to the tiled kernels
// of attention_tiled.cu.
// Everything else (float64, other head dims) runs version 1, here: one warp per row, d split
// across the lanes (up to 256).
//  forward, warp per query i: for each visible key j, s = scale q.k_j (a warp sum), then the
//    online softmax recurrence m' = max(m, s), l = l e^(m - m') + e^(s - m'),
//    acc = acc e^(m - m') + e^(s - m') v_j; out = acc / l, lse = m + log l.
//    Traffic: q and out once; k and v once per query row that sees them (served mostly by L2).
//  backward, recomputing p from the saved lse, two kernels and no atomics (deterministic):
//    per query i:  D_i = dO_i . O_i, dq_i = scale sum_j p_ij (dO_i . v_j - D_i) k_j
//    per key j:    dk_j = scale sum_i ds_ij q_i, dv_j = sum_i p_ij dO_i
//    Traffic: the query kernel reads q, dO, O and lse once and writes dq; the key kernel reads k
//    and v once and writes dk and dv; each re-reads the other side's rows once per row it pairs
//    with (q, dO, lse for every key row; k, v for every query row), served mostly by L2.
//  Causal rows stop at the diagonal, so masked pairs cost nothing.
#include "kernels/attention.h"
#include "kernels/cuda/attention_gemm.cuh"
#include "kernels/cuda/attention_tiled.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

constexpr int kMaxPerLane = 8;  // d <= 256
constexpr int kWarpsPerBlock = 4;

__device__ inline int64_t visible_keys(const AttentionShape& s, int64_t i) { return s.causal ? min(i + 1, s.tk) : s.tk; }

template <class T> __device__ inline void load_row(const T* p, int d, T (&r)[kMaxPerLane], T scale = T(1)) {
  int lane = threadIdx.x & 31;
#pragma unroll
  for (int m = 0; m < kMaxPerLane; ++m) {
    int c = lane + 32 * m;
    r[m] = c < d ? p[c] * scale : T(0);
  }
}

template <class T> __device__ inline T dot_row(const T (&a)[kMaxPerLane], const T* b, int d) {
  int lane = threadIdx.x & 31;
  T acc = 0;
#pragma unroll
  for (int m = 0; m < kMaxPerLane; ++m) {
    int c = lane + 32 * m;
    if (c < d) acc += a[m] * b[c];
  }
  return warp_sum(acc);
}

template <class T>
__global__ void forward_rows(AttentionShape s, const T* q, const T* k, const T* v, T* out, T* lse) {
  int64_t row = int64_t(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= s.heads * s.tq) return;
  int64_t h = row / s.tq, i = row % s.tq;
  int d = int(s.d), lane = threadIdx.x & 31;
  const T *kh = k + h * s.tk * d, *vh = v + h * s.tk * d;
  T qr[kMaxPerLane], acc[kMaxPerLane] = {};
  load_row(q + row * d, d, qr, T(s.scale));
  T m = -INFINITY, l = 0;
  for (int64_t j = 0; j < visible_keys(s, i); ++j) {
    T score = dot_row(qr, kh + j * d, d);
    T m_new = max(m, score), correction = exp(m - m_new), p = exp(score - m_new);
    l = l * correction + p;
#pragma unroll
    for (int e = 0; e < kMaxPerLane; ++e) {
      int c = lane + 32 * e;
      if (c < d) acc[e] = acc[e] * correction + p * vh[j * d + c];
    }
    m = m_new;
  }
#pragma unroll
  for (int e = 0; e < kMaxPerLane; ++e) {
    int c = lane + 32 * e;
    if (c < d) out[row * d + c] = acc[e] / l;
  }
  if (lane == 0) lse[row] = m + log(l);
}

// dq for one query row; also stores D_i = dO_i . O_i for the key kernel.
template <class T>
__global__ void backward_query_rows(AttentionShape s, const T* q, const T* k, const T* v, const T* out, const T* lse,
                                    const T* dout, T* dq, T* delta) {
  int64_t row = int64_t(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= s.heads * s.tq) return;
  int64_t h = row / s.tq, i = row % s.tq;
  int d = int(s.d), lane = threadIdx.x & 31;
  const T *kh = k + h * s.tk * d, *vh = v + h * s.tk * d;
  T qr[kMaxPerLane], gr[kMaxPerLane], acc[kMaxPerLane] = {};
  load_row(q + row * d, d, qr, T(s.scale));
  load_row(dout + row * d, d, gr);
  T D = dot_row(gr, out + row * d, d), L = lse[row];
  if (lane == 0) delta[row] = D;
  for (int64_t j = 0; j < visible_keys(s, i); ++j) {
    T p = exp(dot_row(qr, kh + j * d, d) - L);
    T ds = p * (dot_row(gr, vh + j * d, d) - D);
#pragma unroll
    for (int e = 0; e < kMaxPerLane; ++e) {
      int c = lane + 32 * e;
      if (c < d) acc[e] += ds * kh[j * d + c];
    }
  }
#pragma unroll
  for (int e = 0; e < kMaxPerLane; ++e) {
    int c = lane + 32 * e;
    if (c < d) dq[row * d + c] = acc[e] * T(s.scale);
  }
}

template <class T>
__global__ void backward_key_rows(AttentionShape s, const T* q, const T* k, const T* v, const T* lse, const T* delta,
                                  const T* dout, T* dk, T* dv) {
  int64_t row = int64_t(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= s.heads * s.tk) return;
  int64_t h = row / s.tk, j = row % s.tk;
  int d = int(s.d), lane = threadIdx.x & 31;
  const T *qh = q + h * s.tq * d, *gh = dout + h * s.tq * d;
  T kr[kMaxPerLane], vr[kMaxPerLane], dka[kMaxPerLane] = {}, dva[kMaxPerLane] = {};
  load_row(k + row * d, d, kr, T(s.scale));
  load_row(v + row * d, d, vr);
  for (int64_t i = s.causal ? j : 0; i < s.tq; ++i) {
    T p = exp(dot_row(kr, qh + i * d, d) - lse[h * s.tq + i]);
    T ds = p * (dot_row(vr, gh + i * d, d) - delta[h * s.tq + i]);
#pragma unroll
    for (int e = 0; e < kMaxPerLane; ++e) {
      int c = lane + 32 * e;
      if (c < d) {
        dka[e] += ds * qh[i * d + c];
        dva[e] += p * gh[i * d + c];
      }
    }
  }
#pragma unroll
  for (int e = 0; e < kMaxPerLane; ++e) {
    int c = lane + 32 * e;
    if (c < d) {
      dk[row * d + c] = dka[e] * T(s.scale);
      dv[row * d + c] = dva[e];
    }
  }
}

void check_head_dim(const AttentionShape& s) {
  if (s.d > 32 * kMaxPerLane)
    throw std::runtime_error("scaled_dot_product_attention: the CUDA kernel supports head dims up to " +
                             std::to_string(32 * kMaxPerLane) + ", got " + std::to_string(s.d));
}

[[noreturn]] void bfloat16_unsupported(const AttentionShape& s) {
  throw std::runtime_error("scaled_dot_product_attention: bfloat16 on CUDA needs one head's " + std::to_string(s.tq) +
                           " x " + std::to_string(s.tk) + " scores within the 1 GiB scratch (and at least one key); "
                           "convert to float32 for this shape");
}

unsigned blocks_for_rows(int64_t rows) { return unsigned((rows + kWarpsPerBlock - 1) / kWarpsPerBlock); }

}  // namespace

template <class T>
void attention_forward(const AttentionShape& s, const T* q, const T* k, const T* v, T* out, T* logsumexp) {
  if (s.heads * s.tq == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (unverified_kernels_allowed() && gemm_attention_forward(s, q, k, v, out, logsumexp)) return;
    if (tiled_attention_forward(s, q, k, v, out, logsumexp)) return;
  }
  check_head_dim(s);
  forward_rows<<<blocks_for_rows(s.heads * s.tq), 32 * kWarpsPerBlock, 0, stream()>>>(s, q, k, v, out, logsumexp);
  DYT_CUDA_LAUNCHED();
}

template <class T>
void attention_backward(const AttentionShape& s, const T* q, const T* k, const T* v, const T* out, const T* logsumexp,
                        const T* dout, T* dq, T* dk, T* dv) {
  if (s.heads * s.tq == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (unverified_kernels_allowed() && gemm_attention_backward(s, q, k, v, out, logsumexp, dout, dq, dk, dv)) return;
    if (tiled_attention_backward(s, q, k, v, out, logsumexp, dout, dq, dk, dv)) return;
  }
  check_head_dim(s);
  T* delta = static_cast<T*>(allocate(sizeof(T) * size_t(s.heads * s.tq)));
  backward_query_rows<<<blocks_for_rows(s.heads * s.tq), 32 * kWarpsPerBlock, 0, stream()>>>(
      s, q, k, v, out, logsumexp, dout, dq, delta);
  DYT_CUDA_LAUNCHED();
  backward_key_rows<<<blocks_for_rows(s.heads * s.tk), 32 * kWarpsPerBlock, 0, stream()>>>(
      s, q, k, v, logsumexp, delta, dout, dk, dv);
  DYT_CUDA_LAUNCHED();
  release(delta);
}

// bfloat16: only as GEMMs on tensor cores (the front-end runs float32 between casts until they have
// run on a GPU).
void attention_forward(const AttentionShape& s, const bfloat16* q, const bfloat16* k, const bfloat16* v, bfloat16* out,
                       float* logsumexp) {
  if (s.heads * s.tq == 0) return;
  if (!gemm_attention_forward(s, q, k, v, out, logsumexp)) bfloat16_unsupported(s);
}

void attention_backward(const AttentionShape& s, const bfloat16* q, const bfloat16* k, const bfloat16* v,
                        const bfloat16* out, const float* logsumexp, const bfloat16* dout, bfloat16* dq, bfloat16* dk,
                        bfloat16* dv) {
  if (s.heads * s.tq == 0) return;
  if (!gemm_attention_backward(s, q, k, v, out, logsumexp, dout, dq, dk, dv)) bfloat16_unsupported(s);
}

template void attention_forward<float>(const AttentionShape&, const float*, const float*, const float*, float*, float*);
template void attention_forward<double>(const AttentionShape&, const double*, const double*, const double*, double*,
                                        double*);
template void attention_backward<float>(const AttentionShape&, const float*, const float*, const float*, const float*,
                                        const float*, const float*, float*, float*, float*);
template void attention_backward<double>(const AttentionShape&, const double*, const double*, const double*,
                                         const double*, const double*, const double*, double*, double*, double*);

}  // namespace dytgrad::kernels::cuda
