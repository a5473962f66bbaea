// Softmax and log-softmax over the last dim of a contiguous [rows, cols] tensor.
#pragma once
#include <cstdint>

namespace dytgrad::kernels {

#define DYT_DECLARE_SOFTMAX_KERNELS                                                              \
  /* y = softmax(x) or log_softmax(x), row by row */                                             \
  template <class T> void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, bool log);\
  /* softmax:     dx = y * (dy - sum(dy * y))                                                     \
     log_softmax: dx = dy - exp(y) * sum(dy)          (y is the forward output) */               \
  template <class T> void softmax_backward(const T* y, const T* dy, T* dx, int64_t rows,         \
                                           int64_t cols, bool log);

namespace cpu { DYT_DECLARE_SOFTMAX_KERNELS }
namespace cuda { DYT_DECLARE_SOFTMAX_KERNELS }

}  // namespace dytgrad::kernels
