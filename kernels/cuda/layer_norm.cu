// LayerNorm and RMSNorm over the last dim. One template serves both: `Centered` is LayerNorm
// (subtract the mean, add beta), otherwise RMSNorm.
//
// Forward, one block per row, the row held in registers (row_vector.cuh):
//   mean = sum(x) / n (LayerNorm only); rstd = 1 / sqrt(sum((x - mean)^2) / n + eps)
//   y = (x - mean) * rstd * gamma (+ beta); mean and rstd saved per row.
//   Traffic: read x once, write y once.
// Backward, each block walks a chunk of rows, one row at a time across all its threads:
//   g = dy * gamma, xhat = (x - mean) * rstd,
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))   (RMSNorm: without the mean(g) term)
//   dgamma = sum_rows dy * xhat, dbeta = sum_rows dy: per-column partials in registers, written
//   once per block and summed by column_partials_sum (deterministic, no atomics).
//   Traffic: read x and dy, write dx (3 passes) plus the partials.
#include "kernels/cuda/column_partials.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/row_vector.cuh"
#include "kernels/memory.h"
#include "kernels/norms.h"

namespace dytgrad::kernels::cuda {

namespace {

template <bool Centered, int K>
__global__ void norm_forward_rows(const float* x, const float* gamma, const float* beta, float* y, float* mean_out,
                                  float* rstd_out, int64_t cols, float eps) {
  __shared__ float scratch[32];
  int64_t row = blockIdx.x;
  const float4* xr = reinterpret_cast<const float4*>(x + row * cols);
  float4* yr = reinterpret_cast<float4*>(y + row * cols);
  int n4 = int(cols / 4);
  float4 v[K];
  float s = 0;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    int j = threadIdx.x + k * blockDim.x;
    v[k] = j < n4 ? xr[j] : make_float4(0, 0, 0, 0);
    s += sum4(v[k]);
  }
  float mean = Centered ? block_sum(s, scratch) / float(cols) : 0.f;
  float ss = 0;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    if (threadIdx.x + k * blockDim.x >= n4) continue;
    float a = v[k].x - mean, b = v[k].y - mean, c = v[k].z - mean, d = v[k].w - mean;
    ss += (a * a + b * b) + (c * c + d * d);
  }
  float rstd = rsqrtf(block_sum(ss, scratch) / float(cols) + eps);
  if (threadIdx.x == 0) {
    if (Centered) mean_out[row] = mean;
    rstd_out[row] = rstd;
  }
#pragma unroll
  for (int k = 0; k < K; ++k) {
    int j = threadIdx.x + k * blockDim.x;
    if (j >= n4) continue;
    float4 g = __ldg(reinterpret_cast<const float4*>(gamma) + j);
    float4 b = Centered ? __ldg(reinterpret_cast<const float4*>(beta) + j) : make_float4(0, 0, 0, 0);
    yr[j] = make_float4((v[k].x - mean) * rstd * g.x + b.x, (v[k].y - mean) * rstd * g.y + b.y,
                        (v[k].z - mean) * rstd * g.z + b.z, (v[k].w - mean) * rstd * g.w + b.w);
  }
}

template <bool Centered, class T>
__global__ void norm_forward_any(const T* x, const T* gamma, const T* beta, T* y, T* mean_out, T* rstd_out,
                                 int64_t cols, double eps) {
  __shared__ T scratch[32];
  const T* xr = x + blockIdx.x * cols;
  T s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
  T mean = Centered ? block_sum(s, scratch) / T(cols) : T(0);
  T ss = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) ss += (xr[c] - mean) * (xr[c] - mean);
  T rstd = T(1) / sqrt(block_sum(ss, scratch) / T(cols) + T(eps));
  if (threadIdx.x == 0) {
    if (Centered) mean_out[blockIdx.x] = mean;
    rstd_out[blockIdx.x] = rstd;
  }
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    y[blockIdx.x * cols + c] = (xr[c] - mean) * rstd * gamma[c] + (Centered ? beta[c] : T(0));
}

