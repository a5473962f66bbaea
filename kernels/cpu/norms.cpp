// CPU DyT, LayerNorm and RMSNorm, row by row. Parameter gradients (summed over rows) accumulate in
// double per column; threads split the columns, so the sums are deterministic.
#include "kernels/norms.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace dytgrad::kernels::cpu {

template <class T>
void dyt_forward(const T* x, const T* alpha, const T* gamma, const T* beta, T* y, int64_t rows, int64_t cols) {
  const T a = *alpha;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = gamma[c] * std::tanh(a * x[r * cols + c]) + beta[c];
}

template <class T>
void dyt_backward(const T* x, const T* alpha, const T* gamma, const T* dy, T* dx, T* dalpha, T* dgamma, T* dbeta,
                  int64_t rows, int64_t cols) {
  const T a = *alpha;
  double alpha_sum = 0;
#pragma omp parallel for reduction(+ : alpha_sum) if (rows * cols > kParallelGrain) schedule(static)
  for (int64_t c = 0; c < cols; ++c) {
    double sg = 0, sb = 0, sa = 0;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t i = r * cols + c;
      T t = std::tanh(a * x[i]);
      T dt = dy[i] * gamma[c] * (T(1) - t * t);  // d/d(alpha x)
      dx[i] = dt * a;
      sa += double(dt) * double(x[i]);
      sg += double(dy[i]) * double(t);
      sb += double(dy[i]);
    }
    dgamma[c] = T(sg);
    dbeta[c] = T(sb);
    alpha_sum += sa;
  }
  *dalpha = T(alpha_sum);
}

template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows,
                        int64_t cols, double eps) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double m = 0, v = 0;
    for (int64_t c = 0; c < cols; ++c) m += double(xr[c]);
    m /= double(cols);
    for (int64_t c = 0; c < cols; ++c) v += (double(xr[c]) - m) * (double(xr[c]) - m);
    double rs = 1.0 / std::sqrt(v / double(cols) + eps);
    mean[r] = T(m);
    rstd[r] = T(rs);
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = T((double(xr[c]) - m) * rs) * gamma[c] + beta[c];
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * gamma, xhat = (x - mean) * rstd.
template <class T>
void layer_norm_backward(const T* x, const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx, T* dgamma,
                         T* dbeta, int64_t rows, int64_t cols) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * cols, *gr = dy + r * cols;
    double m = double(mean[r]), rs = double(rstd[r]), sg = 0, sgx = 0;
    for (int64_t c = 0; c < cols; ++c) {
      double g = double(gr[c]) * double(gamma[c]), xhat = (double(xr[c]) - m) * rs;
      sg += g;
      sgx += g * xhat;
    }
    sg /= double(cols);
    sgx /= double(cols);
    for (int64_t c = 0; c < cols; ++c) {
      double g = double(gr[c]) * double(gamma[c]), xhat = (double(xr[c]) - m) * rs;
      dx[r * cols + c] = T(rs * (g - sg - xhat * sgx));
    }
  }
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t c = 0; c < cols; ++c) {
    double sg = 0, sb = 0;
    for (int64_t r = 0; r < rows; ++r) {
      double xhat = (double(x[r * cols + c]) - double(mean[r])) * double(rstd[r]);
      sg += double(dy[r * cols + c]) * xhat;
      sb += double(dy[r * cols + c]);
    }
    dgamma[c] = T(sg);
    dbeta[c] = T(sb);
  }
}

template <class T>
void rms_norm_forward(const T* x, const T* gamma, T* y, T* rstd, int64_t rows, int64_t cols, double eps) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double ss = 0;
    for (int64_t c = 0; c < cols; ++c) ss += double(xr[c]) * double(xr[c]);
    double rs = 1.0 / std::sqrt(ss / double(cols) + eps);
    rstd[r] = T(rs);
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = T(double(xr[c]) * rs) * gamma[c];
  }
}

// dx = rstd * (g - xhat * mean(g * xhat)),  g = dy * gamma, xhat = x * rstd.
template <class T>
void rms_norm_backward(const T* x, const T* gamma, const T* rstd, const T* dy, T* dx, T* dgamma, int64_t rows,
                       int64_t cols) {
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * cols, *gr = dy + r * cols;
    double rs = double(rstd[r]), sgx = 0;
    for (int64_t c = 0; c < cols; ++c) sgx += double(gr[c]) * double(gamma[c]) * double(xr[c]) * rs;
    sgx /= double(cols);
    for (int64_t c = 0; c < cols; ++c) {
      double g = double(gr[c]) * double(gamma[c]), xhat = double(xr[c]) * rs;
      dx[r * cols + c] = T(rs * (g - xhat * sgx));
    }
  }
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t c = 0; c < cols; ++c) {
    double sg = 0;
    for (int64_t r = 0; r < rows; ++r) sg += double(dy[r * cols + c]) * double(x[r * cols + c]) * double(rstd[r]);
    dgamma[c] = T(sg);
  }
}

#define DYT_INSTANTIATE_NORMS(T)                                                                               \
  template void dyt_forward<T>(const T*, const T*, const T*, const T*, T*, int64_t, int64_t);                  \
  template void dyt_backward<T>(const T*, const T*, const T*, const T*, T*, T*, T*, T*, int64_t, int64_t);     \
  template void layer_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, double);     \
  template void layer_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t,  \
                                       int64_t);                                                               \
  template void rms_norm_forward<T>(const T*, const T*, T*, T*, int64_t, int64_t, double);                     \
  template void rms_norm_backward<T>(const T*, const T*, const T*, const T*, T*, T*, int64_t, int64_t);
DYT_INSTANTIATE_NORMS(float)
DYT_INSTANTIATE_NORMS(double)

}  // namespace dytgrad::kernels::cpu
