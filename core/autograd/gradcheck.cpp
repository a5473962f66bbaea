#include "core/autograd/gradcheck.h"

#include <cmath>

#include "core/autograd/engine.h"
#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "core/random.h"

namespace dytgrad {

namespace {

// Storage offset (in elements) of the element at row-major position `linear` of t's view.
int64_t element_offset(const Tensor& t, int64_t linear) {
  int64_t off = t.offset();
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (linear % t.shape()[d]) * t.strides()[d];
    linear /= t.shape()[d];
  }
  return off;
}

double& element(const Tensor& t, int64_t linear) {
  return static_cast<double*>(t.impl().storage->data())[element_offset(t, linear)];
}

Tensor project(const Tensor& y, const Tensor& w) { return sum(mul(y, w)); }

}  // namespace

GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs, const GradcheckOptions& o) {
  for (size_t i = 0; i < inputs.size(); ++i)
    DYT_CHECK(!inputs[i].requires_grad() || (inputs[i].dtype() == DType::Float64 && inputs[i].device().is_cpu()),
              "gradcheck: input {} must be a float64 CPU tensor (finite differences need the precision)", i);
  Generator gen(o.seed);
  Tensor y = f(inputs);
  Tensor w = Tensor::randn(y.shape(), DType::Float64, Device::cpu(), &gen);
  std::vector<Tensor> wrt;
  std::vector<size_t> index;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) {
      wrt.push_back(inputs[i]);
      index.push_back(i);
    }
  DYT_CHECK(!wrt.empty(), "gradcheck: no input requires grad");
  // An output with no graph does not depend on the inputs: its analytic gradient is zero (this
  // happens in gradgradcheck for ops whose gradient is constant, like add).
  std::vector<Tensor> analytic(wrt.size());
  if (y.requires_grad()) analytic = grad({project(y, w)}, wrt, {}, false, false);

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t j = 0; j < wrt.size(); ++j) {
    const Tensor& x = wrt[j];
    std::vector<double> a = analytic[j].defined() ? analytic[j].to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    for (int64_t e = 0; e < x.numel(); ++e) {
      double& v = element(x, e);
      double saved = v;
      v = saved + o.eps;
      double plus = project(f(inputs), w).item();
      v = saved - o.eps;
      double minus = project(f(inputs), w).item();
      v = saved;
      double numeric = (plus - minus) / (2 * o.eps);
      double err = std::abs(numeric - a[e]);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (!(err <= o.atol + o.rtol * std::abs(numeric))) {  // NaN fails too
        result.ok = false;
        result.message = fmt::format("input {} element {}: analytic {:.10g}, numeric {:.10g} (abs error {:.3g})",
                                     index[j], e, a[e], numeric, err);
        return result;
      }
    }
  }
  return result;
}

GradcheckResult gradgradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs, const GradcheckOptions& o) {
  Generator gen(o.seed + 1);
  std::vector<Tensor> v;
  for (const Tensor& x : inputs) v.push_back(Tensor::randn(x.shape(), DType::Float64, Device::cpu(), &gen));
  Tensor w;
  TensorFunction first_order = [&](const std::vector<Tensor>& in) {
    GradModeGuard on(true);
    Tensor y = f(in);
    if (!w.defined()) {
      Generator wgen(o.seed);
      w = Tensor::randn(y.shape(), DType::Float64, Device::cpu(), &wgen);
    }
    std::vector<Tensor> wrt;
    std::vector<size_t> index;
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i].requires_grad()) {
        wrt.push_back(in[i]);
        index.push_back(i);
      }
    std::vector<Tensor> g = grad({project(y, w)}, wrt, {}, true, true);
    Tensor total = Tensor::zeros({}, DType::Float64);
    for (size_t j = 0; j < g.size(); ++j)
      if (g[j].defined()) total = add(total, project(g[j], v[index[j]]));
    return total;
  };
  return gradcheck(first_order, inputs, o);
}

}  // namespace dytgrad
