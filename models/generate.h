// Text generation from a GPT: feed the context (its last block_size tokens), keep the k likeliest
// next tokens, draw one from their softmax at the temperature (temperature 0: take the likeliest),
// append it, repeat.
#pragma once
#include <functional>
#include <vector>

#include "gpt.h"

namespace dytgrad::models {

struct SamplingOptions {
  int64_t tokens = 300;      // how many to generate
  double temperature = 0.8;  // < 1 sharper, > 1 flatter; 0: always the likeliest token (greedy)
  int64_t top_k = 20;        // 0: all tokens
};

// Returns prompt + the generated tokens. Runs in eval mode without a graph; `gen` draws the choices.
// on_token, if given, is called with each token as it is chosen (to show text as it comes).
std::vector<int64_t> generate(GPT& model, std::vector<int64_t> prompt, const SamplingOptions& options, Generator& gen,
                              const std::function<void(int64_t)>& on_token = {});

}  // namespace dytgrad::models
