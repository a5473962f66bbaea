// Optimisers and what goes with them: AdamW (decoupled weight decay, applied only to the
// parameters registered with weight_decay: matrices, not biases, norms, DyT or embeddings), SGD
// with momentum, global gradient-norm clipping, and the warm-up + cosine learning-rate schedule.
#pragma once
#include <vector>

#include "../core/ops/optimizer.h"
#include "module.h"

namespace dytgrad::nn {

class AdamW {
 public:
  AdamW(std::vector<NamedParameter> params, AdamWOptions options, double weight_decay);
  void step(double lr);  // one update with this learning rate (parameters without a grad are skipped)
  int64_t steps_taken() const { return step_; }

  // State, for checkpoints: m and v per parameter, in the order of the parameters.
  std::vector<Tensor>& exp_avg() { return m_; }
  std::vector<Tensor>& exp_avg_sq() { return v_; }
  void set_steps_taken(int64_t step) { step_ = step; }

 private:
  std::vector<NamedParameter> params_;
  std::vector<Tensor> m_, v_;
  AdamWOptions options_;
  double weight_decay_;
  int64_t step_ = 0;
};

class SGD {
 public:
  SGD(std::vector<NamedParameter> params, double momentum);
  void step(double lr);  // v = momentum v + g; p -= lr v

 private:
  std::vector<NamedParameter> params_;
  std::vector<Tensor> velocity_;
  double momentum_;
};

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm before.
double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm);

// Linear warm-up from 0 to lr_max over `warmup` steps, then cosine decay to lr_min at `total`.
double cosine_lr(int64_t step, int64_t total, int64_t warmup, double lr_max, double lr_min);

}  // namespace dytgrad::nn
