#include "nn/optim.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "core/profiler.h"

namespace dytgrad::nn {

AdamW::AdamW(std::vector<NamedParameter> params, AdamWOptions options, double weight_decay)
    : params_(std::move(params)), options_(options), weight_decay_(weight_decay) {
  for (const NamedParameter& p : params_) {
    m_.push_back(Tensor::zeros(p.tensor->shape(), p.tensor->dtype(), p.tensor->device()));
    v_.push_back(Tensor::zeros(p.tensor->shape(), p.tensor->dtype(), p.tensor->device()));
  }
}

void AdamW::step(double lr) {
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Optimizer);
  ++step_;
  AdamWOptions o = options_;
  o.lr = lr;
  std::vector<AdamWParam> batch;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].tensor->grad();
    if (!g.defined()) continue;
    DYT_CHECK(m_[i].device() == params_[i].tensor->device(),
              "AdamW: parameter '{}' is on {} but its optimiser state is on {}; create the optimiser after "
              "moving the model", params_[i].name, params_[i].tensor->device().str(), m_[i].device().str());
    batch.push_back({*params_[i].tensor, g.contiguous(), m_[i], v_[i], params_[i].weight_decay ? weight_decay_ : 0.0});
  }
  adamw_step(batch, o, step_);
}

SGD::SGD(std::vector<NamedParameter> params, double momentum) : params_(std::move(params)), momentum_(momentum) {
  for (const NamedParameter& p : params_) velocity_.push_back(Tensor::zeros(p.tensor->shape(), p.tensor->dtype(), p.tensor->device()));
}

void SGD::step(double lr) {
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Optimizer);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].tensor->grad();
    if (!g.defined()) continue;
    velocity_[i] = add(mul(velocity_[i], momentum_), g);
    Tensor& p = *params_[i].tensor;
    std::string name = p.name();
    p = sub(p, mul(velocity_[i], lr)).detach().requires_grad_();
    p.set_grad(g);
    p.set_name(name);
  }
}

namespace {

// The squared global norm tensor by tensor: four ops each (the path CUDA takes until the one-pass
// sum_of_squares kernel has run on a GPU, and for bfloat16 gradients or gradients of mixed dtypes).
double sum_of_squares_per_tensor(const std::vector<Tensor>& grads) {
  Tensor total;
  for (const Tensor& g : grads) {
    Tensor sq = sum(mul(g, g)).to(DType::Float64);
    total = total.defined() ? add(total, sq) : sq;
  }
  return total.item();
}

}  // namespace

double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm) {
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Optimizer);
  std::vector<Tensor> grads;
  bool one_dtype = true;
  for (const NamedParameter& p : params) {
    Tensor g = p.tensor->grad();
    if (!g.defined()) continue;
    grads.push_back(g.contiguous());
    one_dtype = one_dtype && g.dtype() == grads[0].dtype();
  }
  if (grads.empty()) return 0;
  bool one_pass = one_dtype && grads[0].dtype() != DType::BFloat16 &&
                  (grads[0].device().is_cpu() || unverified_cuda_kernels_allowed());
  double norm = std::sqrt(one_pass ? sum_of_squares(grads).item() : sum_of_squares_per_tensor(grads));
  if (norm > max_norm && norm > 0) {
    double scale = max_norm / (norm + 1e-6);
    for (const NamedParameter& p : params)
      if (p.tensor->grad().defined()) p.tensor->set_grad(mul(p.tensor->grad(), scale));
  }
  return norm;
}

double cosine_lr(int64_t step, int64_t total, int64_t warmup, double lr_max, double lr_min) {
  if (step < warmup) return lr_max * double(step + 1) / double(warmup);
  if (step >= total) return lr_min;
  double progress = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
  return lr_min + 0.5 * (lr_max - lr_min) * (1 + std::cos(M_PI * progress));
}

}  // namespace dytgrad::nn
