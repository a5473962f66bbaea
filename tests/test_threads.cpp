// The CPU kernels give the same bits for any number of threads: a few GPT training steps (DyT and
// LayerNorm, sizes where every parallel loop splits: attention over several tiles, column sums
// over many row blocks, GEMMs cut by rows) with 1 and with 2 threads, compared bit for bit.

#include "core/ops/ops.h"
#include "helpers.h"
#include "kernels/cpu/threads.h"
#include "model_helpers.h"
#include "nn/optim.h"

using namespace dytgrad;

namespace {

// Trains for `steps` steps with `threads` threads in `dtype`; returns every parameter and the
// losses. float64 too: float32 results can hide a change of summation order in a double accumulator.
std::vector<std::vector<double>> train(const std::string& norm, DType dtype, int threads, int steps) {
  kernels::cpu::set_threads(threads);
  models::GPTConfig config = test::tiny_gpt(norm);
  config.block_size = 80, config.block.width = 64, config.block.heads = 2;
  models::GPT model(config, 3);
  auto params = model.named_parameters();
  for (auto& p : params) *p.tensor = p.tensor->detach().to(dtype).requires_grad_();
  nn::AdamW optimizer(params, {1e-3, 0.9, 0.95, 1e-8}, 0.1);
  Generator data(11);
  std::vector<std::vector<double>> out;
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    Tensor tokens = Tensor::randint(0, config.vocab, {8, config.block_size + 1}, Device::cpu(), &data);
    Tensor x = tokens.narrow(1, 0, config.block_size), y = tokens.narrow(1, 1, config.block_size);
    model.zero_grad();
    Tensor loss = model.loss(x, y);
    loss.backward();
    nn::clip_grad_norm(params, 1.0);
    optimizer.step(1e-3);
    losses.push_back(loss.item());
  }
  out.push_back(losses);
  for (auto& p : params) out.push_back(p.tensor->to(DType::Float64).to_vector<double>());
  return out;
}

}  // namespace

TEST_CASE("training steps give the same bits with 1 and 2 threads", "[threads]") {
  int before = kernels::cpu::threads();
  for (DType dtype : {DType::Float32, DType::Float64})
  for (std::string norm : {"dyt", "layernorm"}) {
    INFO("norm " << norm << ", " << dtype_name(dtype));
    auto one = train(norm, dtype, 1, 3), two = train(norm, dtype, 2, 3);
    REQUIRE(one.size() == two.size());
    for (size_t i = 0; i < one.size(); ++i) {
      INFO("tensor " << i << " (0: the losses)");
      REQUIRE(one[i] == two[i]);
    }
  }
  kernels::cpu::set_threads(before);
}

TEST_CASE("set_threads refuses a count below one", "[threads]") {
  REQUIRE_THROWS_WITH(kernels::cpu::set_threads(0), Catch::Contains("must be >= 1, got 0"));
  REQUIRE(kernels::cpu::available_cpus() >= 1);
}