template <bool Centered, int K>
__global__ void norm_backward_rows(const float* x, const float* gamma, const float* mean_in, const float* rstd_in,
                                   const float* dy, float* dx, float* partial_gamma, float* partial_beta, int64_t rows,
                                   int64_t cols, int64_t rows_per_block) {
  __shared__ float scratch[32];
  int n4 = int(cols / 4);
  float4 gam[K], acc_g[K], acc_b[K];
#pragma unroll
  for (int k = 0; k < K; ++k) {
    int j = threadIdx.x + k * blockDim.x;
    gam[k] = j < n4 ? reinterpret_cast<const float4*>(gamma)[j] : make_float4(0, 0, 0, 0);
    acc_g[k] = acc_b[k] = make_float4(0, 0, 0, 0);
  }
  int64_t r0 = blockIdx.x * rows_per_block, r1 = min(rows, r0 + rows_per_block);
  float inv_cols = 1.f / float(cols);
  for (int64_t r = r0; r < r1; ++r) {
    const float4* xr = reinterpret_cast<const float4*>(x + r * cols);
    const float4* gr = reinterpret_cast<const float4*>(dy + r * cols);
    float mean = Centered ? mean_in[r] : 0.f, rstd = rstd_in[r];
    float4 xh[K], g[K];
    float sum_g = 0, sum_gx = 0;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      int j = threadIdx.x + k * blockDim.x;
      if (j >= n4) continue;
      float4 v = xr[j], d = gr[j];
      xh[k] = make_float4((v.x - mean) * rstd, (v.y - mean) * rstd, (v.z - mean) * rstd, (v.w - mean) * rstd);
      g[k] = make_float4(d.x * gam[k].x, d.y * gam[k].y, d.z * gam[k].z, d.w * gam[k].w);
      sum_g += sum4(g[k]);
      sum_gx += (g[k].x * xh[k].x + g[k].y * xh[k].y) + (g[k].z * xh[k].z + g[k].w * xh[k].w);
      acc_g[k].x += d.x * xh[k].x, acc_g[k].y += d.y * xh[k].y, acc_g[k].z += d.z * xh[k].z, acc_g[k].w += d.w * xh[k].w;
      acc_b[k].x += d.x, acc_b[k].y += d.y, acc_b[k].z += d.z, acc_b[k].w += d.w;
    }
    float mg = Centered ? block_sum(sum_g, scratch) * inv_cols : 0.f;
    float mgx = block_sum(sum_gx, scratch) * inv_cols;
    float4* dr = reinterpret_cast<float4*>(dx + r * cols);
#pragma unroll
    for (int k = 0; k < K; ++k) {
      int j = threadIdx.x + k * blockDim.x;
      if (j >= n4) continue;
      dr[j] = make_float4(rstd * (g[k].x - mg - xh[k].x * mgx), rstd * (g[k].y - mg - xh[k].y * mgx),
                          rstd * (g[k].z - mg - xh[k].z * mgx), rstd * (g[k].w - mg - xh[k].w * mgx));
    }
  }
#pragma unroll
  for (int k = 0; k < K; ++k) {
    int j = threadIdx.x + k * blockDim.x;
    if (j >= n4) continue;
    reinterpret_cast<float4*>(partial_gamma + blockIdx.x * cols)[j] = acc_g[k];
    if (Centered) reinterpret_cast<float4*>(partial_beta + blockIdx.x * cols)[j] = acc_b[k];
  }
}

// Any type and length: rows are re-read from global memory for each pass, and the parameter
// partials take one more pass over the block's rows, one thread per column.
template <bool Centered, class T>
__global__ void norm_backward_any(const T* x, const T* gamma, const T* mean_in, const T* rstd_in, const T* dy, T* dx,
                                  T* partial_gamma, T* partial_beta, int64_t rows, int64_t cols, int64_t rows_per_block) {
  __shared__ T scratch[32];
  int64_t r0 = blockIdx.x * rows_per_block, r1 = min(rows, r0 + rows_per_block);
  for (int64_t r = r0; r < r1; ++r) {
    T mean = Centered ? mean_in[r] : T(0), rstd = rstd_in[r], sum_g = 0, sum_gx = 0;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
      T g = dy[r * cols + c] * gamma[c], xh = (x[r * cols + c] - mean) * rstd;
      sum_g += g;
      sum_gx += g * xh;
    }
    T mg = Centered ? block_sum(sum_g, scratch) / T(cols) : T(0);
    T mgx = block_sum(sum_gx, scratch) / T(cols);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
      T g = dy[r * cols + c] * gamma[c], xh = (x[r * cols + c] - mean) * rstd;
      dx[r * cols + c] = rstd * (g - mg - xh * mgx);
    }
  }
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    T sg = 0, sb = 0;
    for (int64_t r = r0; r < r1; ++r) {
      T mean = Centered ? mean_in[r] : T(0);
      sg += dy[r * cols + c] * (x[r * cols + c] - mean) * rstd_in[r];
      sb += dy[r * cols + c];
    }
    partial_gamma[blockIdx.x * cols + c] = sg;
    if (Centered) partial_beta[blockIdx.x * cols + c] = sb;
  }
}

