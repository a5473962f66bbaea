// Flash attention, version 2: tiles in shared memory (float32, SIMT).
//
// A block of 256 threads (16 x 16) owns a 64-row tile. Thread (ty, tx) computes a 4 x 4 block of
// the 64 x 64 score tile: rows ty*4.., columns tx*4.., reading 16-byte vectors of the transposed
// tiles Q^T and K^T from shared memory (2 distinct rows per warp: broadcast, no bank conflicts).
// Scores are kept in log2 units (q is pre-scaled by scale * log2 e) so that exp2f does the work.
//
// forward (one block per 64 queries of a head), per 64-key tile j <= the block's last query:
//   S = Q K^T; online softmax per row (max and sum across the 16 threads of a row by shuffles):
//   m' = max(m, rowmax S), l = l 2^(m - m') + rowsum 2^(S - m'), O = O 2^(m - m') + 2^(S - m') V
//   finally O /= l and lse = (m + log2 l) ln 2. FLOPs: 4 tq tk d (halved by causal tile skipping).
//   Traffic: q, out once; k, v once per query tile (from L2).
// backward, recomputing P = 2^(S - lse) from the saved lse, with D_i = dO_i . O_i:
//   key kernel (one block per 64 keys), over query tiles i >= j:
//     dV += P^T dO, dS = P (dO V^T - D), dK += scale dS^T Q
//   query kernel (one block per 64 queries), over key tiles j <= i:
//     dQ += scale dS K
//   Two kernels instead of float atomics on dQ: 7 tile products instead of 5, deterministic.
//   Traffic: the key kernel reads its k and v tiles once and writes dk, dv once; per query tile it
//   reads q, dO (and lse, D) again; the query kernel reads q, dO once, writes dq once, and reads k,
//   v again per key tile. So q and dO come from memory about tk / 64 times, k and v about tq / 64
//   times (halved when causal), mostly from L2; D = rowsum(dO O) reads dO and O once more.
// Shared memory: forward 42 / 67 / 116 KB for d = 32 / 64 / 128; backward key kernel 112.5 KB at
// d = 64 (two blocks per SM) and 213 KB at d = 128 (one), query kernel 97 / 177 KB.
#include "kernels/cuda/attention_tiled.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

constexpr int B = 64;            // rows of every tile
constexpr int PS = B + 4;        // padded row of the probability tiles: rows ty and ty + 1 in other banks
constexpr int kTiledThreads = 256;
constexpr float kLog2e = 1.4426950408889634f, kLn2 = 0.6931471805599453f;

// Copies rows [r0, r0 + 64) of a [rows, D] matrix into a [64][D] tile (rows past the end are 0).
template <int D> __device__ void load_rows(float* tile, const float* src, int64_t r0, int64_t rows, float scale) {
  for (int idx = threadIdx.x; idx < B * D / 4; idx += kTiledThreads) {
    int r = idx / (D / 4), c = (idx % (D / 4)) * 4;
    float4 v = r0 + r < rows ? *reinterpret_cast<const float4*>(src + (r0 + r) * D + c) : make_float4(0, 0, 0, 0);
    *reinterpret_cast<float4*>(tile + r * D + c) = make_float4(v.x * scale, v.y * scale, v.z * scale, v.w * scale);
  }
}

// The same rows, transposed into a [D][64] tile. Lane i reads row i (so that the transposed stores of
// a warp hit consecutive addresses: no bank conflicts).
template <int D> __device__ void load_rows_transposed(float* tile, const float* src, int64_t r0, int64_t rows, float scale) {
  for (int idx = threadIdx.x; idx < B * D / 4; idx += kTiledThreads) {
    int r = idx % B, c = (idx / B) * 4;
    float4 v = r0 + r < rows ? *reinterpret_cast<const float4*>(src + (r0 + r) * D + c) : make_float4(0, 0, 0, 0);
    tile[(c + 0) * B + r] = v.x * scale;
    tile[(c + 1) * B + r] = v.y * scale;
    tile[(c + 2) * B + r] = v.z * scale;
    tile[(c + 3) * B + r] = v.w * scale;
  }
}

