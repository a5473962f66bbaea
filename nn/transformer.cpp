#include "nn/transformer.h"

#include <cmath>

#include "core/error.h"
#include "core/ops/ops.h"

namespace dytgrad::nn {

namespace {
double residual_std(const BlockConfig& c) { return 0.02 / std::sqrt(2.0 * double(c.layers)); }
}  // namespace

void start_at_layer_norm_scale(BlockConfig& c) {
  c.alpha0_attention = c.alpha0_other = kDyTAlpha0;
  c.dyt_gamma0 = 0;
}

void check_block_config(const BlockConfig& c) {
  DYT_CHECK(c.width >= 1 && c.width <= 65536, "model config: width must be 1 to 65536, got {}", c.width);
  DYT_CHECK(c.heads >= 1 && c.heads <= 1024 && c.width % c.heads == 0,
            "model config: heads must be 1 to 1024 and divide the width {}, got {}", c.width, c.heads);
  DYT_CHECK(c.layers >= 1 && c.layers <= 1024, "model config: layers must be 1 to 1024, got {}", c.layers);
  DYT_CHECK(c.dropout >= 0 && c.dropout < 1, "model config: dropout must be in [0, 1), got {}", c.dropout);
  DYT_CHECK(c.dyt_gamma0 >= 0 && c.dyt_gamma0 <= 1e6, "model config: dyt_gamma0 must be 0 to 1e6, got {}", c.dyt_gamma0);
}

DyTInit dyt_init(const BlockConfig& c, double alpha0) {
  if (c.norm != "dyt" && c.norm != "derf") return {alpha0, 1.0, c.dyt_beta};  // not used by other norms
  DYT_CHECK(c.dyt_gamma0 > 0 || c.dyt_input_std > 0,
            "model config: dyt_gamma0 0 (LayerNorm's output scale) needs the model to set dyt_input_std");
  return {alpha0, c.dyt_gamma0 > 0 ? c.dyt_gamma0 : gamma_for_unit_rms(c.norm, alpha0, c.dyt_input_std), c.dyt_beta};
}

SelfAttention::SelfAttention(const BlockConfig& c, Generator* gen) : heads_(c.heads), causal_(c.causal) {
  DYT_CHECK(c.heads > 0 && c.width % c.heads == 0, "SelfAttention: width {} is not a multiple of heads {}",
            c.width, c.heads);
  qkv_ = register_module("qkv", std::make_shared<Linear>(c.width, 3 * c.width, true, 0.02, gen));
  projection_ = register_module("projection", std::make_shared<Linear>(c.width, c.width, true, residual_std(c), gen));
  dropout_ = register_module("dropout", std::make_shared<Dropout>(c.dropout, gen));
}

Tensor SelfAttention::forward(const Tensor& x) {
  Tensor y = self_attention(qkv_->forward(x), heads_, causal_);  // [batch, time, width]
  return dropout_->forward(projection_->forward(y));
}

MLP::MLP(const BlockConfig& c, Generator* gen) {
  up_ = register_module("up", std::make_shared<Linear>(c.width, 4 * c.width, true, 0.02, gen));
  down_ = register_module("down", std::make_shared<Linear>(4 * c.width, c.width, true, residual_std(c), gen));
  dropout_ = register_module("dropout", std::make_shared<Dropout>(c.dropout, gen));
}

Tensor MLP::forward(const Tensor& x) {
  return dropout_->forward(down_->forward(linear_gelu(x, up_->weight, up_->bias)));  // gelu(up(x)) as one op
}

Block::Block(const BlockConfig& c, Generator* gen) {
  norm_attention = register_module("norm_attention", make_norm(c.norm, c.width, dyt_init(c, c.alpha0_attention)));
  attention_ = register_module("attention", std::make_shared<SelfAttention>(c, gen));
  norm_mlp = register_module("norm_mlp", make_norm(c.norm, c.width, dyt_init(c, c.alpha0_other)));
  mlp_ = register_module("mlp", std::make_shared<MLP>(c, gen));
}

Tensor Block::forward(const Tensor& x) {
  auto [h, h_normed] = add_then_norm(x, attention_->forward(norm_attention->forward(x)), *norm_mlp);
  return add(h, mlp_->forward(h_normed));
}

}  // namespace dytgrad::nn
