// CPU softmax / log_softmax, one row at a time: the max, exp(x - max) through vector_math (SLEEF)
// written straight into y, the sum in double (row_math.h), then one scaling pass.
// Forward reads x twice (max, exp) and writes y twice (exp, scale) while the row sits in L1/L2;
// backward reads y and dy, writes dx.
#include "kernels/softmax.h"

#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/row_math.h"
#include "kernels/cpu/vector_math.h"

namespace dytgrad::kernels::cpu {

template <class T> void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  if (cols == 0) return;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = row_max(xr, cols);
    for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] - m;
    vector_math::exp(yr, yr, cols);
    double sum = row_sum(yr, cols);
    if (log) {
      T lse = T(double(m) + std::log(sum));
      for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] - lse;
    } else {
      T inv = T(1.0 / sum);
      for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
    }
  }
}

// softmax: dx = y (dy - sum(dy y));  log_softmax: dx = dy - exp(y) sum(dy).
template <class T> void softmax_backward(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols, bool log) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T *yr = y + r * cols, *gr = dy + r * cols;
    T* dr = dx + r * cols;
    if (log) {
      T s = T(row_sum(gr, cols));
      vector_math::exp(yr, dr, cols);
      for (int64_t c = 0; c < cols; ++c) dr[c] = gr[c] - dr[c] * s;
    } else {
      for (int64_t c = 0; c < cols; ++c) dr[c] = gr[c] * yr[c];
      T s = T(row_sum(dr, cols));
      for (int64_t c = 0; c < cols; ++c) dr[c] = yr[c] * (gr[c] - s);
    }
  }
}

template void softmax_forward<float>(const float*, float*, int64_t, int64_t, bool);
template void softmax_forward<double>(const double*, double*, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t, bool);

}  // namespace dytgrad::kernels::cpu
