#include "models/vit.h"

#include <cmath>

#include "core/error.h"
#include "core/ops/ops.h"

namespace dytgrad::models {

// Patch tokens of unit variance (the LeCun-normal embedding below) plus positions of std 0.02.
double initial_residual_std(const ViTConfig&) { return std::sqrt(1.0 + 0.02 * 0.02); }

void use_dyt_recipe(ViTConfig& c) {
  if (c.block.norm == "dyt" || c.block.norm == "derf") nn::start_at_layer_norm_scale(c.block);
}

ViT::ViT(const ViTConfig& config, uint64_t seed) : config_(config), generator_(seed) {
  ViTConfig c = config;
  c.block.dyt_input_std = initial_residual_std(c);  // for DyT's gamma0 0 (LayerNorm's output scale)
  DYT_CHECK(c.patch_size > 0 && c.image_size % c.patch_size == 0, "ViT: image size {} is not a multiple of patch size {}",
            c.image_size, c.patch_size);
  DYT_CHECK(c.pooling == "cls" || c.pooling == "mean", "ViT: pooling must be 'cls' or 'mean', got '{}'", c.pooling);
  nn::check_block_config(c.block);
  DYT_CHECK(!c.block.causal, "ViT: the blocks must not be causal (every patch sees every other)");
  Generator* gen = &generator_;
  int64_t width = c.block.width, tokens = c.patches() + (c.pooling == "cls" ? 1 : 0);
  // LeCun-normal patch embedding, std 1 / sqrt(pixels per patch): the tokens start with the
  // (standardised) pixels' unit variance. With GPT-2's 0.02 they start ~10x smaller, and the ViTs
  // without a norm and with DyT at alpha0 <= 2 did not learn at all in the tiny-ViT test (loss stayed
  // at log 4 for 60 steps, 2026-11-23) while LayerNorm, which rescales, did.
  int64_t pixels = c.channels * c.patch_size * c.patch_size;
  patch_embedding_ = register_module(
      "patch_embedding", std::make_shared<nn::Linear>(pixels, width, true, 1.0 / std::sqrt(double(pixels)), gen));
  if (c.pooling == "cls")
    register_parameter("class_token", class_token_, mul(Tensor::randn({1, 1, width}, DType::Float32, Device::cpu(), gen), 0.02), false);
  register_parameter("positions", positions_, mul(Tensor::randn({1, tokens, width}, DType::Float32, Device::cpu(), gen), 0.02), false);
  for (int64_t i = 0; i < c.block.layers; ++i)
    blocks_.push_back(register_module("blocks." + std::to_string(i), std::make_shared<nn::Block>(c.block, gen)));
  final_norm_ = register_module("final_norm", nn::make_norm(c.block.norm, width, nn::dyt_init(c.block, c.block.alpha0_other)));
  head_ = register_module("head", std::make_shared<nn::Linear>(width, c.classes, true, 0.02, gen));
}

Tensor ViT::patchify(const Tensor& images) const {
  const ViTConfig& c = config_;
  Tensor x = images.dim() == 3 ? images.unsqueeze(1) : images;
  DYT_CHECK(x.dim() == 4 && x.size(1) == c.channels && x.size(2) == c.image_size && x.size(3) == c.image_size,
            "ViT: expected images [batch, {}, {}, {}] (or [batch, {}, {}] for one channel), got {}", c.channels,
            c.image_size, c.image_size, c.image_size, c.image_size, shape_str(images.shape()));
  int64_t batch = x.size(0), side = c.image_size / c.patch_size, p = c.patch_size;
  // [b, c, side*p, side*p] -> [b, c, side, p, side, p] -> [b, side, side, c, p, p] -> [b, side*side, c*p*p]
  return x.reshape({batch, c.channels, side, p, side, p}).permute({0, 2, 4, 1, 3, 5}).reshape({batch, side * side, c.channels * p * p});
}

Tensor ViT::forward(const Tensor& images) {
  Tensor x = patch_embedding_->forward(patchify(images));
  int64_t batch = x.size(0), width = config_.block.width;
  if (class_token_.defined()) x = concat({class_token_.expand({batch, 1, width}), x}, 1);
  x = add(x, positions_);
  for (auto& block : blocks_) x = block->forward(x);
  x = final_norm_->forward(x);
  Tensor pooled = class_token_.defined() ? x.narrow(1, 0, 1).reshape({batch, width}) : mean(x, {1});
  return head_->forward(pooled);
}

Tensor ViT::loss(const Tensor& images, const Tensor& labels) { return cross_entropy(forward(images), labels); }

}  // namespace dytgrad::models
