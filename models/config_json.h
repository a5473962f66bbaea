// Model configs as JSON, for checkpoints (a program rebuilds the model from a checkpoint's
// metadata) and logs. Every field is written; fields missing on reading keep their defaults.
#pragma once
#include <nlohmann/json.hpp>

#include "gpt.h"

namespace dytgrad::nn {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BlockConfig, width, heads, layers, norm, alpha0_attention,
                                                alpha0_other, dyt_gamma0, dyt_beta, dropout, causal)
}  // namespace dytgrad::nn

namespace dytgrad::models {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(GPTConfig, vocab, block_size, block, tie_head, scale_embeddings,
                                                scale_positions, alpha0_final)
}  // namespace dytgrad::models

#include "vit.h"

namespace dytgrad::models {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ViTConfig, image_size, patch_size, channels, classes, pooling, block)
}  // namespace dytgrad::models
