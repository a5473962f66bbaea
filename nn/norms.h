// The normalisation layers a Transformer block can be built with, chosen by name:
//   "dyt"       gamma * tanh(alpha x) + beta, alpha one learnable scalar starting at alpha0
//   "derf"      gamma * erf(alpha x + shift) + beta, alpha and shift learnable scalars (shift from 0)
//   "layernorm" LayerNorm with gamma and beta
//   "rmsnorm"   RMSNorm with gamma
//   "none"      identity
#pragma once
#include <memory>
#include <string>
#include <utility>

#include "module.h"

namespace dytgrad::nn {

// How a DyT (or Derf) starts: alpha at alpha0, gamma at gamma0 in every channel, beta at 0, or no
// beta at all (the paper's LLaMA recipe drops it; then beta is a constant zero, not a parameter).
struct DyTInit {
  double alpha0 = 1.0, gamma0 = 1.0;
  bool beta = true;
};

// The gamma that gives gamma * f(alpha0 x) a root mean square of 1 for x ~ N(0, input_std^2), f
// tanh for kind "dyt" and erf for "derf": LayerNorm's output scale, for a DyT or Derf whose inputs
// at initialisation have that std.
double gamma_for_unit_rms(const std::string& kind, double alpha0, double input_std);

class DyT : public UnaryModule {
 public:
  DyT(int64_t dim, DyTInit init);
  Tensor forward(const Tensor& x) override;
  // beta, or without beta the constant zeros, on the device of the parameters
  const Tensor& beta_or_zeros();
  Tensor alpha, gamma, beta;

 private:
  bool has_beta_;
};

class Derf : public UnaryModule {
 public:
  Derf(int64_t dim, DyTInit init);
  Tensor forward(const Tensor& x) override;
  Tensor alpha, shift, gamma, beta;

 private:
  bool has_beta_;
};

class LayerNorm : public UnaryModule {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  double eps() const { return eps_; }
  Tensor gamma, beta;

 private:
  double eps_;
};

class RMSNorm : public UnaryModule {
 public:
  explicit RMSNorm(int64_t dim, double eps = 1e-6);
  Tensor forward(const Tensor& x) override;
  double eps() const { return eps_; }
  Tensor gamma;

 private:
  double eps_;
};

class Identity : public UnaryModule {
 public:
  Tensor forward(const Tensor& x) override { return x; }
};

// A residual add and the norm after it: {sum, norm(sum)} with sum = x + y. For DyT, one fused op
// (add_dyt: one pass over memory instead of two); for the others, add then the norm.
std::pair<Tensor, Tensor> add_then_norm(const Tensor& x, const Tensor& y, UnaryModule& norm);

// The norm named `kind` (see above) for `dim` features; `dyt` is used by "dyt" and "derf" only.
std::shared_ptr<UnaryModule> make_norm(const std::string& kind, int64_t dim, DyTInit dyt = {});
bool is_norm_kind(const std::string& kind);

}  // namespace dytgrad::nn
