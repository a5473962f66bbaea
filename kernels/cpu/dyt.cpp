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
// x in X, parameters and math in P, y in Y (mixed precision: X float32 or bfloat16, P float32, Y
// bfloat16; each y rounded once).
template <class X, class P, class Y>
void dyt_forward_rows(const X* x, const P* alpha, const P* gamma, const P* beta, Y* y, int64_t rows, int64_t cols) {
  const P a = *alpha;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    P t[vector_math::kBlock];
    for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
      int64_t n = std::min(vector_math::kBlock, cols - c0);
      const X* xr = x + r * cols + c0;
      Y* yr = y + r * cols + c0;
      for (int64_t i = 0; i < n; ++i) t[i] = a * element_cast<P>(xr[i]);
      vector_math::tanh(t, t, n);
      for (int64_t i = 0; i < n; ++i) yr[i] = element_cast<Y>(gamma[c0 + i] * t[i] + beta[c0 + i]);
    }
  }
}

template <class T>
void dyt_forward(const T* x, const T* alpha, const T* gamma, const T* beta, T* y, int64_t rows, int64_t cols) {
  dyt_forward_rows(x, alpha, gamma, beta, y, rows, cols);
}

template <class X>
void dyt_forward(const X* x, const float* alpha, const float* gamma, const float* beta, bfloat16* y, int64_t rows,
                 int64_t cols) {
  dyt_forward_rows(x, alpha, gamma, beta, y, rows, cols);
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
// run's contributions to the column sums of dy t, dy and g x. x and dx in X, dy in Y, math in P.
// (A function of its own, with __restrict pointers, so that GCC vectorises it: inside the lambda
// below it did not.)
template <class X, class P, class Y>
void dyt_backward_run(const X* __restrict x, const Y* __restrict dy, const P* __restrict gamma, P a,
                      X* __restrict dx, P* __restrict sum_dy_t, P* __restrict sum_dy, P* __restrict sum_g_x,
                      int64_t n) {
  P t[vector_math::kBlock];
  for (int64_t i = 0; i < n; ++i) t[i] = a * element_cast<P>(x[i]);
  vector_math::tanh(t, t, n);
  for (int64_t i = 0; i < n; ++i) {
    P d = element_cast<P>(dy[i]);
    P g = d * gamma[i] * (P(1) - t[i] * t[i]);
    dx[i] = element_cast<X>(a * g);
    sum_g_x[i] += g * element_cast<P>(x[i]);
    sum_dy_t[i] += d * t[i];
    sum_dy[i] += d;
  }
}

// DyT backward, t = tanh(alpha x), g = dy gamma (1 - t^2):
//   dx = alpha g,  dalpha = sum x g,  dgamma = sum_rows dy t,  dbeta = sum_rows dy.
// Reads x and dy, writes dx (12 bytes an element in float32), recomputing t. The three parameter
// gradients are column sums (column_sums.h: fixed row blocks, so any thread count gives the same
// bits; within a block of 64 rows in P, across blocks in double); dalpha is summed per column
// first, then over the columns, so every loop vectorises.
template <class X, class P, class Y>
void dyt_backward_rows(const X* x, const P* alpha, const P* gamma, const Y* dy, X* dx, P* dalpha, P* dgamma, P* dbeta,
                       int64_t rows, int64_t cols) {
  const P a = *alpha;
  std::vector<double> sums(size_t(3 * cols));  // [dgamma | dbeta | dalpha by column]
  column_sums(rows, 3 * cols, sums.data(), [&](int64_t first, int64_t end, double* partial) {
    // the block's sums in P (at most kRowsPerSumBlock terms each), then added to the double partials
    std::vector<P> block(size_t(3 * cols), P(0));
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
    dgamma[c] = P(sums[size_t(c)]);
    dbeta[c] = P(sums[size_t(cols + c)]);
    alpha_sum += sums[size_t(2 * cols + c)];
  }
  *dalpha = P(alpha_sum);
}

template <class T>
void dyt_backward(const T* x, const T* alpha, const T* gamma, const T* dy, T* dx, T* dalpha, T* dgamma, T* dbeta,
                  int64_t rows, int64_t cols) {
  dyt_backward_rows(x, alpha, gamma, dy, dx, dalpha, dgamma, dbeta, rows, cols);
}

template <class X>
void dyt_backward(const X* x, const float* alpha, const float* gamma, const bfloat16* dy, X* dx, float* dalpha,
                  float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  dyt_backward_rows(x, alpha, gamma, dy, dx, dalpha, dgamma, dbeta, rows, cols);
}

#define DYT_INSTANTIATE_DYT(T)                                                                                 \
  template void dyt_forward<T>(const T*, const T*, const T*, const T*, T*, int64_t, int64_t);                  \
  template void dyt_backward<T>(const T*, const T*, const T*, const T*, T*, T*, T*, T*, int64_t, int64_t);     \
  template void add_dyt_forward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, int64_t, int64_t);
DYT_INSTANTIATE_DYT(float)
DYT_INSTANTIATE_DYT(double)

// Mixed precision: bfloat16 or float32 x, bfloat16 y and dy.
#define DYT_INSTANTIATE_DYT_MIXED(X)                                                                            \
  template void dyt_forward<X>(const X*, const float*, const float*, const float*, bfloat16*, int64_t, int64_t); \
  template void dyt_backward<X>(const X*, const float*, const float*, const bfloat16*, X*, float*, float*, float*, \
                                int64_t, int64_t);
DYT_INSTANTIATE_DYT_MIXED(float)
DYT_INSTANTIATE_DYT_MIXED(bfloat16)

}  // namespace dytgrad::kernels::cpu
