// bfloat16 math and autocast (core/ops/mixed_precision.h, core/ops/autocast.h): every op of the
// models on bfloat16 inputs computes in float32 and rounds its result once (the GEMM's kernels sum
// in their own order: within a bfloat16 step of that); its gradients are
// within bfloat16's error of float64's; autocast picks each op's precision as the table says; a
// GPT's loss and gradients under autocast are within bfloat16's error of float32's, and a short
// training run follows the float32 run's loss.
//
// Tolerances: one rounding to bfloat16 is a relative error of at most 2^-9 = 0.2%; a gradient
// passes through a few roundings (the incoming gradient, the saved result, the result), so
// gradients are held to 1e-2 of their largest element (max_relative_error), as the single-op
// bfloat16 tolerance usually quoted. Whole models: see each case.
#include <cmath>
#include <functional>

#include "core/autograd/grad_mode.h"
#include "cuda_parity.h"
#include "helpers.h"
#include "model_helpers.h"
#include "models/gpt.h"
#include "nn/optim.h"

using namespace dytgrad;
using test::bits_of;
using test::max_relative_error;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// A float32 tensor of normals whose values bfloat16 holds exactly (so that both sides start equal).
// Each case is one op: a chain of ops in bfloat16 rounds after each, not once (linear is such a
// chain: the GEMM, then the bias add).
Tensor representable(const Shape& shape, double scale = 1.0) {
  return mul(Tensor::randn(shape), scale).to(DType::BFloat16).to(DType::Float32);
}

struct Case {
  const char* name;
  std::vector<Shape> shapes;  // float inputs; an int64 input, where the op needs one, is added by `fn`
  Fn fn;
  bool positive = false;  // inputs in [0.5, 4.5): for div and pow
  Fn float32_before_last_rounding = nullptr;  // where the op rounds more than once (default: fn in float32)
  // 0: bit for bit. The GEMM's kernels (oneDNN's bfloat16 matmul, cuBLAS) sum in their own order,
  // which can move a rounding by one bfloat16 step (at most 2^-7 of the value): steps allowed.
  int steps = 0;
};

std::vector<Case> model_ops() {
  Tensor targets = Tensor::randint(0, 7, {6}), ids = Tensor::randint(0, 9, {2, 3});
  return {
      {"tanh", {{5, 7}}, [](auto& in) { return tanh(in[0]); }},
      {"gelu", {{5, 7}}, [](auto& in) { return gelu(in[0]); }},
      {"exp", {{5, 7}}, [](auto& in) { return exp(in[0]); }},
      {"add, broadcast", {{5, 7}, {7}}, [](auto& in) { return add(in[0], in[1]); }},
      {"mul", {{5, 7}, {5, 7}}, [](auto& in) { return mul(in[0], in[1]); }},
      {"div", {{5, 7}, {5, 7}}, [](auto& in) { return div(in[0], in[1]); }, true},
      {"add a scalar", {{5, 7}}, [](auto& in) { return add(in[0], 0.5); }},
      {"pow", {{5, 7}}, [](auto& in) { return pow(in[0], 1.5); }, true},
      {"sum over a dim", {{5, 7}}, [](auto& in) { return sum(in[0], {1}); }},
      {"mean", {{5, 7}}, [](auto& in) { return mean(in[0]); }},
      {"matmul", {{5, 33}, {33, 6}}, [](auto& in) { return matmul(in[0], in[1]); }, false, nullptr, 1},
      {"matmul, batched, broadcast, transposed", {{3, 5, 33}, {6, 33}},
       [](auto& in) { return matmul(in[0], in[1].transpose(0, 1)); }, false, nullptr, 1},
      // linear in bfloat16 is the bfloat16 GEMM and the bias add: two roundings (as on CUDA)
      {"linear", {{2, 5, 33}, {6, 33}, {6}}, [](auto& in) { return linear(in[0], in[1], in[2]); }, false,
       [](auto& in) { return add(matmul(in[0], in[1].transpose(0, 1)).to(DType::BFloat16).to(DType::Float32), in[2]); },
       2},
      {"softmax", {{5, 7}}, [](auto& in) { return softmax(in[0]); }},
      {"log_softmax", {{5, 7}}, [](auto& in) { return log_softmax(in[0]); }},
      {"cross_entropy", {{6, 7}}, [targets](auto& in) { return cross_entropy(in[0], targets); }},
      {"embedding", {{9, 4}}, [ids](auto& in) { return embedding(in[0], ids); }},
      {"dyt", {{5, 8}, {1}, {8}, {8}}, [](auto& in) { return dyt(in[0], in[1], in[2], in[3]); }},
      {"derf", {{5, 8}, {1}, {1}, {8}, {8}}, [](auto& in) { return derf(in[0], in[1], in[2], in[3], in[4]); }},
      {"layer_norm", {{5, 8}, {8}, {8}}, [](auto& in) { return layer_norm(in[0], in[1], in[2]); }},
      {"rms_norm", {{5, 8}, {8}}, [](auto& in) { return rms_norm(in[0], in[1]); }},
      {"self_attention, causal", {{2, 5, 24}}, [](auto& in) { return self_attention(in[0], 2, true); }},
      {"scaled_dot_product_attention", {{2, 5, 4}, {2, 5, 4}, {2, 5, 4}},
       [](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], false); }},
  };
}

