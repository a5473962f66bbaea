#include "nn/norms.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/ops/ops.h"

namespace dytgrad::nn {

DyT::DyT(int64_t dim, DyTInit init) : has_beta_(init.beta) {
  register_parameter("alpha", alpha, Tensor::full({1}, init.alpha0), false);
  register_parameter("gamma", gamma, Tensor::full({dim}, init.gamma0), false);
  if (init.beta)
    register_parameter("beta", beta, Tensor::zeros({dim}), false);
  else
    beta = Tensor::zeros({dim});
}

double gamma_for_unit_rms(const std::string& kind, double alpha0, double input_std) {
  DYT_CHECK(alpha0 > 0 && input_std > 0, "gamma_for_unit_rms: alpha0 and input_std must be > 0, got {} and {}", alpha0,
            input_std);
  DYT_CHECK(kind == "dyt" || kind == "derf", "gamma_for_unit_rms: kind must be dyt or derf, got '{}'", kind);
  double (*f)(double) = kind == "dyt" ? static_cast<double (*)(double)>(std::tanh) : static_cast<double (*)(double)>(std::erf);
  // E[f(k z)^2] for z ~ N(0, 1) and k = alpha0 input_std: twice the integral over [0, 10] (the
  // tail beyond weighs under 1e-22) by Simpson's rule, with steps fine enough for f's bend at 1/k
  const double k = alpha0 * input_std, h = std::min(0.01, 0.05 / k);
  const int64_t steps = 2 * int64_t(std::ceil(5 / h));
  const double step = 10.0 / double(steps);
  double mean_square = 0;
  for (int64_t i = 0; i <= steps; ++i) {
    double z = step * double(i), t = f(k * z);
    double weight = (i == 0 || i == steps) ? 1 : (i % 2 ? 4 : 2);
    mean_square += weight * t * t * std::exp(-0.5 * z * z);
  }
  mean_square *= 2 * step / 3 / std::sqrt(2 * M_PI);
  return 1 / std::sqrt(mean_square);
}

const Tensor& DyT::beta_or_zeros() {
  if (!has_beta_ && beta.device() != gamma.device()) beta = beta.to(gamma.device());  // to() moves parameters only
  return beta;
}
Tensor DyT::forward(const Tensor& x) { return dyt(x, alpha, gamma, beta_or_zeros()); }

LayerNorm::LayerNorm(int64_t dim, double eps) : eps_(eps) {
  register_parameter("gamma", gamma, Tensor::ones({dim}), false);
  register_parameter("beta", beta, Tensor::zeros({dim}), false);
}
Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, gamma, beta, eps_); }

RMSNorm::RMSNorm(int64_t dim, double eps) : eps_(eps) { register_parameter("gamma", gamma, Tensor::ones({dim}), false); }
Tensor RMSNorm::forward(const Tensor& x) { return rms_norm(x, gamma, eps_); }

Derf::Derf(int64_t dim, DyTInit init) : has_beta_(init.beta) {
  register_parameter("alpha", alpha, Tensor::full({1}, init.alpha0), false);
  register_parameter("shift", shift, Tensor::zeros({1}), false);
  register_parameter("gamma", gamma, Tensor::full({dim}, init.gamma0), false);
  if (init.beta)
    register_parameter("beta", beta, Tensor::zeros({dim}), false);
  else
    beta = Tensor::zeros({dim});
}
Tensor Derf::forward(const Tensor& x) {
  if (!has_beta_ && beta.device() != gamma.device()) beta = beta.to(gamma.device());  // to() moves parameters only
  return derf(x, alpha, shift, gamma, beta);
}

bool is_norm_kind(const std::string& kind) {
  return kind == "dyt" || kind == "derf" || kind == "layernorm" || kind == "rmsnorm" || kind == "none";
}

std::pair<Tensor, Tensor> add_then_norm(const Tensor& x, const Tensor& y, UnaryModule& norm) {
  if (auto* d = dynamic_cast<DyT*>(&norm)) return add_dyt(x, y, d->alpha, d->gamma, d->beta_or_zeros());
  Tensor sum = add(x, y);
  return {sum, norm.forward(sum)};
}

std::shared_ptr<UnaryModule> make_norm(const std::string& kind, int64_t dim, DyTInit dyt) {
  if (kind == "dyt") return std::make_shared<DyT>(dim, dyt);
  if (kind == "derf") return std::make_shared<Derf>(dim, dyt);
  if (kind == "layernorm") return std::make_shared<LayerNorm>(dim);
  if (kind == "rmsnorm") return std::make_shared<RMSNorm>(dim);
  if (kind == "none") return std::make_shared<Identity>();
  throw Error(fmt::format("make_norm: unknown norm '{}' (expected dyt, derf, layernorm, rmsnorm or none)", kind));
}

}  // namespace dytgrad::nn
