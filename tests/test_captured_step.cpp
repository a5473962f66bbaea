// nn::CapturedStep: a training step replayed from a CUDA graph equals the same steps run one by one,
// bit for bit; code that a capture cannot record fails with a message naming it, on every backend.
#include "core/autograd/grad_mode.h"
#include "core/capture.h"
#include "cuda_parity.h"
#include "helpers.h"
#include "kernels/memory.h"
#include "model_helpers.h"
#include "models/gpt.h"
#include "nn/captured_step.h"

using namespace dytgrad;
using dytgrad::test::tiny_gpt;

namespace {

constexpr int64_t kBatch = 3, kTime = 16;

// Batch `step` of a fixed token stream: inputs and the next tokens, on the CPU.
std::pair<Tensor, Tensor> batch_at(int step) {
  std::vector<int64_t> x, y;
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t t = 0; t < kTime; ++t) {
      int64_t i = step * 7 + b * 5 + t;
      x.push_back((i * 3 + i / 7) % 11), y.push_back(((i + 1) * 3 + (i + 1) / 7) % 11);
    }
  return {Tensor::from_vector<int64_t>(x, {kBatch, kTime}), Tensor::from_vector<int64_t>(y, {kBatch, kTime})};
}

double lr_at(int step) { return nn::cosine_lr(step, 6, 2, 3e-3, 3e-4); }

std::vector<nn::NamedParameter> parameters_on(models::GPT& gpt, Device device) {
  gpt.to(device);
  return gpt.named_parameters();
}

// A model, its optimiser and the batch tensors a captured step reads.
struct Trainer {
  models::GPT gpt;
  std::vector<nn::NamedParameter> params;
  nn::AdamW adam;
  Tensor x, y;
  explicit Trainer(Device device)
      : gpt(tiny_gpt("dyt"), 8), params(parameters_on(gpt, device)), adam(params, {3e-3, 0.9, 0.95, 1e-8}, 0.1),
        x(Tensor::empty({kBatch, kTime}, DType::Int64, device)), y(Tensor::empty({kBatch, kTime}, DType::Int64, device)) {}
  Tensor loss_and_backward() {
    gpt.zero_grad();
    Tensor loss = gpt.loss(x, y);
    loss.backward();
    return loss;
  }
  void load_batch(int step) {
    auto [bx, by] = batch_at(step);
    x.copy_from(bx), y.copy_from(by);
  }
};

// Six steps run one by one (step_clipped) and through a CapturedStep, from the same weights and
// batches, with a learning rate that changes every step and clipping that bites (max norm 0.05):
// every loss, norm and weight equal to the bit.
void check_captured_equals_eager(Device device) {
  Trainer eager(device), captured(device);
  nn::CapturedStep step([&] { return captured.loss_and_backward(); }, captured.adam, 0.05, device);
  for (int s = 0; s < 6; ++s) {
    INFO("step " << s);
    eager.load_batch(s), captured.load_batch(s);
    Tensor eager_loss = eager.loss_and_backward();
    Tensor eager_norm = eager.adam.step_clipped(lr_at(s), 0.05);
    nn::CapturedStep::Result r = step.run(lr_at(s));
    REQUIRE(r.loss.item() == eager_loss.item());
    REQUIRE(r.grad_norm.item() == eager_norm.item());
    REQUIRE(r.grad_norm.item() > 0.05);  // clipped
    REQUIRE(captured.adam.steps_taken() == s + 1);
  }
  for (size_t i = 0; i < eager.params.size(); ++i) {
    INFO(eager.params[i].name);
    REQUIRE(captured.params[i].tensor->to_vector<float>() == eager.params[i].tensor->to_vector<float>());
  }
}

}  // namespace

TEST_CASE("CapturedStep equals the same steps run one by one, bit for bit (CPU: the loaded hyperparameters)",
          "[nn][captured_step]") {
  check_captured_equals_eager(Device::cpu());
}

