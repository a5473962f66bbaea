// nn/: parameter trees, layers, optimisers against hand-computed steps, schedules; GPT shapes,
// initial loss, and short training runs whose loss must fall.
#include <cmath>
#include <map>

#include "core/autograd/grad_mode.h"
#include "helpers.h"
#include "model_helpers.h"
#include "models/gpt.h"
#include "nn/optim.h"

using namespace dytgrad;

using test::tiny_gpt;

TEST_CASE("modules name their parameters as a tree, with weight decay on matrices only", "[nn]") {
  models::GPT gpt(tiny_gpt("dyt"), 1);
  std::map<std::string, bool> decay;
  for (auto& p : gpt.named_parameters()) decay[p.name] = p.weight_decay;
  REQUIRE(decay.count("tokens.weight"));
  REQUIRE(decay.count("blocks.1.norm_attention.alpha"));
  REQUIRE(decay.count("blocks.0.attention.qkv.weight"));
  REQUIRE(decay.count("blocks.0.mlp.down.bias"));
  REQUIRE(decay.count("final_norm.gamma"));
  REQUIRE(!decay.count("head.weight"));  // tied
  REQUIRE(decay["blocks.0.attention.qkv.weight"]);
  REQUIRE(!decay["blocks.0.mlp.down.bias"]);
  REQUIRE(!decay["blocks.1.norm_attention.alpha"]);
  REQUIRE(!decay["tokens.weight"]);
  // width 32: per block 4 * 32^2 + 4 * 32 (attention) + 8 * 32^2 + 5 * 32 (mlp) + 2 * (1 + 2 * 32) (two DyT)
  int64_t block = 4 * 1024 + 4 * 32 + 8 * 1024 + 5 * 32 + 2 * 65;
  REQUIRE(gpt.num_parameters() == 11 * 32 + 16 * 32 + 2 * block + 65 + 1);  // + the embedding scalar
  models::GPT plain(tiny_gpt("none"), 1);
  REQUIRE(plain.num_parameters() == gpt.num_parameters() - 5 * 65 - 1);
  REQUIRE_THROWS_WITH(nn::make_norm("batchnorm", 4), Catch::Contains("unknown norm 'batchnorm'"));
}

TEST_CASE("Linear computes x W^T + b over the last dim", "[nn]") {
  Generator gen(3);
  nn::Linear lin(5, 3, true, 1.0, &gen);
  Tensor x = Tensor::randn({2, 4, 5});
  Tensor ref = add(matmul(x, lin.weight.transpose(0, 1).contiguous()), lin.bias);
  REQUIRE_CLOSE(lin(x), ref, 1e-6);
  REQUIRE(lin(x).shape() == Shape{2, 4, 3});
}

TEST_CASE("GPT: shapes, initial loss near log(vocab), clear errors", "[nn][gpt]") {
  models::GPT gpt(tiny_gpt("dyt"), 2);
  Tensor idx = Tensor::randint(0, 11, {3, 16});
  REQUIRE(gpt.forward(idx).shape() == Shape{3, 16, 11});
  double loss = gpt.loss(idx, Tensor::randint(0, 11, {3, 16})).item();
  REQUIRE(std::abs(loss - std::log(11.0)) < 0.1);
  REQUIRE_THROWS_WITH(gpt.forward(Tensor::randint(0, 11, {1, 17})), Catch::Contains("longer than block_size 16"));
  REQUIRE_THROWS_WITH(gpt.forward(Tensor::randint(0, 11, {16})), Catch::Contains("[batch, time]"));
}

