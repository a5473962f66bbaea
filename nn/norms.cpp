#include "nn/norms.h"

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
const Tensor& DyT::shift() {
  if (!has_beta_ && beta.device() != gamma.device()) beta = beta.to(gamma.device());  // to() moves parameters only
  return beta;
}
Tensor DyT::forward(const Tensor& x) { return dyt(x, alpha, gamma, shift()); }

LayerNorm::LayerNorm(int64_t dim, double eps) : eps_(eps) {
  register_parameter("gamma", gamma, Tensor::ones({dim}), false);
  register_parameter("beta", beta, Tensor::zeros({dim}), false);
}
Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, gamma, beta, eps_); }

RMSNorm::RMSNorm(int64_t dim, double eps) : eps_(eps) { register_parameter("gamma", gamma, Tensor::ones({dim}), false); }
Tensor RMSNorm::forward(const Tensor& x) { return rms_norm(x, gamma, eps_); }

bool is_norm_kind(const std::string& kind) {
  return kind == "dyt" || kind == "layernorm" || kind == "rmsnorm" || kind == "none";
}

std::pair<Tensor, Tensor> add_then_norm(const Tensor& x, const Tensor& y, UnaryModule& norm) {
  if (auto* d = dynamic_cast<DyT*>(&norm)) return add_dyt(x, y, d->alpha, d->gamma, d->shift());
  Tensor sum = add(x, y);
  return {sum, norm.forward(sum)};
}

std::shared_ptr<UnaryModule> make_norm(const std::string& kind, int64_t dim, DyTInit dyt) {
  if (kind == "dyt") return std::make_shared<DyT>(dim, dyt);
  if (kind == "layernorm") return std::make_shared<LayerNorm>(dim);
  if (kind == "rmsnorm") return std::make_shared<RMSNorm>(dim);
  if (kind == "none") return std::make_shared<Identity>();
  throw Error(fmt::format("make_norm: unknown norm '{}' (expected dyt, layernorm, rmsnorm or none)", kind));
}

}  // namespace dytgrad::nn
