// nn/: parameter trees, layers, optimisers against hand-computed steps, schedules; GPT shapes,
// initial loss, and short training runs whose loss must fall.
#include <cmath>
#include <map>

#include "core/autograd/grad_mode.h"
#include "helpers.h"
#include "model_helpers.h"
#include "models/gpt.h"
#include "nn/norms.h"
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

namespace {
double root_mean_square(const Tensor& x) { return std::sqrt(mean(mul(x, x)).item()); }
}  // namespace

TEST_CASE("gamma_for_unit_rms gives gamma * tanh(alpha x) and gamma * erf(alpha x) an RMS of 1 on Gaussian inputs", "[nn][dyt]") {
  Tensor z = Tensor::randn({400000}, DType::Float64);
  for (auto [alpha0, input_std] : {std::pair{0.5, 0.2}, {1.0, 0.23}, {4.0, 0.23}, {2.0, 3.0}, {50.0, 1.0}}) {
    INFO(alpha0 << " " << input_std);
    double gamma = nn::gamma_for_unit_rms("dyt", alpha0, input_std);
    REQUIRE(std::abs(root_mean_square(mul(tanh(mul(z, alpha0 * input_std)), gamma)) - 1) < 0.005);
    double gamma_erf = nn::gamma_for_unit_rms("derf", alpha0, input_std);
    REQUIRE(std::abs(root_mean_square(mul(erf(mul(z, alpha0 * input_std)), gamma_erf)) - 1) < 0.005);
  }
  // in tanh's linear range gamma undoes the slope; far in its flat ends gamma is 1
  REQUIRE(std::abs(nn::gamma_for_unit_rms("dyt", 1e-3, 0.5) * 1e-3 * 0.5 - 1) < 1e-5);
  // k = alpha0 std = 1000: E[tanh^2] = 1 - E[sech^2(k z)] ~ 1 - 2 phi(0) / k
  REQUIRE(std::abs(nn::gamma_for_unit_rms("dyt", 1e3, 1.0) - 1 / std::sqrt(1 - 2 / std::sqrt(2 * M_PI) / 1e3)) < 1e-6);
  REQUIRE_THROWS_WITH(nn::gamma_for_unit_rms("dyt", 0, 1), Catch::Contains("must be > 0"));
  REQUIRE_THROWS_WITH(nn::gamma_for_unit_rms("layernorm", 1, 1), Catch::Contains("must be dyt or derf"));
}

TEST_CASE("GPT DyT starts: alpha0 per site, gamma0 at LayerNorm's scale, no beta, scaled positions", "[nn][gpt][dyt]") {
  models::GPTConfig c;
  c.vocab = 64, c.block_size = 64;
  c.block.width = 64, c.block.heads = 2, c.block.layers = 2, c.block.norm = "dyt";
  c.block.alpha0_attention = 2, c.block.alpha0_other = 0.5, c.alpha0_final = 1;
  c.block.dyt_gamma0 = 0, c.block.dyt_beta = false;
  c.scale_embeddings = c.scale_positions = true;
  models::GPT gpt(c, 3);
  double input_std = models::initial_residual_std(c);
  REQUIRE(std::abs(input_std - 0.02 * std::sqrt(2.0 * 64)) < 1e-12);
  std::map<std::string, Tensor> p;
  for (auto& named : gpt.named_parameters()) p[named.name] = *named.tensor;
  REQUIRE(!p.count("final_norm.beta"));
  auto first_gamma = [&](const std::string& name) { return p.at(name).to_vector<float>()[0]; };
  REQUIRE(p.at("blocks.1.norm_attention.alpha").item() == 2);
  REQUIRE(p.at("blocks.1.norm_mlp.alpha").item() == 0.5);
  REQUIRE(p.at("final_norm.alpha").item() == 1);
  REQUIRE(first_gamma("blocks.1.norm_attention.gamma") == float(nn::gamma_for_unit_rms("dyt", 2, input_std)));
  REQUIRE(first_gamma("blocks.0.norm_mlp.gamma") == float(nn::gamma_for_unit_rms("dyt", 0.5, input_std)));
  REQUIRE(first_gamma("final_norm.gamma") == float(nn::gamma_for_unit_rms("dyt", 1, input_std)));
  // The embeddings as initialised have the std the gammas were matched to: the first DyT's output
  // on every (token, position) pair has RMS 1, as LayerNorm's would.
  NoGradGuard no_grad;
  Tensor tokens = p.at("tokens.weight").reshape({64, 1, 64}), positions = p.at("positions.weight").reshape({1, 64, 64});
  Tensor x = mul(add(tokens, positions), p.at("embedding_scale"));
  REQUIRE(std::abs(root_mean_square(gpt.blocks()[0]->norm_attention->forward(x)) - 1) < 0.05);
  // The other norms ignore the DyT settings.
  c.block.norm = "layernorm";
  REQUIRE_NOTHROW(models::GPT(c, 3));
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
  // bfloat16 gradients (a model kept in bfloat16) and gradients of two dtypes are clipped too
  Tensor h = Tensor::zeros({2}, DType::BFloat16).requires_grad_();
  h.set_grad(Tensor::from_vector<float>({6, 8}, {2}).to(DType::BFloat16));
  std::vector<nn::NamedParameter> bfloat16_params = {{"h", &h, true}};
  REQUIRE(nn::clip_grad_norm(bfloat16_params, 100.0) == Approx(10.0));
  bfloat16_params.push_back({"b", &b, true});
  REQUIRE(nn::clip_grad_norm(bfloat16_params, 100.0) == Approx(std::sqrt(100.0 + 0.8 * 0.8)).epsilon(1e-3));
  REQUIRE(nn::cosine_lr(0, 100, 10, 1.0, 0.1) == Approx(0.1));
  REQUIRE(nn::cosine_lr(9, 100, 10, 1.0, 0.1) == Approx(1.0));
  REQUIRE(nn::cosine_lr(55, 100, 10, 1.0, 0.1) == Approx(0.55));
  REQUIRE(nn::cosine_lr(100, 100, 10, 1.0, 0.1) == Approx(0.1));
}