std::vector<Tensor> as_leaves(const std::vector<Tensor>& in, DType dtype) {
  std::vector<Tensor> out;
  for (const Tensor& t : in) out.push_back(t.to(dtype).detach().requires_grad_());
  return out;
}

// A GPT's parameter gradients in mixed precision against a reference run's: each float32 (as its
// parameter), within 3% (many roundings of activations and gradients through two blocks, the
// backward's GEMMs in bfloat16 too; measured over 24 draws on the CPU: at most 1.2%). DyT's alpha
// gets one number, a sum over every element of its input that can cancel to near nothing: the
// one-number gradients are measured against the largest of them, within 1e-2 (measured over 20
// draws: at most 0.22%; each against itself: up to 20%).
void require_gradients_close(const std::vector<Tensor>& grads, const std::vector<Tensor>& reference) {
  double scalar_scale = 0;
  for (const Tensor& g : reference)
    if (g.numel() == 1) scalar_scale = std::max(scalar_scale, std::abs(g.item()));
  for (size_t i = 0; i < grads.size(); ++i) {
    INFO("parameter " << i);
    REQUIRE(grads[i].dtype() == DType::Float32);
    if (reference[i].numel() == 1) REQUIRE(max_relative_error(grads[i], reference[i], scalar_scale) < 1e-2);
    else REQUIRE(max_relative_error(grads[i], reference[i]) < 3e-2);
  }
}

}  // namespace

TEST_CASE("bfloat16 ops compute in float32 and round their result (the GEMM within a step), their gradients within 1e-2 of float64 ones",
          "[bfloat16][mixed-precision]") {
  for (const Case& c : model_ops()) {
    INFO(c.name);
    std::vector<Tensor> inputs;
    for (const Shape& s : c.shapes)
      inputs.push_back(c.positive ? add(mul(Tensor::rand(s), 4.0), 0.5).to(DType::BFloat16).to(DType::Float32) : representable(s));
    std::vector<Tensor> h = as_leaves(inputs, DType::BFloat16), d = as_leaves(inputs, DType::Float64);
    Tensor y = c.fn(h), y64 = c.fn(d);
    REQUIRE(y.dtype() == DType::BFloat16);
    // the float32 result of the same inputs, rounded once
    Tensor y32;
    {
      NoGradGuard no_grad;
      y32 = c.float32_before_last_rounding ? c.float32_before_last_rounding(inputs) : c.fn(inputs);
    }
    if (c.steps == 0) REQUIRE(bits_of(y) == bits_of(y32.to(DType::BFloat16)));
    else REQUIRE(max_relative_error(y, y32.to(DType::BFloat16)) <= c.steps * std::ldexp(1.0, -7));
    REQUIRE(max_relative_error(y, y64) < 1e-2);
    // gradients of a random weighting of the result
    Tensor w = representable(y.shape());
    std::vector<Tensor> g = grad({sum(mul(y, w.to(DType::BFloat16)))}, h);
    std::vector<Tensor> g64 = grad({sum(mul(y64, w.to(DType::Float64)))}, d);
    for (size_t i = 0; i < g.size(); ++i) {
      INFO("gradient of input " << i);
      REQUIRE(g[i].dtype() == DType::BFloat16);
      REQUIRE(max_relative_error(g[i], g64[i]) < 1e-2);
    }
  }
}

