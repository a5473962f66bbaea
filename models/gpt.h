// GPT: token + learned position embeddings, a stack of pre-norm blocks, a final norm, and a head
// (tied to the token embedding or not). The norm of every block and the final one is chosen by
// name; with "dyt" the paper's language-model recipe is available: a separate alpha0 for the DyT
// before attention, and a learnable scalar on the token embeddings initialised to sqrt(width).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../nn/layers.h"
#include "../nn/transformer.h"

namespace dytgrad::models {

struct GPTConfig {
  int64_t vocab = 96, block_size = 128;  // block_size: the longest context
  nn::BlockConfig block;                 // width, heads, layers, norm, alpha0s, dropout
  bool tie_head = true;
  bool scale_embeddings = false;  // the paper's learnable sqrt(width) scalar on token embeddings
  bool scale_positions = false;   // with scale_embeddings: the scalar multiplies tokens + positions (Derf's nanoGPT)
  double alpha0_final = 0;        // the final DyT's alpha0; 0: block.alpha0_other
};

// The std of the residual stream at initialisation (what every norm sees before the blocks have
// learnt anything): token and position embeddings N(0, 0.02^2), the tokens (or both) times the
// embedding scalar's sqrt(width).
double initial_residual_std(const GPTConfig& c);

// FLOPs of one training step on `batch` sequences of block_size tokens: 6 per weight of the
// matmuls per token (forward 2, backward 4), the tied head included, and the causal attention's
// 6 T C per layer per token (Q K^T and P V, half the score matrix). The benchmarks' floors.
double training_step_flops(const GPTConfig& c, int64_t batch);

// DyT's recipe for the GPT (docs/RESULTS.md, section 0), set on a config whose norm is "dyt" or
// "derf" (others are left alone): every DyT starts with alpha0 nn::kDyTAlpha0 and with gamma at
// LayerNorm's output scale (dyt_gamma0 0: the DyT's output has RMS 1 on the initial residual stream,
// as LayerNorm's has), and the token embeddings are multiplied by a learnable scalar initialised to
// sqrt(width) (the paper's language-model recipe).
void use_dyt_recipe(GPTConfig& c);

class GPT : public nn::Module {
 public:
  GPT(const GPTConfig& config, uint64_t seed);
  // idx [batch, time] int64 -> logits [batch, time, vocab]
  Tensor forward(const Tensor& idx);
  // mean cross-entropy of the next-token predictions against targets [batch, time]
  Tensor loss(const Tensor& idx, const Tensor& targets);
  const GPTConfig& config() const { return config_; }
  Generator& generator() { return generator_; }  // drew the initial weights; draws the dropout masks
  // The blocks and the final norm, for the study's look at the norms' inputs (as in ViT).
  const std::vector<std::shared_ptr<nn::Block>>& blocks() const { return blocks_; }
  std::shared_ptr<nn::UnaryModule>& final_norm() { return final_norm_; }

 private:
  GPTConfig config_;
  Generator generator_;
  std::shared_ptr<nn::Embedding> tokens_, positions_;
  std::vector<std::shared_ptr<nn::Block>> blocks_;
  std::shared_ptr<nn::UnaryModule> final_norm_;
  std::shared_ptr<nn::Linear> head_;  // null when tied
  Tensor embedding_scale_;            // defined when scale_embeddings
};

}  // namespace dytgrad::models
