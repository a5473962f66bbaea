// ViT: patches in the right order, shapes and errors, attention that sees every patch, and short
// training runs (one per norm) whose loss must fall.
#include <cmath>
#include <map>

#include "core/autograd/grad_mode.h"
#include "helpers.h"
#include "models/vit.h"
#include "nn/norms.h"
#include "nn/optim.h"

using namespace dytgrad;

namespace {
models::ViTConfig tiny_vit(const std::string& norm, const std::string& pooling = "cls") {
  models::ViTConfig c;
  c.image_size = 8, c.patch_size = 4, c.classes = 4, c.pooling = pooling;
  c.block.width = 32, c.block.heads = 2, c.block.layers = 2, c.block.norm = norm;
  return c;
}
}  // namespace

TEST_CASE("ViT: patchify cuts row-major patches, each flattened row-major", "[nn][vit]") {
  models::ViT vit(tiny_vit("dyt"), 1);
  std::vector<float> pixels(2 * 64);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = float(i);
  Tensor patches = vit.patchify(Tensor::from_vector<float>(pixels, {2, 8, 8}));
  REQUIRE(patches.shape() == Shape{2, 4, 16});
  auto p = patches.to_vector<float>();
  // image 1, patch (row 1, column 0), its pixel (2, 3): image row 4 + 2, column 0 + 3
  REQUIRE(p[size_t((1 * 4 + 2) * 16 + 2 * 4 + 3)] == float(64 + 6 * 8 + 3));
}

TEST_CASE("ViT: logits per image, every patch seen, clear errors", "[nn][vit][errors]") {
  for (std::string pooling : {"cls", "mean"}) {
    INFO(pooling);
    models::ViT vit(tiny_vit("layernorm", pooling), 2);
    vit.eval();
    NoGradGuard no_grad;
    Tensor images = Tensor::randn({3, 8, 8});
    Tensor logits = vit.forward(images);
    REQUIRE(logits.shape() == Shape{3, 4});
    REQUIRE(vit.forward(images.reshape({3, 1, 8, 8})).to_vector<float>() == logits.to_vector<float>());
    // Bidirectional: changing only the last patch changes the prediction read at the first token.
    std::vector<float> v = images.to_vector<float>();
    v[63] += 3.0f;  // image 0, bottom-right pixel
    auto after = vit.forward(Tensor::from_vector<float>(v, {3, 8, 8})).to_vector<float>();
    REQUIRE(after[0] != logits.to_vector<float>()[0]);
    REQUIRE(after[4] == logits.to_vector<float>()[4]);  // image 1 untouched
  }
  models::ViT vit(tiny_vit("dyt"), 1);
  REQUIRE_THROWS_WITH(vit.forward(Tensor::randn({2, 9, 9})), Catch::Contains("expected images [batch, 1, 8, 8]") &&
                                                                 Catch::Contains("[2, 9, 9]"));
  auto bad = tiny_vit("dyt");
  bad.patch_size = 3;
  REQUIRE_THROWS_WITH(models::ViT(bad, 1), Catch::Contains("not a multiple of patch size 3"));
  bad = tiny_vit("dyt");
  bad.block.causal = true;
  REQUIRE_THROWS_WITH(models::ViT(bad, 1), Catch::Contains("must not be causal"));
}

TEST_CASE("ViT DyT recipe: the first DyT's output on the initial tokens has LayerNorm's RMS 1", "[nn][vit][dyt]") {
  auto c = tiny_vit("dyt");
  c.image_size = 16, c.block.width = 64;  // 16 patches of 16 pixels, enough channels for a stable RMS
  models::use_dyt_recipe(c);
  REQUIRE(c.block.alpha0_attention == 0.5);
  REQUIRE(c.block.alpha0_other == 0.5);
  REQUIRE(c.block.dyt_gamma0 == 0);
  models::ViT vit(c, 4);
  std::map<std::string, Tensor> p;
  for (auto& named : vit.named_parameters()) p[named.name] = *named.tensor;
  double matched = nn::gamma_for_unit_rms("dyt", 0.5, models::initial_residual_std(c));
  REQUIRE(matched > 2);  // tanh(0.5 x) of unit inputs has RMS about 0.42
  REQUIRE(p.at("blocks.1.norm_mlp.gamma").to_vector<float>()[5] == float(matched));
  REQUIRE(p.at("final_norm.gamma").to_vector<float>()[0] == float(matched));
  // standardised pixels (unit variance), through the initial patch embedding and positions
  NoGradGuard no_grad;
  Tensor patches = vit.patchify(Tensor::randn({32, 16, 16}));
  Tensor tokens = add(linear(patches, p.at("patch_embedding.weight"), p.at("patch_embedding.bias")),
                      p.at("positions").narrow(1, 1, 16));
  Tensor normed = vit.blocks()[0]->norm_attention->forward(tokens);
  REQUIRE(std::abs(std::sqrt(mean(mul(normed, normed)).item()) - 1) < 0.05);
}

TEST_CASE("a tiny ViT learns to tell textures apart with each norm (loss falls by half)", "[nn][vit][training]") {
  // Class 0: horizontal stripes, 1: vertical stripes, 2: a checkerboard, 3: none; under noise.
  auto texture = [](int64_t label, int64_t r, int64_t c) {
    int64_t stripe = label == 0 ? r : label == 1 ? c : label == 2 ? r + c : 1;
    return label == 3 ? 0.0f : (stripe % 2 ? 1.0f : -1.0f);
  };
  for (std::string norm : {"dyt", "derf", "layernorm", "rmsnorm", "none"}) {
    INFO(norm);
    models::ViT vit(tiny_vit(norm), 3);
    nn::AdamW adam(vit.named_parameters(), {3e-3, 0.9, 0.99, 1e-8}, 0.0);
    Generator gen(5);
    double first = 0, last = 0;
    for (int step = 0; step < 60; ++step) {
      Tensor labels = Tensor::randint(0, 4, {16}, Device::cpu(), &gen);
      std::vector<float> pixels = mul(Tensor::randn({16, 8, 8}, DType::Float32, Device::cpu(), &gen), 0.5).to_vector<float>();
      auto l = labels.to_vector<int64_t>();
      for (int64_t b = 0; b < 16; ++b)
        for (int64_t r = 0; r < 8; ++r)
          for (int64_t c = 0; c < 8; ++c) pixels[size_t(b * 64 + r * 8 + c)] += texture(l[size_t(b)], r, c);
      Tensor loss = vit.loss(Tensor::from_vector<float>(pixels, {16, 8, 8}), labels);
      vit.zero_grad();
      loss.backward();
      adam.step(3e-3);
      (step == 0 ? first : last) = loss.item();
    }
    INFO("first " << first << " last " << last);
    REQUIRE(last < 0.5 * first);
  }
}