TEST_CASE("autocast: matmuls and DyT give bfloat16, norms, softmax, losses and sums float32", "[bfloat16][mixed-precision]") {
  Tensor x = Tensor::randn({4, 8}), w = Tensor::randn({6, 8}).requires_grad_(), b = Tensor::randn({6}).requires_grad_();
  Tensor alpha = Tensor::full({1}, 0.5).requires_grad_(), gamma = Tensor::randn({8}), beta = Tensor::randn({8});
  AutocastGuard autocast;
  Tensor h = linear(x, w, b);
  REQUIRE(h.dtype() == DType::BFloat16);
  REQUIRE(matmul(x, x.transpose(0, 1)).dtype() == DType::BFloat16);
  REQUIRE(self_attention(Tensor::randn({1, 3, 24}), 2, true).dtype() == DType::BFloat16);
  REQUIRE(dyt(x, alpha, gamma, beta).dtype() == DType::BFloat16);
  REQUIRE(layer_norm(h, Tensor::ones({6}), Tensor::zeros({6})).dtype() == DType::Float32);
  REQUIRE(rms_norm(h, Tensor::ones({6})).dtype() == DType::Float32);
  REQUIRE(softmax(h).dtype() == DType::Float32);
  REQUIRE(cross_entropy(h, Tensor::randint(0, 6, {4})).dtype() == DType::Float32);
  REQUIRE(sum(h).dtype() == DType::Float32);
  REQUIRE(gelu(h).dtype() == DType::BFloat16);                  // other ops: their inputs' dtype
  REQUIRE(add(Tensor::randn({4, 6}), h).dtype() == DType::Float32);  // bfloat16 meets float32: float32
  REQUIRE(embedding(Tensor::randn({5, 3}), Tensor::randint(0, 5, {2})).dtype() == DType::Float32);
  // the float32 parameters (the master weights) get float32 gradients
  Tensor loss = sum(mul(dyt(linear(x, w, b), alpha, Tensor::ones({6}), Tensor::zeros({6})), 1.0));
  loss.backward();
  REQUIRE(w.grad().dtype() == DType::Float32);
  REQUIRE(b.grad().dtype() == DType::Float32);
  REQUIRE(alpha.grad().dtype() == DType::Float32);
  // float32 and float64 still do not mix silently
  REQUIRE_THROWS_WITH(add(x, x.to(DType::Float64)), Catch::Contains("float64"));
}

TEST_CASE("DyT with a bfloat16 result is one kernel: float32 DyT rounded once, and the same gradients",
          "[bfloat16][mixed-precision][dyt]") {
  // x bfloat16 or float32 (the residual stream under autocast), float32 parameters; reference: the
  // float32 op on float32 copies, then the cast to bfloat16 (two ops, three kernels).
  for (DType x_dtype : {DType::BFloat16, DType::Float32}) {
    INFO("x in " << dtype_name(x_dtype));
    Tensor x = mul(Tensor::randn({13, 40}), 2.0).to(x_dtype).detach().requires_grad_();
    Tensor alpha = Tensor::full({1}, 0.7).requires_grad_(), gamma = Tensor::randn({40}).requires_grad_();
    Tensor beta = Tensor::randn({40}).requires_grad_();
    Tensor w = representable({13, 40}).to(DType::BFloat16);
    Tensor y;
    {
      AutocastGuard autocast;
      y = dyt(x, alpha, gamma, beta);
    }
    Tensor y_ref = dyt(x.to(DType::Float32), alpha, gamma, beta).to(DType::BFloat16);
    REQUIRE(y.dtype() == DType::BFloat16);
    REQUIRE(bits_of(y) == bits_of(y_ref));
    auto g = grad({sum(mul(y, w))}, {x, alpha, gamma, beta});
    auto g_ref = grad({sum(mul(y_ref, w))}, {x, alpha, gamma, beta});
    REQUIRE(g[0].dtype() == x_dtype);
    // the same float32 math on the same values; the compiler may contract other multiply-adds into
    // FMAs in the two instantiations, which can move dx's rounding by one bfloat16 step
    REQUIRE(max_relative_error(g[0], g_ref[0]) <= std::ldexp(1.0, -8));
    for (int i = 1; i < 4; ++i) {
      INFO("gradient of parameter " << i);
      REQUIRE(g[i].dtype() == DType::Float32);
      REQUIRE(max_relative_error(g[i], g_ref[i]) < 1e-6);
    }
  }
}

