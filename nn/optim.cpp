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

std::vector<AdamWParam> AdamW::with_gradients() const {
  std::vector<AdamWParam> batch;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].tensor->grad();
    if (!g.defined()) continue;
    DYT_CHECK(m_[i].device() == params_[i].tensor->device(),
              "AdamW: parameter '{}' is on {} but its optimiser state is on {}; create the optimiser after "
              "moving the model", params_[i].name, params_[i].tensor->device().str(), m_[i].device().str());
    batch.push_back({*params_[i].tensor, g.contiguous(), m_[i], v_[i], params_[i].weight_decay ? weight_decay_ : 0.0});
  }
  return batch;
}

void AdamW::step(double lr) {
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Optimizer);
  ++step_;
  AdamWOptions o = options_;
  o.lr = lr;
  adamw_step(with_gradients(), o, step_);
}

Tensor AdamW::step_clipped(double lr, double max_grad_norm) {
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Optimizer);
  std::vector<AdamWParam> batch = with_gradients();
  std::vector<Tensor> grads;
  for (const AdamWParam& p : batch) grads.push_back(p.grad);
  if (batch.empty() || !norm_in_one_pass(grads)) {
    Device device = params_.empty() ? Device::cpu() : params_[0].tensor->device();
    double norm = clip_grad_norm(params_, max_grad_norm);
    step(lr);
    return Tensor::full({}, norm, DType::Float64, device);
  }
  Tensor sq_norm = sum_of_squares(grads);
  ++step_;
  AdamWOptions o = options_;
  o.lr = lr;
  adamw_step(batch, o, step_, sq_norm, max_grad_norm);
  return sqrt(sq_norm);
}

void AdamW::load_hyperparameters(double lr) {
  DYT_CHECK(!params_.empty(), "AdamW::load_hyperparameters: the optimiser has no parameters");
  AdamWOptions o = options_;
  o.lr = lr;
  Tensor hyper = adamw_hyper(o, step_ + 1);
  if (!hyper_.defined()) hyper_ = Tensor::empty(hyper.shape(), hyper.dtype(), params_[0].tensor->device());
  hyper_.copy_from(hyper);
  ++step_;
}

Tensor AdamW::step_clipped_loaded(double max_grad_norm) {
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Optimizer);
  DYT_CHECK(hyper_.defined(), "AdamW::step_clipped_loaded: call load_hyperparameters(lr) first");
  std::vector<AdamWParam> batch = with_gradients();
  std::vector<Tensor> grads;
  for (const AdamWParam& p : batch) grads.push_back(p.grad);
  DYT_CHECK(norm_in_one_pass(grads), "AdamW::step_clipped_loaded: the gradients' norm cannot be taken in one pass "
            "(float32 or float64 gradients of one dtype; on CUDA with unverified kernels allowed): {}",
            grads.empty() ? "no parameter has a gradient" : "use step_clipped");
  Tensor sq_norm = sum_of_squares(grads);
  adamw_step(batch, hyper_, sq_norm, max_grad_norm);
  return sqrt(sq_norm);
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

bool norm_in_one_pass(const std::vector<Tensor>& grads) {
  if (grads.empty()) return false;
  for (const Tensor& g : grads)
    if (g.dtype() != grads[0].dtype()) return false;
  return grads[0].dtype() != DType::BFloat16 && unverified_kernels_run_on(grads[0].device());
}

double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm) {
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Optimizer);
  std::vector<Tensor> grads;
  for (const NamedParameter& p : params)
    if (p.tensor->grad().defined()) grads.push_back(p.tensor->grad().contiguous());
  if (grads.empty()) return 0;
  double sq_norm = norm_in_one_pass(grads) ? sum_of_squares(grads).item() : sum_of_squares_per_tensor(grads);
  double scale = clip_factor(sq_norm, max_norm);
  if (scale != 1.0)
    for (const NamedParameter& p : params)
      if (p.tensor->grad().defined()) p.tensor->set_grad(mul(p.tensor->grad(), scale));
  return std::sqrt(sq_norm);
}

double cosine_lr(int64_t step, int64_t total, int64_t warmup, double lr_max, double lr_min) {
  if (step < warmup) return lr_max * double(step + 1) / double(warmup);
  if (step >= total) return lr_min;
  double progress = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
  return lr_min + 0.5 * (lr_max - lr_min) * (1 + std::cos(M_PI * progress));
}

}  // namespace dytgrad::nn
