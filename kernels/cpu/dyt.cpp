// CPU DyT: y = gamma * tanh(alpha x) + beta over the last dim, forward (alone, or fused with the
// residual add before it) and backward, row by row. Parameter gradients (summed over rows)
// accumulate in double per column. LayerNorm and RMSNorm are in layer_norm.cpp.
#include "kernels/norms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/column_sums.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/row_math.h"
#include "kernels/cpu/vector_math.h"

namespace dytgrad::kernels::cpu {

// Each block loop below fills its scratch t[0, n) before vector_math reads it; GCC cannot always
// see that (with -march=native it warns), so the warning is off in this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// DyT forward: y = gamma * tanh(alpha x) + beta. Reads x, writes y (8 bytes an element in float32),
// a block of a row at a time: scale, tanh (vector_math), affine, each a plain loop over L1.
template <class T>
void dyt_forward(const T* x, const T* alpha, const T* gamma, const T* beta, T* y, int64_t rows, int64_t cols) {
  const T a = *alpha;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    T t[vector_math::kBlock];
    for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
      int64_t n = std::min(vector_math::kBlock, cols - c0);
      const T* xr = x + r * cols + c0;
      T* yr = y + r * cols + c0;
      for (int64_t i = 0; i < n; ++i) t[i] = a * xr[i];
      vector_math::tanh(t, t, n);
      for (int64_t i = 0; i < n; ++i) yr[i] = gamma[c0 + i] * t[i] + beta[c0 + i];
    }
  }
}

// Residual add + DyT: sum = x + y, out = gamma * tanh(alpha sum) + beta. Reads x and y, writes
// sum and out (16 bytes an element in float32, against 20 for an add and a dyt_forward apart).
template <class T>
void add_dyt_forward(const T* x, const T* y, const T* alpha, const T* gamma, const T* beta, T* sum, T* out,
                     int64_t rows, int64_t cols) {
  const T a = *alpha;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    T t[vector_math::kBlock];
    for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
      int64_t n = std::min(vector_math::kBlock, cols - c0), o = r * cols + c0;
      for (int64_t i = 0; i < n; ++i) {
        sum[o + i] = x[o + i] + y[o + i];
        t[i] = a * sum[o + i];
      }
      vector_math::tanh(t, t, n);
      for (int64_t i = 0; i < n; ++i) out[o + i] = gamma[c0 + i] * t[i] + beta[c0 + i];
    }
  }
}

// One run of at most vector_math::kBlock elements of a row of the DyT backward: dx, and the
// run's contributions to the column sums of dy t, dy and g x. (A function of its own, with
// __restrict pointers, so that GCC vectorises it: inside the lambda below it did not.)
template <class T>
void dyt_backward_run(const T* __restrict x, const T* __restrict dy, const T* __restrict gamma, T a,
                      T* __restrict dx, T* __restrict sum_dy_t, T* __restrict sum_dy, T* __restrict sum_g_x,
                      int64_t n) {
  T t[vector_math::kBlock];
  for (int64_t i = 0; i < n; ++i) t[i] = a * x[i];
  vector_math::tanh(t, t, n);
  for (int64_t i = 0; i < n; ++i) {
    T g = dy[i] * gamma[i] * (T(1) - t[i] * t[i]);
    dx[i] = a * g;
    sum_g_x[i] += g * x[i];
    sum_dy_t[i] += dy[i] * t[i];
    sum_dy[i] += dy[i];
  }
}

// DyT backward, t = tanh(alpha x), g = dy gamma (1 - t^2):
//   dx = alpha g,  dalpha = sum x g,  dgamma = sum_rows dy t,  dbeta = sum_rows dy.
// Reads x and dy, writes dx (12 bytes an element in float32), recomputing t. The three parameter
// gradients are column sums (column_sums.h: fixed row blocks, so any thread count gives the same
// bits; within a block of 64 rows in T, across blocks in double); dalpha is summed per column
// first, then over the columns, so every loop vectorises.
template <class T>
void dyt_backward(const T* x, const T* alpha, const T* gamma, const T* dy, T* dx, T* dalpha, T* dgamma, T* dbeta,
                  int64_t rows, int64_t cols) {
  const T a = *alpha;
  std::vector<double> sums(size_t(3 * cols));  // [dgamma | dbeta | dalpha by column]
  column_sums(rows, 3 * cols, sums.data(), [&](int64_t first, int64_t end, double* partial) {
    // the block's sums in T (at most kRowsPerSumBlock terms each), then added to the double partials
    std::vector<T> block(size_t(3 * cols), T(0));
    for (int64_t r = first; r < end; ++r)
      for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
        int64_t o = r * cols + c0;
        dyt_backward_run(x + o, dy + o, gamma + c0, a, dx + o, block.data() + c0, block.data() + cols + c0,
                         block.data() + 2 * cols + c0, std::min(vector_math::kBlock, cols - c0));
      }
    for (int64_t j = 0; j < 3 * cols; ++j) partial[j] += double(block[size_t(j)]);
  });
  double alpha_sum = 0;
  for (int64_t c = 0; c < cols; ++c) {
    dgamma[c] = T(sums[size_t(c)]);
    dbeta[c] = T(sums[size_t(cols + c)]);
    alpha_sum += sums[size_t(2 * cols + c)];
  }
  *dalpha = T(alpha_sum);
}

#define DYT_INSTANTIATE_DYT(T)                                                                                 \
  template void dyt_forward<T>(const T*, const T*, const T*, const T*, T*, int64_t, int64_t);                  \
  template void dyt_backward<T>(const T*, const T*, const T*, const T*, T*, T*, T*, T*, int64_t, int64_t);     \
  template void add_dyt_forward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, int64_t, int64_t);
DYT_INSTANTIATE_DYT(float)
DYT_INSTANTIATE_DYT(double)

}  // namespace dytgrad::kernels::cpu
