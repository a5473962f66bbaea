#include "core/ops/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/ops/dispatch.h"
#include "kernels/optimizer.h"

namespace dytgrad {

void adamw_step(const std::vector<AdamWParam>& params, const AdamWOptions& o, int64_t step) {
  DYT_CHECK(step >= 1, "adamw_step: step counts from 1, got {}", step);
  DYT_CHECK(o.lr >= 0 && o.eps > 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1,
            "adamw_step: invalid options lr={} beta1={} beta2={} eps={}", o.lr, o.beta1, o.beta2, o.eps);
  if (params.empty()) return;
  std::vector<kernels::AdamWTensor> tensors;
  const Tensor& first = params[0].param;
  for (size_t i = 0; i < params.size(); ++i) {
    const AdamWParam& a = params[i];
    DYT_CHECK(a.grad.defined(), "adamw_step: parameter {} (shape {}) has no gradient", i, shape_str(a.param.shape()));
    for (const Tensor* t : {&a.param, &a.grad, &a.exp_avg, &a.exp_avg_sq}) {
      DYT_CHECK(t->shape() == a.param.shape(), "adamw_step: parameter {} has shape {} but one of its tensors has {}", i,
                shape_str(a.param.shape()), shape_str(t->shape()));
      DYT_CHECK(t->is_contiguous(), "adamw_step: parameter {}: all tensors must be contiguous", i);
    }
    check_same_device("adamw_step", {first, a.param, a.grad, a.exp_avg, a.exp_avg_sq});
    check_same_dtype("adamw_step", {first, a.param, a.grad, a.exp_avg, a.exp_avg_sq});
    tensors.push_back({a.param.raw_data(), a.grad.raw_data(), a.exp_avg.raw_data(), a.exp_avg_sq.raw_data(),
                       a.param.numel(), a.weight_decay});
  }
  kernels::AdamWHyper h{o.lr, o.beta1, o.beta2, o.eps, 1 - std::pow(o.beta1, double(step)),
                        1 - std::pow(o.beta2, double(step))};
  int64_t elements = 0;
  for (const kernels::AdamWTensor& t : tensors) elements += t.numel;
  dispatch_floating(first.dtype(), "adamw_step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // read the parameters, gradients and both moments, write all but the gradients (shape: every element)
    profiler::note_work(7.0 * double(elements * int64_t(sizeof(T))), 0, Shape{elements});
    DYT_CALL(first.device(), adamw_step<T>, tensors.data(), int(tensors.size()), h);
  });
}

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
