// Optimiser updates as ops: in place, never recorded in the graph. nn/'s optimisers call these.
// And the gradients' global norm, for clipping.
#pragma once
#include <vector>

#include "../tensor.h"

namespace dytgrad {

struct AdamWParam {
  Tensor param, grad, exp_avg, exp_avg_sq;  // same shape, dtype and device; contiguous
  double weight_decay = 0;                  // per tensor: 0 for biases, norms, embeddings
};

struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// One AdamW step (step counts from 1) over all tensors, in one fused launch per 48 tensors.
void adamw_step(const std::vector<AdamWParam>& params, const AdamWOptions& options, int64_t step);

// The same step with the gradients clipped to a global L2 norm of max_grad_norm on the way in: each
// gradient is used as g * max_grad_norm / (norm + 1e-6) when the norm (the square root of
// grad_sq_norm, sum_of_squares' result over these gradients) is over max_grad_norm. The norm is read
// on the device, never on the host, and the gradients are left as they are. The same bits as
// scaling the gradients as clip_grad_norm does, then the step above.
void adamw_step(const std::vector<AdamWParam>& params, const AdamWOptions& options, int64_t step,
                const Tensor& grad_sq_norm, double max_grad_norm);

// The clipped step with its hyperparameters in a tensor on the parameters' device instead of in
// arguments: `hyper` holds adamw_hyper's six float64 values, read when the update runs, so that a
// captured step (nn/captured_step.h) replays with the learning rate and step written there since.
// The same bits as the overload above with those options and step.
void adamw_step(const std::vector<AdamWParam>& params, const Tensor& hyper, const Tensor& grad_sq_norm,
                double max_grad_norm);
// A step's hyperparameters as that overload reads them: lr, beta1, beta2, eps and the bias
// corrections 1 - beta1^step, 1 - beta2^step, a float64 [6] tensor on the CPU.
Tensor adamw_hyper(const AdamWOptions& options, int64_t step);

// The factor gradient clipping scales by: max_norm / (norm + 1e-6) when the global norm
// sqrt(sq_norm) is over max_norm, else 1 (the clipping adamw_step computes it so on the device).
double clip_factor(double sq_norm, double max_norm);

// The sum of x^2 over every element of every tensor, accumulated in double: a float64 scalar (shape
// []) on the tensors' device, the squared global norm of a model's gradients. One pass over them in
// one multi-tensor launch per 48 tensors (plus one), no host sync, the same bits on every run
// (fixed chunks, fixed order). The tensors: contiguous, float32 or float64, one dtype and device.
Tensor sum_of_squares(const std::vector<Tensor>& tensors);

}  // namespace dytgrad
