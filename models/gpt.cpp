#include "models/gpt.h"

#include <cmath>

#include "core/error.h"
#include "core/ops/ops.h"

namespace dytgrad::models {

double initial_residual_std(const GPTConfig& c) {
  double scale = c.scale_embeddings ? std::sqrt(double(c.block.width)) : 1.0;
  double tokens = 0.02 * scale, positions = c.scale_embeddings && c.scale_positions ? 0.02 * scale : 0.02;
  return std::sqrt(tokens * tokens + positions * positions);
}

double training_step_flops(const GPTConfig& c, int64_t batch) {
  double width = double(c.block.width), layers = double(c.block.layers);
  double matmul_weights = layers * 12 * width * width + double(c.vocab) * width;
  double tokens = double(batch) * double(c.block_size);
  return tokens * (6 * matmul_weights + 6.0 * layers * double(c.block_size) * width);
}

void use_dyt_recipe(GPTConfig& c) {
  if (c.block.norm != "dyt" && c.block.norm != "derf") return;
  nn::start_at_layer_norm_scale(c.block);
  c.alpha0_final = 0;
  c.scale_embeddings = true;
}

GPT::GPT(const GPTConfig& config, uint64_t seed) : config_(config), generator_(seed) {
  GPTConfig c = config;
  c.block.dyt_input_std = initial_residual_std(c);
  DYT_CHECK(c.vocab > 0 && c.vocab <= (1 << 24) && c.block_size > 0 && c.block_size <= (1 << 20),
            "GPT: vocab must be 1 to 2^24 and block_size 1 to 2^20, got {} and {}", c.vocab, c.block_size);
  nn::check_block_config(c.block);
  Generator* gen = &generator_;
  tokens_ = register_module("tokens", std::make_shared<nn::Embedding>(c.vocab, c.block.width, gen));
  positions_ = register_module("positions", std::make_shared<nn::Embedding>(c.block_size, c.block.width, gen));
  for (int64_t i = 0; i < c.block.layers; ++i)
    blocks_.push_back(register_module("blocks." + std::to_string(i), std::make_shared<nn::Block>(c.block, gen)));
  double alpha0_final = c.alpha0_final > 0 ? c.alpha0_final : c.block.alpha0_other;
  final_norm_ = register_module("final_norm", nn::make_norm(c.block.norm, c.block.width, nn::dyt_init(c.block, alpha0_final)));
  if (!c.tie_head) head_ = register_module("head", std::make_shared<nn::Linear>(c.block.width, c.vocab, false, 0.02, gen));
  if (c.scale_embeddings)
    register_parameter("embedding_scale", embedding_scale_, Tensor::full({1}, std::sqrt(double(c.block.width))), false);
}

Tensor GPT::forward(const Tensor& idx) {
  DYT_CHECK(idx.dim() == 2, "GPT: expected token ids [batch, time], got shape {}", shape_str(idx.shape()));
  int64_t time = idx.size(1);
  DYT_CHECK(time <= config_.block_size, "GPT: sequence of {} tokens is longer than block_size {}", time,
            config_.block_size);
  Tensor x = tokens_->forward(idx);
  Tensor positions = positions_->forward(Tensor::arange(0, double(time), 1, DType::Int64, idx.device()));
  if (!embedding_scale_.defined())
    x = add(x, positions);
  else if (config_.scale_positions)
    x = mul(add(x, positions), embedding_scale_);
  else
    x = add(mul(x, embedding_scale_), positions);
  for (auto& block : blocks_) x = block->forward(x);
  x = final_norm_->forward(x);
  if (head_) return head_->forward(x);
  return matmul(x, tokens_->weight.transpose(0, 1));
}

Tensor GPT::loss(const Tensor& idx, const Tensor& targets) { return cross_entropy(forward(idx), targets); }

}  // namespace dytgrad::models
