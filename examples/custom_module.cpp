// A custom Module written outside the library: a residual MLP block normalised by DyT, with a
// learnable scalar gate g on its branch:
//   y = x + g * (W2 gelu(W1 DyT(x) + b1) + b2)
//
// A Module owns its parameters as Tensor members and registers them (register_parameter) together
// with its child modules (register_module); named_parameters() then walks the tree with dotted
// names, which is what optimisers, checkpoints and to(device) use.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include <dytgrad/dytgrad.h>

using namespace dytgrad;

class GatedResidualMLP : public nn::UnaryModule {
 public:
  GatedResidualMLP(int64_t width, int64_t hidden) {
    norm_ = register_module("norm", std::make_shared<nn::DyT>(width, nn::DyTInit{/*alpha0=*/0.5, /*gamma0=*/1.0}));
    up_ = register_module("up", std::make_shared<nn::Linear>(width, hidden));
    down_ = register_module("down", std::make_shared<nn::Linear>(hidden, width));
    // Not weight-decayed, like a norm's scale.
    register_parameter("gate", gate, Tensor::full({1}, 0.5), /*weight_decay=*/false);
  }

  Tensor forward(const Tensor& x) override {
    Tensor branch = down_->forward(gelu(up_->forward(norm_->forward(x))));
    return x + gate * branch;
  }

  Tensor gate;

 private:
  std::shared_ptr<nn::DyT> norm_;
  std::shared_ptr<nn::Linear> up_, down_;
};

int main() {
  GatedResidualMLP block(16, 64);
  if (cuda_is_available()) block.to(Device::cuda());
  std::printf("GatedResidualMLP on %s, %lld parameters:\n", block.device().str().c_str(), (long long)block.num_parameters());
  for (const nn::NamedParameter& p : block.named_parameters())
    std::printf("  %-12s %s%s\n", p.name.c_str(), shape_str(p.tensor->shape()).c_str(), p.weight_decay ? "  (weight decay)" : "");

  // A gradient reaches every parameter, the gate included.
  Tensor x = Tensor::randn({8, 16}, DType::Float32, block.device());
  Tensor loss = mean(pow(block(x), 2.0));
  loss.backward();
  bool every_grad = true;
  for (const nn::NamedParameter& p : block.named_parameters()) every_grad = every_grad && p.tensor->grad().defined();
  std::printf("loss %.6f, every parameter has a gradient: %s\n", loss.item(), every_grad ? "yes" : "no");

  // Saved and loaded by name like the library's own models.
  nn::save_checkpoint("custom_module.safetensors", block, /*optimizer=*/nullptr, nn::TrainingState{});
  GatedResidualMLP restored(16, 64);
  nn::load_weights(nn::load_safetensors("custom_module.safetensors"), restored);
  restored.to(block.device());
  std::vector<float> expected = block(x).to_vector<float>(), got = restored(x).to_vector<float>();
  double difference = 0;
  for (size_t i = 0; i < got.size(); ++i) difference = std::max(difference, double(std::abs(got[i] - expected[i])));
  std::printf("restored from custom_module.safetensors: max |difference| of outputs %.1e\n", difference);
  return (every_grad && difference == 0) ? 0 : 1;
}
