// ViT (Dosovitskiy et al. 2021) for small images: cut the image into patch x patch squares, map
// each to a vector (one Linear over its pixels), prepend a learned class token (or not, with mean
// pooling), add learned position embeddings, run the bidirectional pre-norm blocks, apply a final
// norm, and classify the class token (or the mean of the tokens). The norms are chosen by name as
// in GPT; with "dyt" every norm is a DyT with alpha0 = block.alpha0_other (the paper's ViT recipe,
// alpha0 0.5 there).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../nn/layers.h"
#include "../nn/transformer.h"

namespace dytgrad::models {

// The defaults train on 2 CPU cores at about 800 images/s (16 patches of 7x7, width 64).
struct ViTConfig {
  int64_t image_size = 28, patch_size = 7, channels = 1, classes = 10;
  std::string pooling = "cls";  // "cls": the class token's output; "mean": the mean over the patches
  nn::BlockConfig block{64, 4, 4, "dyt", 0.5, 0.5, 0.0, /*causal=*/false};
  int64_t patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

// The std of the residual stream at initialisation, what the DyTs see first (for dyt_gamma0 0).
double initial_residual_std(const ViTConfig& c);

// DyT's recipe for the ViT (docs/RESULTS.md), set on a config whose norm is "dyt" or "derf" (others
// are left alone): the GPT's start, nn::start_at_layer_norm_scale (alpha0 0.5, gamma at LayerNorm's
// output scale). On the wide ViT (width 128, 6 layers, 20 epochs) alpha0 2 was unstable early and
// ended 6.8 points behind LayerNorm, where this start leads it.
void use_dyt_recipe(ViTConfig& c);

class ViT : public nn::Module {
 public:
  ViT(const ViTConfig& config, uint64_t seed);
  // images [batch, height, width] (one channel) or [batch, channels, height, width] -> logits [batch, classes]
  Tensor forward(const Tensor& images);
  Tensor loss(const Tensor& images, const Tensor& labels);
  const ViTConfig& config() const { return config_; }
  Generator& generator() { return generator_; }  // drew the initial weights; draws the dropout masks
  // The blocks, for the study's look at the norms' inputs and outputs.
  const std::vector<std::shared_ptr<nn::Block>>& blocks() const { return blocks_; }
  // The norm before the head; replaceable, like the blocks' norms, so that the study can wrap it.
  std::shared_ptr<nn::UnaryModule>& final_norm() { return final_norm_; }
  // images -> [batch, patches, channels * patch * patch], patches in row-major order of the grid
  Tensor patchify(const Tensor& images) const;

 private:
  ViTConfig config_;
  Generator generator_;
  std::shared_ptr<nn::Linear> patch_embedding_, head_;
  std::vector<std::shared_ptr<nn::Block>> blocks_;
  std::shared_ptr<nn::UnaryModule> final_norm_;
  Tensor class_token_, positions_;  // [1, 1, width] (cls pooling only), [1, tokens, width]
};

}  // namespace dytgrad::models