TEST_CASE("CapturedStep: host reads and dropout inside the step fail with a message naming them", "[nn][captured_step]") {
  Trainer t(Device::cpu());
  t.load_batch(0);
  SECTION("item() inside the step") {
    nn::CapturedStep step([&] {
      Tensor loss = t.loss_and_backward();
      if (loss.item() > 100) throw std::logic_error("unreachable");
      return loss;
    }, t.adam, 1.0, Device::cpu());
    step.run(1e-3);  // the first run is an ordinary step
    REQUIRE_THROWS_WITH(step.run(1e-3), Catch::Contains("item() inside a captured step"));
    REQUIRE(t.adam.steps_taken() == 1);  // the failed step is not counted
  }
  SECTION("a copy to the host inside the step") {
    REQUIRE_THROWS_WITH(([&] {
                          CaptureScope scope;
                          return t.x.to(Device::cuda());
                        }()),
                        Catch::Contains("copying a tensor from cpu to cuda:0") &&
                            Catch::Contains("inside a captured step"));
  }
  SECTION("anomaly detection, which reads every gradient's check on the host") {
    DetectAnomalyGuard anomaly;
    CaptureScope scope;
    REQUIRE_THROWS_WITH(t.loss_and_backward(), Catch::Contains("has_nonfinite (anomaly detection") &&
                                                   Catch::Contains("inside a captured step"));
  }
  SECTION("dropout") {
    CaptureScope scope;
    REQUIRE_THROWS_WITH(dropout(Tensor::randn({4, 4}), 0.1, true), Catch::Contains("dropout inside a captured step"));
    REQUIRE(dropout(Tensor::randn({4, 4}), 0.0, true).numel() == 16);  // no draw, nothing to refuse
  }
  REQUIRE_FALSE(in_capture());
}

TEST_CASE("AdamW::load_hyperparameters then step_clipped_loaded: the same weights as step_clipped",
          "[nn][optim][captured_step]") {
  Trainer a(Device::cpu()), b(Device::cpu());
  for (int s = 0; s < 3; ++s) {
    a.load_batch(s), b.load_batch(s);
    a.loss_and_backward(), b.loss_and_backward();
    double norm_a = a.adam.step_clipped(lr_at(s), 0.05).item();
    b.adam.load_hyperparameters(lr_at(s));
    double norm_b = b.adam.step_clipped_loaded(0.05).item();
    REQUIRE(norm_a == norm_b);
  }
  for (size_t i = 0; i < a.params.size(); ++i)
    REQUIRE(a.params[i].tensor->to_vector<float>() == b.params[i].tensor->to_vector<float>());
  nn::AdamW fresh(a.params, {}, 0.0);
  REQUIRE_THROWS_WITH(fresh.step_clipped_loaded(1.0), Catch::Contains("call load_hyperparameters(lr) first"));
}

TEST_CASE("CapturedStep on CUDA: one graph replayed, equal to the steps one by one, no allocation per replay",
          "[cuda][captured_step]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);  // CUDA graphs, sum_of_squares and the clipped AdamW have not run on a GPU yet
  check_captured_equals_eager(Device::cuda());

  Trainer t(Device::cuda());
  nn::CapturedStep step([&] { return t.loss_and_backward(); }, t.adam, 1.0, Device::cuda());
  for (int s = 0; s < 2; ++s) t.load_batch(s), step.run(1e-3);
  REQUIRE(step.captured());
  INFO("graph nodes " << step.graph_nodes());
  REQUIRE(step.graph_nodes() > 50);  // the step's kernels, one launch now
  int64_t mallocs = kernels::cuda::allocator_stats().device_malloc_calls;
  for (int s = 2; s < 5; ++s) t.load_batch(s), step.run(1e-3);
  REQUIRE(kernels::cuda::allocator_stats().device_malloc_calls == mallocs);

  // an out-of-range token in a replayed batch: reported after the replay
  auto [bx, by] = batch_at(5);
  std::vector<int64_t> bad = bx.to_vector<int64_t>();
  bad[7] = 11;  // vocab 11
  t.x.copy_from(Tensor::from_vector<int64_t>(bad, {kBatch, kTime}));
  REQUIRE_THROWS_WITH(step.run(1e-3), Catch::Contains("out of range") && Catch::Contains("position 7"));
  allow_unverified_cuda_kernels(false);
}
