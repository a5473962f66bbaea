// Attention as batched cuBLAS GEMMs on tensor cores and small kernels: float32 (TF32 under the
// matmul switch, strict fp32 without it) and bfloat16 (bfloat16 operands, float32 scores, softmax
// statistics and accumulation; P and dS rounded to bfloat16 for the GEMMs that read them). The tq x
// tk scores of a block of heads live in a
// scratch buffer for the length of one call and are never kept: the backward recomputes them from
// the saved logsumexp, as the flash kernels do. Per block of heads (row-major, one matrix a head):
//  forward:  S = Q K^T                                  GEMM
//            lse_i = log sum_j exp(scale S_ij),  P = exp(scale S - lse) over S (0 where masked)
//            O = P V                                    GEMM
//  backward, with D_i = dO_i . O_i for all rows first:
//            S = Q K^T, P = exp(scale S - lse)          GEMM, elementwise
//            dV = P^T dO,  dP = dO V^T                  GEMMs
//            dS = scale P (dP - D) over dP              elementwise
//            dQ = dS K,  dK = dS^T Q                    GEMMs
// FLOPs: 4 tq tk d forward and 10 tq tk d backward; a causal mask's zeros are multiplied too (twice
// the flash kernels' count), which tensor cores pay for easily. Traffic per head, in floats: forward
// 4 tq tk (S written, read, P written, read); backward 9 tq tk (S written, P read and written, read
// twice, dP written, read and written, dS read twice), plus q, k, v, out and dout once or twice each.
// Scratch: one tq x tk float32 matrix a head forward, two backward (bfloat16: and P, dS in bfloat16
// beside them), in blocks of heads within 1 GiB.
#include "kernels/cuda/attention_gemm.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/matmul.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

constexpr size_t kScratchBytes = size_t(1) << 30;

// float32 scores; bfloat16 ones beside them where E is bfloat16 (for float32 they are the same buffer).
template <class E> constexpr size_t kScoreBytes = sizeof(float) + (std::is_same_v<E, float> ? 0 : sizeof(E));

// n float32 scores rounded up to whole 256-byte lines, so that what lies beside them is aligned.
int64_t padded(int64_t n) { return (n + 63) / 64 * 64; }

// A scratch buffer for n scores: float32, and for bfloat16 the E-typed ones after them.
template <class E> float* allocate_scores(int64_t n) {
  return static_cast<float*>(allocate(sizeof(float) * size_t(padded(n)) + (kScoreBytes<E> - sizeof(float)) * size_t(n)));
}

// Heads a block so that `matrices` score matrices of each fit the scratch budget (0: not one head,
// or no keys: the other kernels handle those).
template <class E> int64_t heads_per_block(const AttentionShape& s, int matrices) {
  if (s.tk == 0) return 0;
  size_t per_head = kScoreBytes<E> * size_t(s.tq) * size_t(s.tk) * size_t(matrices);
  return std::min<int64_t>(s.heads, int64_t(kScratchBytes / per_head));
}

__device__ inline bool visible(const AttentionShape& s, int64_t i, int64_t j) { return !s.causal || j <= i; }

// C[h] = op(A[h]) op(B[h]) for `heads` heads, row-major, each operand `stride_*` elements from the
// last: E operands, an E result or (bfloat16 operands) a float32 one.
template <class E, class C>
void per_head(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, const E* a, int64_t lda,
              int64_t stride_a, const E* b, int64_t ldb, int64_t stride_b, C* c, int64_t ldc, int64_t stride_c,
              int64_t heads) {
  GemmShape g;
  g.transpose_a = transpose_a, g.transpose_b = transpose_b;
  g.m = m, g.n = n, g.k = k;
  g.lda = lda, g.ldb = ldb, g.ldc = ldc;
  g.stride_a = stride_a, g.stride_b = stride_b, g.stride_c = stride_c;
  g.batch = heads;
  if constexpr (std::is_same_v<E, C>) gemm_batched<E>(g, a, b, c);
  else gemm_batched_float_result(g, a, b, c);
}

// One block a score row r (query i = r % tq): lse_r = log sum_j exp(scale S_rj) over the visible j
// (the online max and sum, one read), then P_rj = exp(scale S_rj - lse_r), 0 where masked (p may be
// the scores themselves). Traffic: the row read twice (the second time from cache), P written.
template <class E> __global__ void softmax_rows(AttentionShape s, const float* scores, E* p, float* lse) {
  __shared__ float scratch[32];
  int64_t r = blockIdx.x, i = r % s.tq;
  const float* row = scores + r * s.tk;
  float scale = float(s.scale), m = -INFINITY, sum = 0;
  for (int64_t j = threadIdx.x; j < s.tk; j += blockDim.x)
    if (visible(s, i, j)) online_add(m, sum, scale * row[j]);
  online_merge(m, sum, scratch);
  float l = m + logf(sum);
  E* prow = p + r * s.tk;
  for (int64_t j = threadIdx.x; j < s.tk; j += blockDim.x)
    prow[j] = element_cast<E>(visible(s, i, j) ? expf(scale * row[j] - l) : 0.f);
  if (threadIdx.x == 0) lse[r] = l;
}

// P = exp(scale S - lse) for n scores, 0 where masked (p may be the scores). Traffic: n read, n written.
template <class E> __global__ void probabilities(AttentionShape s, const float* scores, E* p, const float* lse, int64_t n) {
  float scale = float(s.scale);
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    int64_t r = idx / s.tk, j = idx % s.tk;
    p[idx] = element_cast<E>(visible(s, r % s.tq, j) ? expf(scale * scores[idx] - lse[r]) : 0.f);
  }
}

