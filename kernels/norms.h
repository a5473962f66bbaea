// The normalisation family over the last dim of a contiguous [rows, cols] tensor:
// DyT (the point of this project), Derf (its erf-based successor), LayerNorm and RMSNorm.
#pragma once
#include <cstdint>

#include "bfloat16.h"

namespace dytgrad::kernels {

#define DYT_DECLARE_NORM_KERNELS                                                                 \
  /* y = gamma * tanh(alpha * x) + beta; alpha points to one element */                          \
  template <class T> void dyt_forward(const T* x, const T* alpha, const T* gamma, const T* beta, \
                                      T* y, int64_t rows, int64_t cols);                         \
  /* dx = dy * gamma * alpha * (1 - t^2), t = tanh(alpha x); dalpha = sum dy gamma (1 - t^2) x;    \
     dgamma = sum_rows dy t; dbeta = sum_rows dy. All four outputs are overwritten. */            \
  template <class T> void dyt_backward(const T* x, const T* alpha, const T* gamma, const T* dy,  \
                                       T* dx, T* dalpha, T* dgamma, T* dbeta, int64_t rows,      \
                                       int64_t cols);                                            \
  /* Mixed precision: x (and dx) float32 or bfloat16, y and dy bfloat16, float32 parameters,    \
     parameter gradients and math; each stored element rounded once. */                         \
  template <class X> void dyt_forward(const X* x, const float* alpha, const float* gamma,       \
                                      const float* beta, bfloat16* y, int64_t rows, int64_t cols); \
  template <class X> void dyt_backward(const X* x, const float* alpha, const float* gamma,      \
                                       const bfloat16* dy, X* dx, float* dalpha, float* dgamma,  \
                                       float* dbeta, int64_t rows, int64_t cols);               \
  /* residual add + DyT in one pass: sum = x + y, out = gamma * tanh(alpha sum) + beta */        \
  template <class T> void add_dyt_forward(const T* x, const T* y, const T* alpha, const T* gamma,\
                                          const T* beta, T* sum, T* out, int64_t rows,           \
                                          int64_t cols);                                         \
  /* Derf: y = gamma * erf(alpha * x + shift) + beta; alpha and shift point to one element */  \
  template <class T> void derf_forward(const T* x, const T* alpha, const T* shift, const T* gamma,\
                                       const T* beta, T* y, int64_t rows, int64_t cols);         \
  /* g = dy * gamma * 2 / sqrt(pi) * exp(-u^2), u = alpha x + shift: dx = alpha g,               \
     dalpha = sum g x, dshift = sum g, dgamma = sum_rows dy erf(u), dbeta = sum_rows dy. */       \
  template <class T> void derf_backward(const T* x, const T* alpha, const T* shift,              \
                                        const T* gamma, const T* dy, T* dx, T* dalpha,           \
                                        T* dshift, T* dgamma, T* dbeta, int64_t rows,            \
                                        int64_t cols);                                           \
  /* y = (x - mean) * rstd * gamma + beta; mean and rstd per row saved */                        \
  template <class T> void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y,    \
                                             T* mean, T* rstd, int64_t rows, int64_t cols,       \
                                             double eps);                                        \
  template <class T> void layer_norm_backward(const T* x, const T* gamma, const T* mean,         \
                                              const T* rstd, const T* dy, T* dx, T* dgamma,      \
                                              T* dbeta, int64_t rows, int64_t cols);             \
  /* y = x * rstd * gamma, rstd = 1 / sqrt(mean(x^2) + eps) per row saved */                      \
  template <class T> void rms_norm_forward(const T* x, const T* gamma, T* y, T* rstd,            \
                                           int64_t rows, int64_t cols, double eps);              \
  template <class T> void rms_norm_backward(const T* x, const T* gamma, const T* rstd,           \
                                            const T* dy, T* dx, T* dgamma, int64_t rows,         \
                                            int64_t cols);

namespace cpu { DYT_DECLARE_NORM_KERNELS }
namespace cuda { DYT_DECLARE_NORM_KERNELS }

}  // namespace dytgrad::kernels
