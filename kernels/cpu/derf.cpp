// CPU Derf (Dynamic erf, arXiv 2512.10938): y = gamma * erf(alpha x + shift) + beta over the last
// dim, alpha and shift one scalar each. Laid out as DyT's kernels (norms.cpp): blocks of a row in
// L1, the erf and exp of a whole block through vector_math (SLEEF), parameter gradients as column
// sums (column_sums.h: the same bits for any thread count).
#include <algorithm>
#include <vector>

#include "kernels/cpu/column_sums.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/norms.h"

namespace dytgrad::kernels::cpu {

// Each block loop fills its scratch before vector_math reads it; GCC cannot always see that.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// Forward: u = alpha x + shift, y = gamma erf(u) + beta. Reads x, writes y (8 bytes an element in
// float32): affine, erf, affine over each block.
template <class T>
void derf_forward(const T* x, const T* alpha, const T* shift, const T* gamma, const T* beta, T* y, int64_t rows,
                  int64_t cols) {
  const T a = *alpha, s = *shift;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    T e[vector_math::kBlock];
    for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
      int64_t n = std::min(vector_math::kBlock, cols - c0), o = r * cols + c0;
      for (int64_t i = 0; i < n; ++i) e[i] = a * x[o + i] + s;
      vector_math::erf(e, e, n);
      for (int64_t i = 0; i < n; ++i) y[o + i] = gamma[c0 + i] * e[i] + beta[c0 + i];
    }
  }
}

// One run of at most kBlock elements of a row of the backward: dx, and the run's contributions to
// the column sums of dy erf(u), dy, g x and g (g = dy gamma erf'(u)).
template <class T>
void derf_backward_run(const T* __restrict x, const T* __restrict dy, const T* __restrict gamma, T a, T s,
                       T* __restrict dx, T* __restrict sum_dy_e, T* __restrict sum_dy, T* __restrict sum_g_x,
                       T* __restrict sum_g, int64_t n) {
  T u[vector_math::kBlock], e[vector_math::kBlock], d[vector_math::kBlock];
  for (int64_t i = 0; i < n; ++i) {
    u[i] = a * x[i] + s;
    d[i] = -u[i] * u[i];
  }
  vector_math::erf(u, e, n);
  vector_math::exp(d, d, n);
  const T two_over_sqrt_pi = T(1.1283791670955126);
  for (int64_t i = 0; i < n; ++i) {
    T g = dy[i] * gamma[i] * two_over_sqrt_pi * d[i];
    dx[i] = a * g;
    sum_g_x[i] += g * x[i];
    sum_g[i] += g;
    sum_dy_e[i] += dy[i] * e[i];
    sum_dy[i] += dy[i];
  }
}

// Backward, u = alpha x + shift, g = dy gamma 2 / sqrt(pi) exp(-u^2):
//   dx = alpha g,  dalpha = sum g x,  dshift = sum g,  dgamma = sum_rows dy erf(u),  dbeta = sum_rows dy.
// Reads x and dy, writes dx (12 bytes an element in float32), recomputing u. dalpha and dshift
// are summed per column first, then over the columns.
template <class T>
void derf_backward(const T* x, const T* alpha, const T* shift, const T* gamma, const T* dy, T* dx, T* dalpha,
                   T* dshift, T* dgamma, T* dbeta, int64_t rows, int64_t cols) {
  const T a = *alpha, s = *shift;
  std::vector<double> sums(size_t(4 * cols));  // [dgamma | dbeta | dalpha by column | dshift by column]
  column_sums(rows, 4 * cols, sums.data(), [&](int64_t first, int64_t end, double* partial) {
    std::vector<T> block(size_t(4 * cols), T(0));
    T* b = block.data();
    for (int64_t r = first; r < end; ++r)
      for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
        int64_t o = r * cols + c0;
        derf_backward_run(x + o, dy + o, gamma + c0, a, s, dx + o, b + c0, b + cols + c0, b + 2 * cols + c0,
                          b + 3 * cols + c0, std::min(vector_math::kBlock, cols - c0));
      }
    for (int64_t j = 0; j < 4 * cols; ++j) partial[j] += double(block[size_t(j)]);
  });
  double alpha_sum = 0, shift_sum = 0;
  for (int64_t c = 0; c < cols; ++c) {
    dgamma[c] = T(sums[size_t(c)]);
    dbeta[c] = T(sums[size_t(cols + c)]);
    alpha_sum += sums[size_t(2 * cols + c)];
    shift_sum += sums[size_t(3 * cols + c)];
  }
  *dalpha = T(alpha_sum);
  *dshift = T(shift_sum);
}

#define DYT_INSTANTIATE_DERF(T)                                                                              \
  template void derf_forward<T>(const T*, const T*, const T*, const T*, const T*, T*, int64_t, int64_t);     \
  template void derf_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*, int64_t, \
                                 int64_t);
DYT_INSTANTIATE_DERF(float)
DYT_INSTANTIATE_DERF(double)

}  // namespace dytgrad::kernels::cpu
