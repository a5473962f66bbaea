// The pieces of a pre-norm Transformer: multi-head self-attention (through the fused attention op;
// causal for GPT, bidirectional for ViT), the GELU MLP, and the block that joins them with residual connections:
//   x = x + attention(norm_attention(x));  x = x + mlp(norm_mlp(x))
// Initialisation (GPT-2's): weights N(0, 0.02^2), and the two projections that write into the
// residual stream N(0, (0.02 / sqrt(2 * layers))^2), so that the residual's variance stays put as
// depth grows.
#pragma once
#include <memory>
#include <string>

#include "layers.h"
#include "norms.h"

namespace dytgrad::nn {

struct BlockConfig {
  int64_t width = 128, heads = 4, layers = 4;  // layers: of the whole stack, for the init scale
  std::string norm = "dyt";
  double alpha0_attention = 1.0, alpha0_other = 1.0;  // DyT's alpha0 before attention / before the MLP
  double dropout = 0.0;
  bool causal = true;  // each position attends to itself and earlier ones only (GPT); false for ViT
  // DyT's (and Derf's) initial gamma, every one of the model; 0: LayerNorm's output scale, the
  // gamma that makes its output RMS 1 for inputs of std dyt_input_std (gamma_for_unit_rms)
  double dyt_gamma0 = 1.0;
  double dyt_input_std = 0;  // the std of the DyTs' inputs at initialisation; set by the model, not saved
  bool dyt_beta = true;     // false: DyTs (and Derfs) without beta
};

// The start both models' DyT recipes share (docs/RESULTS.md): every DyT (and Derf) at alpha0
// kDyTAlpha0, in tanh's linear range, with gamma at LayerNorm's output scale (dyt_gamma0 0), so that
// at step 0 each hands the next layer what a LayerNorm would.
inline constexpr double kDyTAlpha0 = 0.5;
void start_at_layer_norm_scale(BlockConfig& c);

// An error unless the sizes are ones a model can be built with: width 1 to 65536, heads 1 to 1024
// and dividing the width, layers 1 to 1024, dropout in [0, 1). Models check their config with it
// before building anything (a checkpoint saying "layers": 1000000000 otherwise builds until memory
// runs out).
void check_block_config(const BlockConfig& c);

class SelfAttention : public UnaryModule {
 public:
  SelfAttention(const BlockConfig& c, Generator* gen);
  Tensor forward(const Tensor& x) override;  // x [batch, time, width]

 private:
  int64_t heads_;
  bool causal_;
  std::shared_ptr<Linear> qkv_, projection_;
  std::shared_ptr<Dropout> dropout_;
};

class MLP : public UnaryModule {
 public:
  MLP(const BlockConfig& c, Generator* gen);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Linear> up_, down_;
  std::shared_ptr<Dropout> dropout_;
};

// The DyT start of a model with this config at a site whose alpha0 is `alpha0`.
DyTInit dyt_init(const BlockConfig& c, double alpha0);

class Block : public UnaryModule {
 public:
  Block(const BlockConfig& c, Generator* gen);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<UnaryModule> norm_attention, norm_mlp;

 private:
  std::shared_ptr<SelfAttention> attention_;
  std::shared_ptr<MLP> mlp_;
};

}  // namespace dytgrad::nn
