// Optimiser updates, in place, over many tensors at once. The CUDA side packs up to
// kAdamWTensorsPerLaunch tensors into one launch (a multi-tensor launch), so a model's whole
// parameter list is updated in a few launches.
#pragma once
#include <cstdint>

namespace dytgrad::kernels {

struct AdamWTensor {
  void* param;
  const void* grad;
  void* exp_avg;     // m
  void* exp_avg_sq;  // v
  int64_t numel;
  double weight_decay;
};

struct AdamWHyper {
  double lr, beta1, beta2, eps;
  double bias_correction1, bias_correction2;  // 1 - beta1^step, 1 - beta2^step
};

constexpr int kAdamWTensorsPerLaunch = 48;

// For each tensor:  p -= lr * wd * p                       (decoupled weight decay)
//                   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
//                   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
#define DYT_DECLARE_OPTIMIZER_KERNELS \
  template <class T> void adamw_step(const AdamWTensor* tensors, int count, const AdamWHyper& h);

namespace cpu { DYT_DECLARE_OPTIMIZER_KERNELS }
namespace cuda { DYT_DECLARE_OPTIMIZER_KERNELS }

}  // namespace dytgrad::kernels