// acc[r][c] += sum_d A^T[d][ty*4 + r] * B^T[d][tx*4 + c] for two transposed [D][64] tiles.
template <int D> __device__ void tile_product(float (&acc)[4][4], const float* at, const float* bt, int ty, int tx) {
#pragma unroll 8
  for (int d = 0; d < D; ++d) {
    float4 a = *reinterpret_cast<const float4*>(at + d * B + ty * 4);
    float4 b = *reinterpret_cast<const float4*>(bt + d * B + tx * 4);
    float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
    for (int r = 0; r < 4; ++r)
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[r][c] = fmaf(av[r], bv[c], acc[r][c]);
  }
}

// Output columns of thread tx: 4 per 64 columns (2 when D = 32), as 16- or 8-byte groups.
template <int D> constexpr int columns_per_thread() { return D / 16; }
template <int D> __device__ int column(int tx, int e) { return D == 32 ? tx * 2 + e : (e / 4) * 64 + tx * 4 + e % 4; }

// acc[r][e] += sum_j w[ty*4 + r][j] * rows[j][column(e)]: w a [64][W] tile, rows a [64][D] tile.
template <int D, int W = PS>
__device__ void weighted_rows(float (&acc)[4][columns_per_thread<D>()], const float* w, const float* rows, int ty, int tx) {
  constexpr int C = columns_per_thread<D>();
#pragma unroll 2
  for (int j = 0; j < B; j += 4) {
    float wv[4][4];
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      float4 t = *reinterpret_cast<const float4*>(w + (ty * 4 + r) * W + j);
      wv[r][0] = t.x, wv[r][1] = t.y, wv[r][2] = t.z, wv[r][3] = t.w;
    }
#pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      float rv[C];
#pragma unroll
      for (int e = 0; e < C; ++e) rv[e] = rows[(j + jj) * D + column<D>(tx, e)];
#pragma unroll
      for (int r = 0; r < 4; ++r)
#pragma unroll
        for (int e = 0; e < C; ++e) acc[r][e] = fmaf(wv[r][jj], rv[e], acc[r][e]);
    }
  }
}

__device__ inline float row_max16(float v) {
  for (int o = 8; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ inline float row_sum16(float v) {
  for (int o = 8; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ inline void store4(float* p, const float (&v)[4]) { *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]); }

template <int D>
__global__ void __launch_bounds__(kTiledThreads) forward_kernel(AttentionShape s, const float* q, const float* k,
                                                               const float* v, float* out, float* lse) {
  constexpr int C = columns_per_thread<D>();
  extern __shared__ float4 shared4[];
  float* qt = reinterpret_cast<float*>(shared4);  // [D][64], pre-scaled
  float* kt = qt + D * B;                         // [D][64]
  float* vs = kt + D * B;                         // [64][D]
  float* ps = vs + B * D;                         // [64][PS]
  int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
  int64_t h = blockIdx.y, q0 = int64_t(blockIdx.x) * B;
  const float *qh = q + h * s.tq * D, *kh = k + h * s.tk * D, *vh = v + h * s.tk * D;
  load_rows_transposed<D>(qt, qh, q0, s.tq, float(s.scale) * kLog2e);
  float m[4], l[4], o[4][C];
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    m[r] = -INFINITY, l[r] = 0;
#pragma unroll
    for (int e = 0; e < C; ++e) o[r][e] = 0;
  }
  int64_t key_end = s.causal ? min(s.tk, q0 + B) : s.tk;
  for (int64_t k0 = 0; k0 < key_end; k0 += B) {
    __syncthreads();
    load_rows_transposed<D>(kt, kh, k0, s.tk, 1.f);
    load_rows<D>(vs, vh, k0, s.tk, 1.f);
    __syncthreads();
    float sc[4][4] = {};
    tile_product<D>(sc, qt, kt, ty, tx);
    if (k0 + B > s.tk || (s.causal && k0 + B - 1 > q0)) {
#pragma unroll
      for (int r = 0; r < 4; ++r)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          int64_t i = q0 + ty * 4 + r, j = k0 + tx * 4 + c;
          if (j >= s.tk || (s.causal && j > i)) sc[r][c] = -INFINITY;
        }
    }
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      float mx = row_max16(fmaxf(fmaxf(sc[r][0], sc[r][1]), fmaxf(sc[r][2], sc[r][3])));
      float m_new = fmaxf(m[r], mx), correction = exp2f(m[r] - m_new);
      float p[4];
#pragma unroll
      for (int c = 0; c < 4; ++c) p[c] = exp2f(sc[r][c] - m_new);
      l[r] = l[r] * correction + row_sum16((p[0] + p[1]) + (p[2] + p[3]));
      m[r] = m_new;
#pragma unroll
      for (int e = 0; e < C; ++e) o[r][e] *= correction;
      store4(ps + (ty * 4 + r) * PS + tx * 4, p);
    }
    __syncthreads();
    weighted_rows<D>(o, ps, vs, ty, tx);
  }
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    int64_t i = q0 + ty * 4 + r;
    if (i >= s.tq) continue;