// D_r = dO_r . O_r for `rows` rows of d values, a warp a row. Traffic: out and dout read once.
template <class E> __global__ void row_dots(const E* out, const E* dout, float* delta, int64_t rows, int64_t d) {
  int64_t r = int64_t(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (r >= rows) return;
  float acc = 0;
  for (int64_t c = threadIdx.x & 31; c < d; c += 32)
    acc += element_cast<float>(out[r * d + c]) * element_cast<float>(dout[r * d + c]);
  acc = warp_sum(acc);
  if ((threadIdx.x & 31) == 0) delta[r] = acc;
}

// dS = scale P (dP - D) for n scores (P is 0 where masked, so dS is too; ds may be dp). Traffic: 2n
// read, n written.
template <class E>
__global__ void score_gradients(AttentionShape s, const E* p, const float* dp, E* ds, const float* delta, int64_t n) {
  float scale = float(s.scale);
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x)
    ds[idx] = element_cast<E>(scale * element_cast<float>(p[idx]) * (dp[idx] - delta[idx / s.tk]));
}

// The E-typed scores of a buffer from allocate_scores<E>(n): the float32 ones themselves for
// float32, the elements after them for bfloat16.
template <class E> E* beside(float* scores, int64_t n) {
  if constexpr (std::is_same_v<E, float>) return scores;
  else return reinterpret_cast<E*>(scores + padded(n));
}

}  // namespace

template <class E>
bool gemm_attention_forward(const AttentionShape& s, const E* q, const E* k, const E* v, E* out, float* logsumexp) {
  int64_t block = heads_per_block<E>(s, 1);
  if (block == 0) return false;
  const int64_t tq = s.tq, tk = s.tk, d = s.d, n = block * tq * tk;
  float* scores = allocate_scores<E>(n);
  E* p = beside<E>(scores, n);
  for (int64_t h0 = 0; h0 < s.heads; h0 += block) {
    int64_t heads = std::min(block, s.heads - h0);
    const E *qh = q + h0 * tq * d, *kh = k + h0 * tk * d, *vh = v + h0 * tk * d;
    per_head(false, true, tq, tk, d, qh, d, tq * d, kh, d, tk * d, scores, tk, tq * tk, heads);  // S = Q K^T
    softmax_rows<<<unsigned(heads * tq), row_threads(tk), 0, stream()>>>(s, scores, p, logsumexp + h0 * tq);
    DYT_CUDA_LAUNCHED();
    per_head(false, false, tq, d, tk, p, tk, tq * tk, vh, d, tk * d, out + h0 * tq * d, d, tq * d, heads);  // O = P V
  }
  release(scores);
  return true;
}

template <class E>
bool gemm_attention_backward(const AttentionShape& s, const E* q, const E* k, const E* v, const E* out,
                             const float* logsumexp, const E* dout, E* dq, E* dk, E* dv) {
  int64_t block = heads_per_block<E>(s, 2);
  if (block == 0) return false;
  const int64_t tq = s.tq, tk = s.tk, d = s.d, rows = s.heads * tq, size = block * tq * tk;
  float* delta = static_cast<float*>(allocate(sizeof(float) * size_t(rows)));
  row_dots<<<unsigned((rows + 7) / 8), 256, 0, stream()>>>(out, dout, delta, rows, d);
  DYT_CUDA_LAUNCHED();
  float *scores = allocate_scores<E>(size), *dp = allocate_scores<E>(size);  // S and P; dP and dS
  E *p = beside<E>(scores, size), *ds = beside<E>(dp, size);
  for (int64_t h0 = 0; h0 < s.heads; h0 += block) {
    int64_t heads = std::min(block, s.heads - h0), n = heads * tq * tk;
    const E *qh = q + h0 * tq * d, *kh = k + h0 * tk * d, *vh = v + h0 * tk * d, *gh = dout + h0 * tq * d;
    per_head(false, true, tq, tk, d, qh, d, tq * d, kh, d, tk * d, scores, tk, tq * tk, heads);  // S = Q K^T
    probabilities<<<grid_for(n), kThreads, 0, stream()>>>(s, scores, p, logsumexp + h0 * tq, n);
    DYT_CUDA_LAUNCHED();
    per_head(true, false, tk, d, tq, p, tk, tq * tk, gh, d, tq * d, dv + h0 * tk * d, d, tk * d, heads);  // dV = P^T dO
    per_head(false, true, tq, tk, d, gh, d, tq * d, vh, d, tk * d, dp, tk, tq * tk, heads);  // dP = dO V^T
    score_gradients<<<grid_for(n), kThreads, 0, stream()>>>(s, p, dp, ds, delta + h0 * tq, n);
    DYT_CUDA_LAUNCHED();
    per_head(false, false, tq, d, tk, ds, tk, tq * tk, kh, d, tk * d, dq + h0 * tq * d, d, tq * d, heads);  // dQ = dS K
    per_head(true, false, tk, d, tq, ds, tk, tq * tk, qh, d, tq * d, dk + h0 * tk * d, d, tk * d, heads);  // dK = dS^T Q
  }
  release(dp);
  release(scores);
  release(delta);
  return true;
}

#define DYT_INSTANTIATE_GEMM_ATTENTION(E)                                                                         \
  template bool gemm_attention_forward<E>(const AttentionShape&, const E*, const E*, const E*, E*, float*);        \
  template bool gemm_attention_backward<E>(const AttentionShape&, const E*, const E*, const E*, const E*,         \
                                           const float*, const E*, E*, E*, E*);
DYT_INSTANTIATE_GEMM_ATTENTION(float)
DYT_INSTANTIATE_GEMM_ATTENTION(bfloat16)

}  // namespace dytgrad::kernels::cuda
