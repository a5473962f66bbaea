#include "core/ops/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/ops/dispatch.h"
#include "kernels/adamw_math.h"
#include "kernels/optimizer.h"

namespace dytgrad {

namespace {

// The checks every AdamW step makes, and its tensors as the kernels take them.
std::vector<kernels::AdamWTensor> adamw_tensors(const std::vector<AdamWParam>& params) {
  std::vector<kernels::AdamWTensor> tensors;
  for (size_t i = 0; i < params.size(); ++i) {
    const AdamWParam& a = params[i];
    DYT_CHECK(a.grad.defined(), "adamw_step: parameter {} (shape {}) has no gradient", i, shape_str(a.param.shape()));
    for (const Tensor* t : {&a.param, &a.grad, &a.exp_avg, &a.exp_avg_sq}) {
      DYT_CHECK(t->shape() == a.param.shape(), "adamw_step: parameter {} has shape {} but one of its tensors has {}", i,
                shape_str(a.param.shape()), shape_str(t->shape()));
      DYT_CHECK(t->is_contiguous(), "adamw_step: parameter {}: all tensors must be contiguous", i);
    }
    check_same_device("adamw_step", {params[0].param, a.param, a.grad, a.exp_avg, a.exp_avg_sq});
    check_same_dtype("adamw_step", {params[0].param, a.param, a.grad, a.exp_avg, a.exp_avg_sq});
    tensors.push_back({a.param.raw_data(), a.grad.raw_data(), a.exp_avg.raw_data(), a.exp_avg_sq.raw_data(),
                       a.param.numel(), a.weight_decay});
  }
  return tensors;
}

kernels::AdamWHyper hyper_of(const AdamWOptions& o, int64_t step) {
  DYT_CHECK(step >= 1, "adamw_step: step counts from 1, got {}", step);
  DYT_CHECK(o.lr >= 0 && o.eps > 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1,
            "adamw_step: invalid options lr={} beta1={} beta2={} eps={}", o.lr, o.beta1, o.beta2, o.eps);
  return {o.lr, o.beta1, o.beta2, o.eps, 1 - std::pow(o.beta1, double(step)), 1 - std::pow(o.beta2, double(step))};
}

// For the profiler: AdamW reads the parameters, gradients and both moments and writes all but the
// gradients (shape: every element).
template <class T> void note_adamw_work(const std::vector<kernels::AdamWTensor>& tensors) {
  int64_t elements = 0;
  for (const kernels::AdamWTensor& t : tensors) elements += t.numel;
  profiler::note_work(7.0 * double(elements * int64_t(sizeof(T))), 0, Shape{elements});
}

// The checks of the clipping step's norm, and the clip the kernels take.
kernels::GradClip grad_clip(const Tensor& first, const Tensor& grad_sq_norm, double max_grad_norm) {
  DYT_CHECK(grad_sq_norm.defined() && grad_sq_norm.dtype() == DType::Float64 && grad_sq_norm.numel() == 1,
            "adamw_step: the squared gradient norm must be one float64 value (sum_of_squares' result), got {}",
            grad_sq_norm.defined() ? fmt::format("{} of shape {}", dtype_name(grad_sq_norm.dtype()),
                                                 shape_str(grad_sq_norm.shape()))
                                   : std::string("none"));
  DYT_CHECK(max_grad_norm > 0, "adamw_step: max_grad_norm must be positive, got {}", max_grad_norm);
  check_same_device("adamw_step", {first, grad_sq_norm});
  require_verified_cuda("adamw_step with clipping", first.device());
  return {grad_sq_norm.data<double>(), max_grad_norm};
}

// The clipped step's kernel call; `hyper` is an AdamWHyper value or a pointer to one in the
// parameters' memory (adamw_hyper's tensor).
template <class Hyper>
void clipped_step(const std::vector<kernels::AdamWTensor>& tensors, const Tensor& first, const Hyper& hyper,
                  kernels::GradClip clip) {
  dispatch_floating(first.dtype(), "adamw_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    note_adamw_work<T>(tensors);
    DYT_CALL(first.device(), adamw_step_clipped<T>, tensors.data(), int(tensors.size()), hyper, clip);
  });
}

}  // namespace