TEST_CASE("autocast: a GPT's loss and gradients within bfloat16's error of float32's", "[bfloat16][mixed-precision][gpt]") {
  for (std::string norm : {"dyt", "layernorm"}) {
    INFO(norm);
    models::GPT gpt(test::tiny_gpt(norm), 5);
    Tensor idx = Tensor::randint(0, 11, {4, 16}), targets = Tensor::randint(0, 11, {4, 16});
    std::vector<Tensor*> params;
    for (auto& named : gpt.named_parameters()) params.push_back(named.tensor);
    auto loss_and_grads = [&](bool bfloat16) {
      gpt.zero_grad();
      Tensor loss;
      {
        AutocastGuard autocast(bfloat16);
        loss = gpt.loss(idx, targets);
      }
      loss.backward();
      std::vector<Tensor> grads;
      for (Tensor* p : params) grads.push_back(p->grad());
      return std::pair{loss.item(), grads};
    };
    auto [loss32, grads32] = loss_and_grads(false);
    auto [loss16, grads16] = loss_and_grads(true);
    REQUIRE(std::isfinite(loss16));
    REQUIRE(std::abs(loss16 - loss32) < 1e-2 * loss32);
    require_gradients_close(grads16, grads32);
  }
}

TEST_CASE("autocast: a tiny GPT trained in bf16 follows the float32 run's loss", "[bfloat16][mixed-precision][training]") {
  // The repeating pattern of the GPT training test; 80 AdamW steps from the same weights and batches.
  std::vector<int64_t> text;
  for (int i = 0; i < 400; ++i) text.push_back((i * 3 + i / 7) % 11);
  auto losses = [&](bool bfloat16) {
    models::GPT gpt(test::tiny_gpt("dyt"), 5);
    auto params = gpt.named_parameters();
    nn::AdamW adam(params, {3e-3, 0.9, 0.99, 1e-8}, 0.0);
    Generator gen(9);
    std::vector<double> curve;
    for (int step = 0; step < 80; ++step) {
      auto starts = Tensor::randint(0, 400 - 17, {8}, Device::cpu(), &gen).to_vector<int64_t>();
      std::vector<int64_t> x, y;
      for (int64_t s : starts)
        for (int64_t t = 0; t < 16; ++t) x.push_back(text[size_t(s + t)]), y.push_back(text[size_t(s + t + 1)]);
      Tensor loss;
      {
        AutocastGuard autocast(bfloat16);
        loss = gpt.loss(Tensor::from_vector<int64_t>(x, {8, 16}), Tensor::from_vector<int64_t>(y, {8, 16}));
      }
      gpt.zero_grad();
      loss.backward();
      adam.step(3e-3);
      curve.push_back(loss.item());
    }
    for (auto& named : params) REQUIRE(named.tensor->dtype() == DType::Float32);  // the master weights
    return curve;
  };
  std::vector<double> f32 = losses(false), bf16 = losses(true);
  // Each step's loss within 5% of the float32 run's, or 0.005 where the loss has fallen near 0 (the
  // pattern is learnt in about 25 steps). Measured: at most 1.7% while the loss is above 0.01, at
  // most 0.002 in all.
  for (size_t i = 0; i < f32.size(); ++i) {
    INFO("step " << i << ": float32 " << f32[i] << ", bf16 " << bf16[i]);
    REQUIRE(std::isfinite(bf16[i]));
    REQUIRE(std::abs(bf16[i] - f32[i]) < std::max(0.05 * f32[i], 0.005));
  }
  REQUIRE(bf16.back() < 0.01 * bf16.front());  // it learns
}

