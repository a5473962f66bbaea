// CPU softmax / log_softmax, one row at a time, accumulating in double.
#include "kernels/softmax.h"

#include <cmath>

#include "kernels/cpu/parallel.h"

namespace dytgrad::kernels::cpu {

template <class T> void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    double m = -INFINITY, s = 0;
    for (int64_t c = 0; c < cols; ++c) m = std::max(m, double(xr[c]));
    for (int64_t c = 0; c < cols; ++c) s += std::exp(double(xr[c]) - m);
    double lse = m + std::log(s);
    for (int64_t c = 0; c < cols; ++c)
      yr[c] = T(log ? double(xr[c]) - lse : std::exp(double(xr[c]) - lse));
  }
}

template <class T> void softmax_backward(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols, bool log) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T *yr = y + r * cols, *gr = dy + r * cols;
    T* dr = dx + r * cols;
    double s = 0;
    for (int64_t c = 0; c < cols; ++c) s += log ? double(gr[c]) : double(gr[c]) * double(yr[c]);
    for (int64_t c = 0; c < cols; ++c)
      dr[c] = log ? T(double(gr[c]) - std::exp(double(yr[c])) * s) : T(double(yr[c]) * (double(gr[c]) - s));
  }
}

template void softmax_forward<float>(const float*, float*, int64_t, int64_t, bool);
template void softmax_forward<double>(const double*, double*, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t, bool);

}  // namespace dytgrad::kernels::cpu