TEST_CASE("AdamW decays only the parameters registered for it, and SGD with momentum by hand", "[nn][optim]") {
  Tensor a = Tensor::from_vector<float>({1.0f, 2.0f}, {2}).requires_grad_(), b = Tensor::from_vector<float>({3.0f}, {1}).requires_grad_();
  std::vector<nn::NamedParameter> params = {{"a", &a, true}, {"b", &b, false}};
  nn::AdamW adam(params, {0.1, 0.9, 0.999, 1e-8}, 0.5);
  a.set_grad(Tensor::zeros({2}));
  b.set_grad(Tensor::zeros({1}));
  adam.step(0.1);  // zero gradients: only the decay moves a, by a factor 1 - lr * wd
  REQUIRE(a.to_vector<float>()[1] == Approx(2.0 * 0.95));
  REQUIRE(b.item() == Approx(3.0));
  Tensor w = Tensor::from_vector<double>({1.0}, {1}).requires_grad_();
  nn::SGD sgd({{"w", &w, true}}, 0.9);
  w.set_grad(Tensor::from_vector<double>({2.0}, {1}));
  sgd.step(0.1);  // v = 2, w = 1 - 0.2
  REQUIRE(w.item() == Approx(0.8));
  w.set_grad(Tensor::from_vector<double>({2.0}, {1}));
  sgd.step(0.1);  // v = 0.9 * 2 + 2 = 3.8, w = 0.8 - 0.38
  REQUIRE(w.item() == Approx(0.42));
}

TEST_CASE("gradient clipping returns the norm and scales to max_norm, and the cosine schedule", "[nn][optim]") {
  Tensor a = Tensor::zeros({2}).requires_grad_(), b = Tensor::zeros({1}).requires_grad_();
  a.set_grad(Tensor::from_vector<float>({3, 0}, {2}));
  b.set_grad(Tensor::from_vector<float>({4}, {1}));
  std::vector<nn::NamedParameter> params = {{"a", &a, true}, {"b", &b, true}};
  REQUIRE(nn::clip_grad_norm(params, 1.0) == Approx(5.0));
  REQUIRE(a.grad().to_vector<float>()[0] == Approx(0.6).epsilon(1e-5));
  REQUIRE(b.grad().item() == Approx(0.8).epsilon(1e-5));
  REQUIRE(nn::clip_grad_norm(params, 10.0) == Approx(1.0).epsilon(1e-5));  // under the limit: unchanged
  REQUIRE(nn::cosine_lr(0, 100, 10, 1.0, 0.1) == Approx(0.1));
  REQUIRE(nn::cosine_lr(9, 100, 10, 1.0, 0.1) == Approx(1.0));
  REQUIRE(nn::cosine_lr(55, 100, 10, 1.0, 0.1) == Approx(0.55));
  REQUIRE(nn::cosine_lr(100, 100, 10, 1.0, 0.1) == Approx(0.1));
}

TEST_CASE("a tiny GPT learns a repeating pattern with each norm (loss falls by half)", "[nn][gpt][training]") {
  // Period-7 sequence over 11 symbols: learnable from context, loss can go far below log(11).
  std::vector<int64_t> text;
  for (int i = 0; i < 400; ++i) text.push_back((i * 3 + i / 7) % 11);
  for (std::string norm : {"dyt", "layernorm", "rmsnorm", "none"}) {
    INFO(norm);
    models::GPT gpt(tiny_gpt(norm), 5);
    auto params = gpt.named_parameters();
    nn::AdamW adam(params, {3e-3, 0.9, 0.99, 1e-8}, 0.0);
    Generator gen(9);
    double first = 0, last = 0;
    for (int step = 0; step < 80; ++step) {
      auto starts = Tensor::randint(0, 400 - 17, {8}, Device::cpu(), &gen).to_vector<int64_t>();
      std::vector<int64_t> x, y;
      for (int64_t s : starts)
        for (int64_t t = 0; t < 16; ++t) x.push_back(text[size_t(s + t)]), y.push_back(text[size_t(s + t + 1)]);
      Tensor loss = gpt.loss(Tensor::from_vector<int64_t>(x, {8, 16}), Tensor::from_vector<int64_t>(y, {8, 16}));
      gpt.zero_grad();
      loss.backward();
      adam.step(3e-3);
      (step == 0 ? first : last) = loss.item();
    }
    INFO("first " << first << " last " << last);
    REQUIRE(last < 0.5 * first);
  }
}
