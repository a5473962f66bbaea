// Attention as batched cuBLAS GEMMs on tensor cores (TF32 under the matmul switch, strict fp32
// without it) and three small kernels, float32. The tq x tk scores of a block of heads live in a
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
// Scratch: one tq x tk float32 matrix a head forward, two backward, in blocks of heads within 1 GiB.
#include "kernels/cuda/attention_gemm.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/matmul.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

constexpr size_t kScratchBytes = size_t(1) << 30;

// Heads a block so that `matrices` score matrices of each fit the scratch budget (0: not one head,
// or no keys: the other kernels handle those).
int64_t heads_per_block(const AttentionShape& s, int matrices) {
  if (s.tk == 0) return 0;
  size_t per_head = sizeof(float) * size_t(s.tq) * size_t(s.tk) * size_t(matrices);
  return std::min<int64_t>(s.heads, int64_t(kScratchBytes / per_head));
}

__device__ inline bool visible(const AttentionShape& s, int64_t i, int64_t j) { return !s.causal || j <= i; }

// C[h] = op(A[h]) op(B[h]) for `heads` heads, row-major, each operand `stride_*` floats from the last.
void per_head(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b, float* c, int64_t ldc,
              int64_t stride_c, int64_t heads) {
  GemmShape g;
  g.transpose_a = transpose_a, g.transpose_b = transpose_b;
  g.m = m, g.n = n, g.k = k;
  g.lda = lda, g.ldb = ldb, g.ldc = ldc;
  g.stride_a = stride_a, g.stride_b = stride_b, g.stride_c = stride_c;
  g.batch = heads;
  gemm_batched<float>(g, a, b, c);
}

// One block a score row r (query i = r % tq): lse_r = log sum_j exp(scale S_rj) over the visible j
// (the online max and sum, one read), then P_rj = exp(scale S_rj - lse_r) over S, 0 where masked.
// Traffic: the row read twice (the second time from cache), written once; lse written.
__global__ void softmax_rows(AttentionShape s, float* scores, float* lse) {
  __shared__ float scratch[32];
  int64_t r = blockIdx.x, i = r % s.tq;
  float* row = scores + r * s.tk;
  float scale = float(s.scale), m = -INFINITY, sum = 0;
  for (int64_t j = threadIdx.x; j < s.tk; j += blockDim.x)
    if (visible(s, i, j)) online_add(m, sum, scale * row[j]);
  online_merge(m, sum, scratch);
  float l = m + logf(sum);
  for (int64_t j = threadIdx.x; j < s.tk; j += blockDim.x) row[j] = visible(s, i, j) ? expf(scale * row[j] - l) : 0.f;
  if (threadIdx.x == 0) lse[r] = l;
}

// P = exp(scale S - lse) over n scores in place, 0 where masked. Traffic: n read, n written.
__global__ void probabilities(AttentionShape s, float* scores, const float* lse, int64_t n) {
  float scale = float(s.scale);
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    int64_t r = idx / s.tk, j = idx % s.tk;
    scores[idx] = visible(s, r % s.tq, j) ? expf(scale * scores[idx] - lse[r]) : 0.f;
  }
}

// D_r = dO_r . O_r for `rows` rows of d values, a warp a row. Traffic: out and dout read once.
__global__ void row_dots(const float* out, const float* dout, float* delta, int64_t rows, int64_t d) {
  int64_t r = int64_t(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (r >= rows) return;
  float acc = 0;
  for (int64_t c = threadIdx.x & 31; c < d; c += 32) acc += out[r * d + c] * dout[r * d + c];
  acc = warp_sum(acc);
  if ((threadIdx.x & 31) == 0) delta[r] = acc;
}

// dS = scale P (dP - D) over dP, n scores (P is 0 where masked, so dS is too). Traffic: 2n read, n written.
__global__ void score_gradients(AttentionShape s, const float* p, float* dp, const float* delta, int64_t n) {
  float scale = float(s.scale);
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x)
    dp[idx] = scale * p[idx] * (dp[idx] - delta[idx / s.tk]);
}

}  // namespace

bool gemm_attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                            float* logsumexp) {
  int64_t block = heads_per_block(s, 1);
  if (block == 0) return false;
  const int64_t tq = s.tq, tk = s.tk, d = s.d;
  float* scores = static_cast<float*>(allocate(sizeof(float) * size_t(block * tq * tk)));
  for (int64_t h0 = 0; h0 < s.heads; h0 += block) {
    int64_t heads = std::min(block, s.heads - h0);
    const float *qh = q + h0 * tq * d, *kh = k + h0 * tk * d, *vh = v + h0 * tk * d;
    per_head(false, true, tq, tk, d, qh, d, tq * d, kh, d, tk * d, scores, tk, tq * tk, heads);  // S = Q K^T
    softmax_rows<<<unsigned(heads * tq), row_threads(tk)>>>(s, scores, logsumexp + h0 * tq);
    DYT_CUDA_LAUNCHED();
    per_head(false, false, tq, d, tk, scores, tk, tq * tk, vh, d, tk * d, out + h0 * tq * d, d, tq * d, heads);  // O = P V
  }
  release(scores);
  return true;
}

bool gemm_attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out,
                             const float* logsumexp, const float* dout, float* dq, float* dk, float* dv) {
  int64_t block = heads_per_block(s, 2);
  if (block == 0) return false;
  const int64_t tq = s.tq, tk = s.tk, d = s.d, rows = s.heads * tq;
  float* delta = static_cast<float*>(allocate(sizeof(float) * size_t(rows)));
  row_dots<<<unsigned((rows + 7) / 8), 256>>>(out, dout, delta, rows, d);
  DYT_CUDA_LAUNCHED();
  float* p = static_cast<float*>(allocate(sizeof(float) * size_t(2 * block * tq * tk)));
  float* dp = p + block * tq * tk;
  for (int64_t h0 = 0; h0 < s.heads; h0 += block) {
    int64_t heads = std::min(block, s.heads - h0), n = heads * tq * tk;
    const float *qh = q + h0 * tq * d, *kh = k + h0 * tk * d, *vh = v + h0 * tk * d, *gh = dout + h0 * tq * d;
    per_head(false, true, tq, tk, d, qh, d, tq * d, kh, d, tk * d, p, tk, tq * tk, heads);  // S = Q K^T
    probabilities<<<grid_for(n), kThreads>>>(s, p, logsumexp + h0 * tq, n);
    DYT_CUDA_LAUNCHED();
    per_head(true, false, tk, d, tq, p, tk, tq * tk, gh, d, tq * d, dv + h0 * tk * d, d, tk * d, heads);  // dV = P^T dO
    per_head(false, true, tq, tk, d, gh, d, tq * d, vh, d, tk * d, dp, tk, tq * tk, heads);  // dP = dO V^T
    score_gradients<<<grid_for(n), kThreads>>>(s, p, dp, delta + h0 * tq, n);
    DYT_CUDA_LAUNCHED();
    per_head(false, false, tq, d, tk, dp, tk, tq * tk, kh, d, tk * d, dq + h0 * tq * d, d, tq * d, heads);  // dQ = dS K
    per_head(true, false, tk, d, tq, dp, tk, tq * tk, qh, d, tq * d, dk + h0 * tk * d, d, tk * d, heads);  // dK = dS^T Q
  }
  release(p);
  release(delta);
  return true;
}

}  // namespace dytgrad::kernels::cuda