TEST_CASE("cuda: autocast on the GPU: a GPT's loss and gradients within bfloat16's error of the CPU's",
          "[cuda][parity][bfloat16][mixed-precision]") {
  if (!test::gpu_visible()) return;
  for (std::string norm : {"dyt", "layernorm"}) {
    INFO(norm);
    Tensor idx = Tensor::randint(0, 11, {4, 16}), targets = Tensor::randint(0, 11, {4, 16});
    auto loss_and_grads = [&](Device device) {
      models::GPT gpt(test::tiny_gpt(norm), 5);
      gpt.to(device);
      Tensor loss;
      {
        AutocastGuard autocast;
        loss = gpt.loss(idx.to(device), targets.to(device));
      }
      loss.backward();
      std::vector<Tensor> grads;
      for (auto& named : gpt.named_parameters()) grads.push_back(named.tensor->grad().to(Device::cpu()));
      return std::pair{loss.item(), grads};
    };
    auto [loss_cpu, grads_cpu] = loss_and_grads(Device::cpu());
    auto [loss_gpu, grads_gpu] = loss_and_grads(Device::cuda());
    REQUIRE(std::isfinite(loss_gpu));
    REQUIRE(std::abs(loss_gpu - loss_cpu) < 1e-2 * loss_cpu);
    // Both sides round the same activations to bfloat16; a sum in another order can flip a rounding,
    // and the flip travels: the bounds of the CPU's bfloat16 against its float32.
    require_gradients_close(grads_gpu, grads_cpu);
  }
}

TEST_CASE("cuda: DyT with a bfloat16 result against the CPU's",
          "[cuda][parity][bfloat16][mixed-precision][dyt]") {
  if (!test::gpu_visible()) return;
  // The same inputs and float32 math on both sides; the two tanh differ in their last float32 bits,
  // which can move a rounding of y or dx by one bfloat16 step (2^-8 of the value): 1e-2. The
  // parameter gradients are float32 sums in another order: 1e-4.
  test::Fn under_autocast = [](auto& in) {
    AutocastGuard autocast;
    return dyt(in[0], in[1], in[2], in[3]);
  };
  for (DType x_dtype : {DType::BFloat16, DType::Float32})
    for (const Shape& shape : test::kAwkwardShapes) {  // four-wide kernels where the rows allow, else one a thread
      INFO("x in " << dtype_name(x_dtype) << ", shape " << shape_str(shape));
      int64_t cols = shape.back();
      std::vector<Tensor> in = {mul(Tensor::randn(shape), 2.0).to(x_dtype).detach().requires_grad_(),
                                Tensor::full({1}, 0.6).requires_grad_(), Tensor::randn({cols}).requires_grad_(),
                                Tensor::randn({cols}).requires_grad_()};
      test::check_parity("dyt, bfloat16 result", under_autocast, in, 1e-2, 1e-2);
      std::vector<Tensor> gpu_in;
      for (const Tensor& t : in) gpu_in.push_back(t.detach().to(Device::cuda()).requires_grad_());
      Tensor dy = Tensor::randn(shape).to(DType::BFloat16);
      auto g_cpu = grad({under_autocast(in)}, {in[1], in[2], in[3]}, {dy});
      auto g_gpu = grad({under_autocast(gpu_in)}, {gpu_in[1], gpu_in[2], gpu_in[3]}, {dy.to(Device::cuda())});
      for (int i = 0; i < 3; ++i) {
        INFO("gradient of parameter " << i);
        REQUIRE(g_gpu[i].dtype() == DType::Float32);
        CHECK_CLOSE(g_gpu[i].to(Device::cpu()), g_cpu[i], 1e-4);
      }
    }
}
