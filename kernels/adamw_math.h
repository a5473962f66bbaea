// One AdamW element update, shared by both backends.
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

}  // namespace dytgrad::kernels