template <bool Centered, class T>
void norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows, int64_t cols,
                  double eps) {
  if (rows == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    int threads = row_threads(cols / 4), k = chunks_per_thread(cols, threads);
    if (k > 0 && row_vectorizable(cols, x) && row_vectorizable(cols, y) && row_vectorizable(cols, gamma) &&
        (!Centered || row_vectorizable(cols, beta))) {
      with_chunks(k, [&](auto chunks) {
        norm_forward_rows<Centered, decltype(chunks)::value>
            <<<unsigned(rows), threads, 0, stream()>>>(x, gamma, beta, y, mean, rstd, cols, float(eps));
      });
      DYT_CUDA_LAUNCHED();
      return;
    }
  }
  norm_forward_any<Centered><<<unsigned(rows), row_threads(cols), 0, stream()>>>(
      x, gamma, beta, y, mean, rstd, cols, eps);
  DYT_CUDA_LAUNCHED();
}

template <bool Centered, class T>
void norm_backward(const T* x, const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx, T* dgamma, T* dbeta,
                   int64_t rows, int64_t cols) {
  int threads = row_threads(cols / 4), k = chunks_per_thread(cols, threads);
  bool vec = std::is_same_v<T, float> && k > 0 && row_vectorizable(cols, x) && row_vectorizable(cols, dy) &&
             row_vectorizable(cols, dx) && row_vectorizable(cols, gamma);
  if (!vec) threads = row_threads(cols);
  int64_t blocks = 1;
  if constexpr (std::is_same_v<T, float>) {
    if (vec && rows > 0)
      with_chunks(k, [&](auto chunks) {
        blocks = row_blocks_for(norm_backward_rows<Centered, decltype(chunks)::value>, rows, threads);
      });
  }
  if (!vec && rows > 0) blocks = row_blocks_for(norm_backward_any<Centered, T>, rows, threads);
  int64_t rows_per_block = rows == 0 ? 1 : (rows + blocks - 1) / blocks;
  blocks = rows == 0 ? 1 : (rows + rows_per_block - 1) / rows_per_block;
  T* partials = static_cast<T*>(allocate(sizeof(T) * size_t(2 * blocks * cols)));
  T *partial_gamma = partials, *partial_beta = partials + blocks * cols;
  if constexpr (std::is_same_v<T, float>) {
    if (vec) {
      with_chunks(k, [&](auto chunks) {
        norm_backward_rows<Centered, decltype(chunks)::value><<<unsigned(blocks), threads, 0, stream()>>>(
            x, gamma, mean, rstd, dy, dx, partial_gamma, partial_beta, rows, cols, rows_per_block);
      });
    }
  }
  if (!vec)
    norm_backward_any<Centered><<<unsigned(blocks), threads, 0, stream()>>>(x, gamma, mean, rstd, dy, dx, partial_gamma, partial_beta,
                                                               rows, cols, rows_per_block);
  DYT_CUDA_LAUNCHED();
  PartialSums<T> sums{{partial_gamma, partial_beta, nullptr}, {dgamma, dbeta, nullptr}, {blocks, blocks, 0}, {cols, cols, 0}};
  sum_column_partials(sums, Centered ? 2 : 1);
  release(partials);
}

}  // namespace

template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows, int64_t cols,
                        double eps) {
  norm_forward<true>(x, gamma, beta, y, mean, rstd, rows, cols, eps);
}

template <class T>
void layer_norm_backward(const T* x, const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx, T* dgamma,
                         T* dbeta, int64_t rows, int64_t cols) {
  norm_backward<true>(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols);
}

template <class T>
void rms_norm_forward(const T* x, const T* gamma, T* y, T* rstd, int64_t rows, int64_t cols, double eps) {
  norm_forward<false, T>(x, gamma, nullptr, y, nullptr, rstd, rows, cols, eps);
}

template <class T>
void rms_norm_backward(const T* x, const T* gamma, const T* rstd, const T* dy, T* dx, T* dgamma, int64_t rows,
                       int64_t cols) {
  norm_backward<false, T>(x, gamma, nullptr, rstd, dy, dx, dgamma, nullptr, rows, cols);
}

#define DYT_INSTANTIATE_NORMS(T)                                                                               \
  template void layer_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, double);     \
  template void layer_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t,  \
                                       int64_t);                                                               \
  template void rms_norm_forward<T>(const T*, const T*, T*, T*, int64_t, int64_t, double);                     \
  template void rms_norm_backward<T>(const T*, const T*, const T*, const T*, T*, T*, int64_t, int64_t);
DYT_INSTANTIATE_NORMS(float)
DYT_INSTANTIATE_NORMS(double)

}  // namespace dytgrad::kernels::cuda
