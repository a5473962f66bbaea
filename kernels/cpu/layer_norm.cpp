// CPU LayerNorm and RMSNorm over the last dim, row by row (each row's loops in a function of its
// own, so that they vectorise). Parameter gradients (summed over rows) accumulate in double per
// column. DyT is in dyt.cpp.
#include "kernels/norms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/column_sums.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/row_math.h"
#include "kernels/cpu/vector_math.h"

namespace dytgrad::kernels::cpu {

// One row of the LayerNorm forward (a function of its own, so that its loops vectorise).
template <class T>
void layer_norm_row(const T* __restrict x, const T* __restrict gamma, const T* __restrict beta, T* __restrict y,
                    T* mean, T* rstd, int64_t cols, double eps) {
  double m = row_sum(x, cols) / double(cols);
  const T mt = T(m);
  for (int64_t c = 0; c < cols; ++c) y[c] = x[c] - mt;
  const T rs = T(1.0 / std::sqrt(row_sum_of_squares(y, cols) / double(cols) + eps));
  for (int64_t c = 0; c < cols; ++c) y[c] = y[c] * rs * gamma[c] + beta[c];
  *mean = mt;
  *rstd = rs;
}

// dx of one row of the LayerNorm backward: rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma,
// xhat = (x - mean) rstd; the two means by blocks through row_sum.
template <class T>
void layer_norm_backward_row(const T* __restrict x, const T* __restrict dy, const T* __restrict gamma, T m, T rs,
                             T* __restrict dx, int64_t cols) {
  double sum_g = 0, sum_g_xhat = 0;
  for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
    int64_t n = std::min(vector_math::kBlock, cols - c0);
    T g[vector_math::kBlock], g_xhat[vector_math::kBlock];
    for (int64_t i = 0; i < n; ++i) {
      g[i] = dy[c0 + i] * gamma[c0 + i];
      g_xhat[i] = g[i] * (x[c0 + i] - m) * rs;
    }
    sum_g += row_sum(g, n);
    sum_g_xhat += row_sum(g_xhat, n);
  }
  const T mean_g = T(sum_g / double(cols)), mean_g_xhat = T(sum_g_xhat / double(cols));
  for (int64_t c = 0; c < cols; ++c) dx[c] = rs * (dy[c] * gamma[c] - mean_g - (x[c] - m) * rs * mean_g_xhat);
}

// One row of the RMSNorm forward: rstd = 1 / sqrt(mean(x^2) + eps), y = x rstd gamma.
template <class T>
void rms_norm_row(const T* __restrict x, const T* __restrict gamma, T* __restrict y, T* rstd, int64_t cols, double eps) {
  const T rs = T(1.0 / std::sqrt(row_sum_of_squares(x, cols) / double(cols) + eps));
  for (int64_t c = 0; c < cols; ++c) y[c] = x[c] * rs * gamma[c];
  *rstd = rs;
}

// dx of one row of the RMSNorm backward: rstd (g - xhat mean(g xhat)), g = dy gamma, xhat = x rstd.
template <class T>
void rms_norm_backward_row(const T* __restrict x, const T* __restrict dy, const T* __restrict gamma, T rs,
                           T* __restrict dx, int64_t cols) {
  double sum_g_xhat = 0;
  for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
    int64_t n = std::min(vector_math::kBlock, cols - c0);
    T g_xhat[vector_math::kBlock];
    for (int64_t i = 0; i < n; ++i) g_xhat[i] = dy[c0 + i] * gamma[c0 + i] * x[c0 + i] * rs;
    sum_g_xhat += row_sum(g_xhat, n);
  }
  const T mean_g_xhat = T(sum_g_xhat / double(cols));
  for (int64_t c = 0; c < cols; ++c) dx[c] = rs * (dy[c] * gamma[c] - x[c] * rs * mean_g_xhat);
}

// LayerNorm forward, per row: the mean (row_sum), the variance of the centred row (written into y
// first, then scaled in place). Reads x, writes y (and mean, rstd per row).
template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows,
                        int64_t cols, double eps) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) layer_norm_row(x + r * cols, gamma, beta, y + r * cols, mean + r, rstd + r, cols, eps);
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * gamma, xhat = (x - mean) * rstd.
template <class T>
void layer_norm_backward(const T* x, const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx, T* dgamma,
                         T* dbeta, int64_t rows, int64_t cols) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r)
    layer_norm_backward_row(x + r * cols, dy + r * cols, gamma, mean[r], rstd[r], dx + r * cols, cols);
  std::vector<double> sums(size_t(2 * cols));  // [dgamma | dbeta]
  column_sums(rows, 2 * cols, sums.data(), [&](int64_t first, int64_t end, double* partial) {
    for (int64_t r = first; r < end; ++r) {
      double m = double(mean[r]), rs = double(rstd[r]);
      for (int64_t c = 0; c < cols; ++c) {
        double g = double(dy[r * cols + c]);
        partial[c] += g * (double(x[r * cols + c]) - m) * rs;
        partial[cols + c] += g;
      }
    }
  });
  for (int64_t c = 0; c < cols; ++c) {
    dgamma[c] = T(sums[size_t(c)]);
    dbeta[c] = T(sums[size_t(cols + c)]);
  }
}

template <class T>
void rms_norm_forward(const T* x, const T* gamma, T* y, T* rstd, int64_t rows, int64_t cols, double eps) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) rms_norm_row(x + r * cols, gamma, y + r * cols, rstd + r, cols, eps);
}

// dx = rstd * (g - xhat * mean(g * xhat)),  g = dy * gamma, xhat = x * rstd.
template <class T>
void rms_norm_backward(const T* x, const T* gamma, const T* rstd, const T* dy, T* dx, T* dgamma, int64_t rows,
                       int64_t cols) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) rms_norm_backward_row(x + r * cols, dy + r * cols, gamma, rstd[r], dx + r * cols, cols);
  std::vector<double> sums(static_cast<size_t>(cols));
  column_sums(rows, cols, sums.data(), [&](int64_t first, int64_t end, double* partial) {
    for (int64_t r = first; r < end; ++r) {
      double rs = double(rstd[r]);
      for (int64_t c = 0; c < cols; ++c) partial[c] += double(dy[r * cols + c]) * double(x[r * cols + c]) * rs;
    }
  });
  for (int64_t c = 0; c < cols; ++c) dgamma[c] = T(sums[size_t(c)]);
}

#define DYT_INSTANTIATE_LAYER_NORMS(T)                                                                         \
  template void layer_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, double);     \
  template void layer_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t,  \
                                       int64_t);                                                               \
  template void rms_norm_forward<T>(const T*, const T*, T*, T*, int64_t, int64_t, double);                     \
  template void rms_norm_backward<T>(const T*, const T*, const T*, const T*, T*, T*, int64_t, int64_t);
DYT_INSTANTIATE_LAYER_NORMS(float)
DYT_INSTANTIATE_LAYER_NORMS(double)

}  // namespace dytgrad::kernels::cpu
