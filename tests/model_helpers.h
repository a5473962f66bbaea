// Small models shared by the nn, checkpoint and ViT tests.
#pragma once
#include "models/gpt.h"

namespace dytgrad::test {

inline models::GPTConfig tiny_gpt(const std::string& norm, double dropout = 0.0) {
  models::GPTConfig c;
  c.vocab = 11;
  c.block_size = 16;
  c.block.width = 32, c.block.heads = 2, c.block.layers = 2, c.block.norm = norm, c.block.dropout = dropout;
  models::use_dyt_recipe(c);  // what train-gpt trains DyT GPTs with
  return c;
}

}  // namespace dytgrad::test
