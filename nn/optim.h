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
  // One update with the gradients clipped to a global L2 norm of max_grad_norm: the same bits as
  // clip_grad_norm then step(lr), but in two passes over the gradients where that takes a pass per
  // parameter, and nothing read back to the host: the norm is summed on the parameters' device and
  // the update reads it there (adamw_step with a norm). The gradients are left unclipped. Returns
  // the norm before clipping, a float64 scalar on that device: reading it (item()) waits for the
  // step. (Where the one-pass norm cannot run, bfloat16 or mixed-dtype gradients, or CUDA until its
  // kernels are verified, it is clip_grad_norm then step(lr), gradients clipped.)
  Tensor step_clipped(double lr, double max_grad_norm);
  int64_t steps_taken() const { return step_; }

  // step_clipped in two halves, for a captured step (nn/captured_step.h), whose update is replayed
  // without its arguments: load_hyperparameters counts the step and writes its learning rate and
  // bias corrections into a tensor on the parameters' device (outside the capture);
  // step_clipped_loaded is the update reading them there when it runs. Together the same bits as
  // step_clipped(lr, max_grad_norm). Needs the one-pass norm (norm_in_one_pass), and raises if not.
  void load_hyperparameters(double lr);
  Tensor step_clipped_loaded(double max_grad_norm);

  // State, for checkpoints: m and v per parameter, in the order of the parameters.
  std::vector<Tensor>& exp_avg() { return m_; }
  std::vector<Tensor>& exp_avg_sq() { return v_; }
  void set_steps_taken(int64_t step) { step_ = step; }

 private:
  std::vector<AdamWParam> with_gradients() const;  // the parameters that have a gradient, with their state
  std::vector<NamedParameter> params_;
  std::vector<Tensor> m_, v_;
  AdamWOptions options_;
  double weight_decay_;
  int64_t step_ = 0;
  Tensor hyper_;  // load_hyperparameters' tensor, on the parameters' device
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
// Whether these gradients' global norm can be taken in one pass (sum_of_squares): one dtype, not
// bfloat16, on the CPU or (until its kernel is verified) on CUDA with unverified kernels allowed.
bool norm_in_one_pass(const std::vector<Tensor>& grads);

// Linear warm-up from 0 to lr_max over `warmup` steps, then cosine decay to lr_min at `total`.
double cosine_lr(int64_t step, int64_t total, int64_t warmup, double lr_max, double lr_min);

}  // namespace dytgrad::nn