#pragma unroll
    for (int e = 0; e < C; ++e) out[(h * s.tq + i) * D + column<D>(tx, e)] = o[r][e] / l[r];
    if (tx == 0) lse[h * s.tq + i] = (m[r] + log2f(l[r])) * kLn2;
  }
}

// delta[i] = dO_i . O_i, and lse in log2 units, one warp per row.
template <int D> __global__ void delta_kernel(int64_t rows, const float* out, const float* dout, const float* lse,
                                              float* delta, float* lse2) {
  int64_t row = int64_t(blockIdx.x) * 8 + (threadIdx.x >> 5);
  if (row >= rows) return;
  float acc = 0;
  for (int c = threadIdx.x & 31; c < D; c += 32) acc += out[row * D + c] * dout[row * D + c];
  acc = warp_sum(acc);
  if ((threadIdx.x & 31) == 0) {
    delta[row] = acc;
    lse2[row] = lse[row] * kLog2e;
  }
}

// P (log2-unit scores minus lse2) and dS = P (dP - delta) for one 4 x 4 block; masked entries 0.
__device__ inline void probabilities(float (&p)[4][4], float (&ds)[4][4], const float (&sc)[4][4], const float (&dp)[4][4],
                                     const float (&lse2)[4], const float (&delta)[4], int64_t (&i)[4], int64_t (&j)[4],
                                     const AttentionShape& s, bool rows_are_keys) {
#pragma unroll
  for (int r = 0; r < 4; ++r)
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      int64_t qi = rows_are_keys ? i[c] : i[r], kj = rows_are_keys ? j[r] : j[c];
      float L = rows_are_keys ? lse2[c] : lse2[r], Dl = rows_are_keys ? delta[c] : delta[r];
      bool visible = qi < s.tq && kj < s.tk && (!s.causal || kj <= qi);
      p[r][c] = visible ? exp2f(sc[r][c] - L) : 0.f;
      ds[r][c] = p[r][c] * (dp[r][c] - Dl);
    }
}