Tensor adamw_hyper(const AdamWOptions& o, int64_t step) {
  static_assert(sizeof(kernels::AdamWHyper) == 6 * sizeof(double), "AdamWHyper is six doubles");
  kernels::AdamWHyper h = hyper_of(o, step);
  Tensor t = Tensor::empty({6}, DType::Float64, Device::cpu());
  std::memcpy(t.raw_data(), &h, sizeof(h));
  return t;
}

void adamw_step(const std::vector<AdamWParam>& params, const AdamWOptions& o, int64_t step) {
  kernels::AdamWHyper h = hyper_of(o, step);
  std::vector<kernels::AdamWTensor> tensors = adamw_tensors(params);
  if (tensors.empty()) return;
  const Tensor& first = params[0].param;
  dispatch_floating(first.dtype(), "adamw_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    note_adamw_work<T>(tensors);
    DYT_CALL(first.device(), adamw_step<T>, tensors.data(), int(tensors.size()), h);
  });
}

void adamw_step(const std::vector<AdamWParam>& params, const AdamWOptions& o, int64_t step, const Tensor& grad_sq_norm,
                double max_grad_norm) {
  kernels::AdamWHyper h = hyper_of(o, step);
  std::vector<kernels::AdamWTensor> tensors = adamw_tensors(params);
  if (tensors.empty()) return;
  const Tensor& first = params[0].param;
  clipped_step(tensors, first, h, grad_clip(first, grad_sq_norm, max_grad_norm));
}

void adamw_step(const std::vector<AdamWParam>& params, const Tensor& hyper, const Tensor& grad_sq_norm,
                double max_grad_norm) {
  std::vector<kernels::AdamWTensor> tensors = adamw_tensors(params);
  if (tensors.empty()) return;
  const Tensor& first = params[0].param;
  DYT_CHECK(hyper.defined() && hyper.dtype() == DType::Float64 && hyper.shape() == Shape{6} && hyper.is_contiguous(),
            "adamw_step: the hyperparameters must be adamw_hyper's six float64 values, got {}",
            hyper.defined() ? fmt::format("{} of shape {}", dtype_name(hyper.dtype()), shape_str(hyper.shape()))
                            : std::string("none"));
  check_same_device("adamw_step", {first, hyper});
  kernels::GradClip clip = grad_clip(first, grad_sq_norm, max_grad_norm);
  clipped_step(tensors, first, static_cast<const kernels::AdamWHyper*>(hyper.raw_data()), clip);
}

double clip_factor(double sq_norm, double max_norm) { return kernels::clip_factor(sq_norm, max_norm); }

Tensor sum_of_squares(const std::vector<Tensor>& tensors) {
  DYT_CHECK(!tensors.empty(), "sum_of_squares: expected at least one tensor, got none");
  const Tensor& first = tensors[0];
  std::vector<kernels::SquaresTensor> squares;
  int64_t elements = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    DYT_CHECK(tensors[i].defined(), "sum_of_squares: tensor {} is undefined", i);
    DYT_CHECK(tensors[i].is_contiguous(), "sum_of_squares: tensor {} (shape {}) is not contiguous", i,
              shape_str(tensors[i].shape()));
    squares.push_back({tensors[i].raw_data(), tensors[i].numel()});
    elements += tensors[i].numel();
  }
  check_same_device("sum_of_squares", tensors);
  check_same_dtype("sum_of_squares", tensors);
  require_verified_cuda("sum_of_squares", first.device());
  Tensor partials = Tensor::empty({std::max<int64_t>(1, kernels::squares_chunks(squares.data(), int(squares.size())))},
                                  DType::Float64, first.device());
  Tensor total = Tensor::empty({}, DType::Float64, first.device());
  dispatch_floating(first.dtype(), "sum_of_squares", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(double(elements * int64_t(sizeof(T))), 2.0 * double(elements), Shape{elements});
    DYT_CALL(first.device(), sum_of_squares<T>, squares.data(), int(squares.size()), partials.data<double>(),
             total.data<double>());
  });
  return total;
}

}  // namespace dytgrad