TEST_CASE("AdamW::step_clipped: the same weights as clip_grad_norm then step, gradients left unclipped", "[nn][optim]") {
  std::vector<int64_t> tokens;
  for (int i = 0; i < 2 * 17; ++i) tokens.push_back((i * 5 + 3) % 11);
  Tensor x = Tensor::from_vector<int64_t>(tokens, {2, 17}).narrow(1, 0, 16).contiguous();
  Tensor y = Tensor::from_vector<int64_t>(tokens, {2, 17}).narrow(1, 1, 16).contiguous();
  // max_norm 0.05 clips (the first gradients' norm is over 1), 1e3 does not
  for (double max_norm : {0.05, 1e3}) {
    INFO("max_norm " << max_norm);
    models::GPT fused(tiny_gpt("dyt"), 4), reference(tiny_gpt("dyt"), 4);
    auto fused_params = fused.named_parameters(), reference_params = reference.named_parameters();
    nn::AdamW fused_adam(fused_params, {3e-3, 0.9, 0.99, 1e-8}, 0.1), reference_adam(reference_params, {3e-3, 0.9, 0.99, 1e-8}, 0.1);
    for (int step = 0; step < 3; ++step) {
      for (models::GPT* gpt : {&fused, &reference}) {
        gpt->zero_grad();
        gpt->loss(x, y).backward();
      }
      Tensor unclipped = fused_params[0].tensor->grad().clone();
      double norm = fused_adam.step_clipped(1e-2, max_norm).item();
      double reference_norm = nn::clip_grad_norm(reference_params, max_norm);
      reference_adam.step(1e-2);
      REQUIRE(norm == reference_norm);
      if (max_norm < 1) REQUIRE(norm > 1);
      REQUIRE(fused_params[0].tensor->grad().to_vector<float>() == unclipped.to_vector<float>());
    }
    for (size_t i = 0; i < fused_params.size(); ++i) {
      INFO(fused_params[i].name);
      REQUIRE(fused_params[i].tensor->to_vector<float>() == reference_params[i].tensor->to_vector<float>());
    }
  }
}

TEST_CASE("a tiny GPT learns a repeating pattern with each norm (loss falls by half)", "[nn][gpt][training]") {
  // Period-7 sequence over 11 symbols: learnable from context, loss can go far below log(11).
  std::vector<int64_t> text;
  for (int i = 0; i < 400; ++i) text.push_back((i * 3 + i / 7) % 11);
  for (std::string norm : {"dyt", "derf", "layernorm", "rmsnorm", "none"}) {
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
