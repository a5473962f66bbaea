// One AdamW element update, and the factor gradient clipping scales by, shared by both backends.
#pragma once
#include <cmath>

#include "layout.h"
#include "optimizer.h"

namespace dytgrad::kernels {

template <class T>
DYT_HOST_DEVICE inline void adamw_element(T& p, T g, T& m, T& v, const AdamWHyper& h, double weight_decay) {
  const T lr = T(h.lr), b1 = T(h.beta1), b2 = T(h.beta2);
  p -= lr * T(weight_decay) * p;
  m = b1 * m + (T(1) - b1) * g;
  v = b2 * v + (T(1) - b2) * g * g;
  T step = (m / T(h.bias_correction1)) / (sqrt(v / T(h.bias_correction2)) + T(h.eps));
  p -= lr * step;
}

// Gradients whose global L2 norm (the square root of sq_norm) is over max_norm are scaled by this
// factor, max_norm / (norm + 1e-6) (the 1e-6 as PyTorch's clip_grad_norm_); others by 1.
DYT_HOST_DEVICE inline double clip_factor(double sq_norm, double max_norm) {
  double norm = sqrt(sq_norm);
  return norm > max_norm && norm > 0 ? max_norm / (norm + 1e-6) : 1.0;
}

}  // namespace dytgrad::kernels