template <int D>
__global__ void __launch_bounds__(kTiledThreads) backward_key_kernel(AttentionShape s, const float* q, const float* k,
                                                                    const float* v, const float* dout, const float* lse2,
                                                                    const float* delta, float* dk, float* dv) {
  constexpr int C = columns_per_thread<D>();
  extern __shared__ float4 shared4[];
  float* kt = reinterpret_cast<float*>(shared4);  // [D][64]
  float* vt = kt + D * B;                         // [D][64]
  float* qt = vt + D * B;                         // [D][64], pre-scaled
  float* dot = qt + D * B;                        // [D][64]
  float* qs = dot + D * B;                        // [64][D]
  float* dos = qs + B * D;                        // [64][D]
  float* wj = dos + B * D;                        // [64 keys][64]: P^T, then dS^T (unpadded, shared:
                                                  // 112.5 KB in all for d = 64, two blocks per SM)
  float* lse_tile = wj + B * B;                   // [64]
  float* delta_tile = lse_tile + B;               // [64]
  int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
  int64_t h = blockIdx.y, k0 = int64_t(blockIdx.x) * B;
  const float *qh = q + h * s.tq * D, *kh = k + h * s.tk * D, *vh = v + h * s.tk * D, *gh = dout + h * s.tq * D;
  load_rows_transposed<D>(kt, kh, k0, s.tk, 1.f);
  load_rows_transposed<D>(vt, vh, k0, s.tk, 1.f);
  float dk_acc[4][C] = {}, dv_acc[4][C] = {};
  int64_t j[4];
#pragma unroll
  for (int r = 0; r < 4; ++r) j[r] = k0 + ty * 4 + r;
  for (int64_t q0 = s.causal ? k0 / B * B : 0; q0 < s.tq; q0 += B) {
    __syncthreads();
    load_rows_transposed<D>(qt, qh, q0, s.tq, float(s.scale) * kLog2e);
    load_rows_transposed<D>(dot, gh, q0, s.tq, 1.f);
    load_rows<D>(qs, qh, q0, s.tq, 1.f);
    load_rows<D>(dos, gh, q0, s.tq, 1.f);
    for (int t = threadIdx.x; t < B; t += kTiledThreads) {
      lse_tile[t] = q0 + t < s.tq ? lse2[h * s.tq + q0 + t] : 0.f;
      delta_tile[t] = q0 + t < s.tq ? delta[h * s.tq + q0 + t] : 0.f;
    }
    __syncthreads();
    float sc[4][4] = {}, dp[4][4] = {}, p[4][4], ds[4][4], L[4], Dl[4];
    int64_t i[4];
    tile_product<D>(sc, kt, qt, ty, tx);   // S^T: rows keys, columns queries
    tile_product<D>(dp, vt, dot, ty, tx);  // dP^T
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      i[c] = q0 + tx * 4 + c;
      L[c] = lse_tile[tx * 4 + c];
      Dl[c] = delta_tile[tx * 4 + c];
    }
    probabilities(p, ds, sc, dp, L, Dl, i, j, s, true);
#pragma unroll
    for (int r = 0; r < 4; ++r) store4(wj + (ty * 4 + r) * B + tx * 4, p[r]);
    __syncthreads();
    weighted_rows<D, B>(dv_acc, wj, dos, ty, tx);
    __syncthreads();
#pragma unroll
    for (int r = 0; r < 4; ++r) store4(wj + (ty * 4 + r) * B + tx * 4, ds[r]);
    __syncthreads();
    weighted_rows<D, B>(dk_acc, wj, qs, ty, tx);
  }
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    if (j[r] >= s.tk) continue;
#pragma unroll
    for (int e = 0; e < C; ++e) {
      dk[(h * s.tk + j[r]) * D + column<D>(tx, e)] = dk_acc[r][e] * float(s.scale);
      dv[(h * s.tk + j[r]) * D + column<D>(tx, e)] = dv_acc[r][e];
    }
  }
}

template <int D>
__global__ void __launch_bounds__(kTiledThreads) backward_query_kernel(AttentionShape s, const float* q, const float* k,
                                                                      const float* v, const float* dout,
                                                                      const float* lse2, const float* delta, float* dq) {
  constexpr int C = columns_per_thread<D>();
  extern __shared__ float4 shared4[];
  float* qt = reinterpret_cast<float*>(shared4);  // [D][64], pre-scaled
  float* dot = qt + D * B;                        // [D][64]
  float* kt = dot + D * B;                        // [D][64]
  float* vt = kt + D * B;                         // [D][64]
  float* ks = vt + D * B;                         // [64][D]
  float* dss = ks + B * D;                        // [64 queries][PS]
  int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
  int64_t h = blockIdx.y, q0 = int64_t(blockIdx.x) * B;
  const float *qh = q + h * s.tq * D, *kh = k + h * s.tk * D, *vh = v + h * s.tk * D, *gh = dout + h * s.tq * D;
  load_rows_transposed<D>(qt, qh, q0, s.tq, float(s.scale) * kLog2e);
  load_rows_transposed<D>(dot, gh, q0, s.tq, 1.f);
  float L[4], Dl[4], dq_acc[4][C] = {};
  int64_t i[4];
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    i[r] = q0 + ty * 4 + r;
    L[r] = i[r] < s.tq ? lse2[h * s.tq + i[r]] : 0.f;
    Dl[r] = i[r] < s.tq ? delta[h * s.tq + i[r]] : 0.f;
  }
  int64_t key_end = s.causal ? min(s.tk, q0 + B) : s.tk;
  for (int64_t k0 = 0; k0 < key_end; k0 += B) {
    __syncthreads();
    load_rows_transposed<D>(kt, kh, k0, s.tk, 1.f);
    load_rows_transposed<D>(vt, vh, k0, s.tk, 1.f);
    load_rows<D>(ks, kh, k0, s.tk, 1.f);
    __syncthreads();
    float sc[4][4] = {}, dp[4][4] = {}, p[4][4], ds[4][4];
    int64_t j[4];
    tile_product<D>(sc, qt, kt, ty, tx);
    tile_product<D>(dp, dot, vt, ty, tx);
#pragma unroll
    for (int c = 0; c < 4; ++c) j[c] = k0 + tx * 4 + c;
    probabilities(p, ds, sc, dp, L, Dl, i, j, s, false);
#pragma unroll
    for (int r = 0; r < 4; ++r) store4(dss + (ty * 4 + r) * PS + tx * 4, ds[r]);
    __syncthreads();
    weighted_rows<D>(dq_acc, dss, ks, ty, tx);
  }
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    if (i[r] >= s.tq) continue;
#pragma unroll
    for (int e = 0; e < C; ++e) dq[(h * s.tq + i[r]) * D + column<D>(tx, e)] = dq_acc[r][e] * float(s.scale);
  }
}

template <class Kernel> void allow_shared(Kernel kernel, size_t bytes) {
  DYT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
}

bool aligned(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

template <int D> void launch_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out, float* lse) {
  size_t bytes = sizeof(float) * (3 * D * B + B * PS);
  allow_shared(forward_kernel<D>, bytes);
  dim3 grid(unsigned((s.tq + B - 1) / B), unsigned(s.heads));
  forward_kernel<D><<<grid, kTiledThreads, bytes, stream()>>>(s, q, k, v, out, lse);
  DYT_CUDA_LAUNCHED();
}

template <int D>
void launch_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out,
                     const float* lse, const float* dout, float* dq, float* dk, float* dv) {
  int64_t rows = s.heads * s.tq;
  float* scratch = static_cast<float*>(allocate(sizeof(float) * size_t(2 * rows)));
  float *delta = scratch, *lse2 = scratch + rows;
  delta_kernel<D><<<unsigned((rows + 7) / 8), 256, 0, stream()>>>(rows, out, dout, lse, delta, lse2);
  DYT_CUDA_LAUNCHED();
  size_t key_bytes = sizeof(float) * (6 * D * B + B * B + 2 * B);
  allow_shared(backward_key_kernel<D>, key_bytes);
  backward_key_kernel<D><<<dim3(unsigned((s.tk + B - 1) / B), unsigned(s.heads)), kTiledThreads, key_bytes, stream()>>>(
      s, q, k, v, dout, lse2, delta, dk, dv);
  DYT_CUDA_LAUNCHED();
  size_t query_bytes = sizeof(float) * (5 * D * B + B * PS);
  allow_shared(backward_query_kernel<D>, query_bytes);
  backward_query_kernel<D><<<dim3(unsigned((s.tq + B - 1) / B), unsigned(s.heads)), kTiledThreads, query_bytes, stream()>>>(
      s, q, k, v, dout, lse2, delta, dq);
  DYT_CUDA_LAUNCHED();
  release(scratch);
}

}  // namespace

bool tiled_attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                             float* logsumexp) {
  if (!aligned(q) || !aligned(k) || !aligned(v) || !aligned(out) || s.heads > 65535) return false;
  if (s.causal && s.tk < s.tq) return false;
  switch (s.d) {
    case 32: launch_forward<32>(s, q, k, v, out, logsumexp); return true;
    case 64: launch_forward<64>(s, q, k, v, out, logsumexp); return true;
    case 128: launch_forward<128>(s, q, k, v, out, logsumexp); return true;
    default: return false;
  }
}

bool tiled_attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v,
                              const float* out, const float* logsumexp, const float* dout, float* dq, float* dk,
                              float* dv) {
  for (const void* p : {static_cast<const void*>(q), static_cast<const void*>(k), static_cast<const void*>(v),
                        static_cast<const void*>(dout), static_cast<const void*>(dq), static_cast<const void*>(dk),
                        static_cast<const void*>(dv)})
    if (!aligned(p)) return false;
  if (s.heads > 65535 || (s.causal && s.tk < s.tq)) return false;
  switch (s.d) {
    case 32: launch_backward<32>(s, q, k, v, out, logsumexp, dout, dq, dk, dv); return true;
    case 64: launch_backward<64>(s, q, k, v, out, logsumexp, dout, dq, dk, dv); return true;
    case 128: launch_backward<128>(s, q, k, v, out, logsumexp, dout, dq, dk, dv); return true;
    default: return false;
  }
}

}  // namespace dytgrad::kernels::cuda
