// The fused AdamW update against steps computed by hand in float64, and with clipping against
// clipping the gradients first; the gradients' sum of squares against a float64 sum.
#include "core/ops/optimizer.h"
#include "kernels/cpu/threads.h"
#include "op_tests.h"

namespace {

// Tensors of awkward sizes: one empty, several shorter than a chunk, some of many chunks with a
// short last one, enough of them for three CUDA launches.
std::vector<Tensor> gradient_like(DType dtype) {
  std::vector<Tensor> tensors;
  for (int i = 0; i < 110; ++i) {
    int64_t n = i == 3 ? 0 : i % 10 == 0 ? 40000 + 131 * i : 1 + (i * 37) % 5000;
    tensors.push_back(mul(Tensor::randn({n}, dtype), 0.01 * (1 + i % 7)));
  }
  return tensors;
}

// count parameters of awkward sizes with gradients (of several scales) and moments, and a second
// copy of them all, to step another way.
std::pair<std::vector<AdamWParam>, std::vector<AdamWParam>> two_copies_of_params(int count, DType dtype) {
  std::vector<AdamWParam> one, two;
  for (int i = 0; i < count; ++i) {
    Shape s = {1 + (i * 37) % 5000};
    Tensor p = Tensor::randn(s, dtype), g = mul(Tensor::randn(s, dtype), 0.01 * (1 + i % 5));
    Tensor m = mul(Tensor::randn(s, dtype), 0.01), v = mul(Tensor::rand(s, dtype), 1e-4);
    double wd = i % 3 == 0 ? 0.0 : 0.1;
    one.push_back({p, g, m, v, wd});
    two.push_back({p.clone(), g.clone(), m.clone(), v.clone(), wd});
  }
  return {one, two};
}

std::vector<Tensor> grads_of(const std::vector<AdamWParam>& params) {
  std::vector<Tensor> grads;
  for (const AdamWParam& p : params) grads.push_back(p.grad);
  return grads;
}

double reference_sum_of_squares(const std::vector<Tensor>& tensors) {
  long double sum = 0;
  for (const Tensor& t : tensors)
    for (double x : t.to(DType::Float64).to_vector<double>()) sum += (long double)x * x;
  return double(sum);
}

}  // namespace

TEST_CASE("adamw_step matches two hand-computed steps, with decoupled weight decay", "[optimizer]") {
  AdamWOptions o;
  o.lr = 0.1, o.beta1 = 0.9, o.beta2 = 0.99, o.eps = 1e-8;
  Tensor p = Tensor::from_vector<double>({1.0, -2.0}, {2});
  Tensor m = Tensor::zeros({2}, DType::Float64), v = Tensor::zeros({2}, DType::Float64);
  std::vector<double> pv = {1.0, -2.0}, mv = {0, 0}, vv = {0, 0};
  double grads[2][2] = {{0.5, -1.0}, {0.25, 3.0}};
  for (int step = 1; step <= 2; ++step) {
    Tensor g = Tensor::from_vector<double>({grads[step - 1][0], grads[step - 1][1]}, {2});
    adamw_step({{p, g, m, v, 0.01}}, o, step);
    for (int i = 0; i < 2; ++i) {  // by hand
      double gi = grads[step - 1][i];
      pv[i] -= 0.1 * 0.01 * pv[i];
      mv[i] = 0.9 * mv[i] + 0.1 * gi;
      vv[i] = 0.99 * vv[i] + 0.01 * gi * gi;
      double mhat = mv[i] / (1 - std::pow(0.9, step)), vhat = vv[i] / (1 - std::pow(0.99, step));
      pv[i] -= 0.1 * mhat / (std::sqrt(vhat) + 1e-8);
    }
    auto got = p.to_vector<double>();
    for (int i = 0; i < 2; ++i) REQUIRE(got[i] == Approx(pv[i]).epsilon(1e-14));
  }
  // First step of Adam moves each weight by about lr in the direction against its gradient.
  Tensor q = Tensor::from_vector<double>({0.0}, {1});
  adamw_step({{q, Tensor::from_vector<double>({7.0}, {1}), Tensor::zeros({1}, DType::Float64), Tensor::zeros({1}, DType::Float64), 0}}, o, 1);
  REQUIRE(q.item() == Approx(-0.1).epsilon(1e-6));
}

TEST_CASE("adamw_step rejects bad input", "[optimizer][errors]") {
  Tensor p = Tensor::zeros({3});
  REQUIRE_THROWS_WITH(adamw_step({{p, Tensor(), Tensor::zeros({3}), Tensor::zeros({3}), 0}}, {}, 1),
                      Catch::Contains("has no gradient"));
  REQUIRE_THROWS_WITH(adamw_step({{p, Tensor::zeros({4}), Tensor::zeros({3}), Tensor::zeros({3}), 0}}, {}, 1),
                      Catch::Contains("shape [3]") && Catch::Contains("[4]"));
  REQUIRE_THROWS_WITH(adamw_step({{p, Tensor::zeros({3}), Tensor::zeros({3}), Tensor::zeros({3}), 0}}, {}, 0),
                      Catch::Contains("step counts from 1"));
}

TEST_CASE("adamw_step with a norm: the same bits as clipping the gradients, then the step", "[optimizer]") {
  AdamWOptions o;
  o.lr = 3e-3;
  for (DType dtype : {DType::Float32, DType::Float64}) {
    // the gradients' norm is about 10: 0.5 clips them, 100 does not
    for (double max_norm : {0.5, 100.0}) {
      INFO(dtype_name(dtype) << ", max_norm " << max_norm);
      auto [fused, reference] = two_copies_of_params(40, dtype);
      std::vector<Tensor> unclipped;
      for (const AdamWParam& p : fused) unclipped.push_back(p.grad.clone());
      for (int step = 1; step <= 2; ++step) {
        Tensor sq_norm = sum_of_squares(grads_of(fused));
        double scale = clip_factor(sq_norm.item(), max_norm);
        REQUIRE((max_norm < 1 ? scale < 0.5 : scale == 1.0));
        std::vector<AdamWParam> clipped = reference;
        for (AdamWParam& p : clipped) p.grad = mul(p.grad, scale);
        adamw_step(clipped, o, step);
        adamw_step(fused, o, step, sq_norm, max_norm);
      }
      for (size_t i = 0; i < fused.size(); ++i) {
        INFO("tensor " << i);
        REQUIRE(fused[i].param.to_vector<double>() == reference[i].param.to_vector<double>());
        REQUIRE(fused[i].exp_avg.to_vector<double>() == reference[i].exp_avg.to_vector<double>());
        REQUIRE(fused[i].exp_avg_sq.to_vector<double>() == reference[i].exp_avg_sq.to_vector<double>());
        REQUIRE(fused[i].grad.to_vector<double>() == unclipped[i].to_vector<double>());  // left as it was
      }
    }
  }
}

TEST_CASE("adamw_step with a norm rejects a norm that is not one float64 value, and a limit <= 0", "[optimizer][errors]") {
  auto [params, unused] = two_copies_of_params(2, DType::Float32);
  REQUIRE_THROWS_WITH(adamw_step(params, {}, 1, Tensor::rand({2}, DType::Float64), 1.0),
                      Catch::Contains("must be one float64 value") && Catch::Contains("float64 of shape [2]"));
  REQUIRE_THROWS_WITH(adamw_step(params, {}, 1, Tensor::rand({}), 1.0), Catch::Contains("float32 of shape []"));
  REQUIRE_THROWS_WITH(adamw_step(params, {}, 1, Tensor(), 1.0), Catch::Contains("got none"));
  REQUIRE_THROWS_WITH(adamw_step(params, {}, 1, sum_of_squares(grads_of(params)), 0.0),
                      Catch::Contains("max_grad_norm must be positive, got 0"));
}

TEST_CASE("cuda: fused AdamW over many tensors matches the CPU", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  // 100 tensors of awkward sizes: three launches, chunks that do not fill a block.
  std::vector<AdamWParam> cpu, gpu;
  for (int i = 0; i < 100; ++i) {
    Shape s = {1 + (i * 37) % 5000};
    Tensor p = Tensor::randn(s), g = Tensor::randn(s), m = mul(Tensor::randn(s), 0.1), v = mul(Tensor::rand(s), 0.01);
    double wd = i % 3 == 0 ? 0.0 : 0.1;
    cpu.push_back({p.clone(), g.clone(), m.clone(), v.clone(), wd});
    gpu.push_back({p.to(Device::cuda()), g.to(Device::cuda()), m.to(Device::cuda()), v.to(Device::cuda()), wd});
  }
  AdamWOptions o;
  o.lr = 3e-3;
  for (int step = 1; step <= 3; ++step) {
    adamw_step(cpu, o, step);
    adamw_step(gpu, o, step);
  }
  for (int i = 0; i < 100; ++i) {
    INFO("tensor " << i);
    CHECK_CLOSE(gpu[i].param, cpu[i].param, 1e-6);
    CHECK_CLOSE(gpu[i].exp_avg_sq, cpu[i].exp_avg_sq, 1e-6);
  }
}

TEST_CASE("cuda: fused AdamW in float64 matches the CPU", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  std::vector<AdamWParam> cpu, gpu;
  for (int i = 0; i < 7; ++i) {
    Shape s = {1 + (i * 997) % 5000};
    Tensor p = Tensor::randn(s, DType::Float64), g = Tensor::randn(s, DType::Float64);
    Tensor m = mul(Tensor::randn(s, DType::Float64), 0.1), v = mul(Tensor::rand(s, DType::Float64), 0.01);
    cpu.push_back({p.clone(), g.clone(), m.clone(), v.clone(), 0.1});
    gpu.push_back({p.to(Device::cuda()), g.to(Device::cuda()), m.to(Device::cuda()), v.to(Device::cuda()), 0.1});
  }
  AdamWOptions o;
  o.lr = 3e-3;
  for (int step = 1; step <= 3; ++step) {
    adamw_step(cpu, o, step);
    adamw_step(gpu, o, step);
  }
  for (size_t i = 0; i < cpu.size(); ++i) CHECK_CLOSE(gpu[i].param, cpu[i].param, 1e-12);
}

TEST_CASE("sum_of_squares: every element of every tensor squared and summed, as a float64 sum", "[optimizer]") {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    INFO(dtype_name(dtype));
    std::vector<Tensor> tensors = gradient_like(dtype);
    Tensor total = sum_of_squares(tensors);
    REQUIRE(total.dtype() == DType::Float64);
    REQUIRE(total.shape() == Shape{});
    double expected = reference_sum_of_squares(tensors);
    REQUIRE(expected > 0);
    REQUIRE(std::abs(total.item() - expected) <= 1e-13 * expected);
  }
}

TEST_CASE("sum_of_squares gives the same bits with 1 and 2 threads", "[optimizer][threads]") {
  std::vector<Tensor> tensors = gradient_like(DType::Float32);
  int before = kernels::cpu::threads();
  kernels::cpu::set_threads(1);
  double one = sum_of_squares(tensors).item();
  kernels::cpu::set_threads(2);
  double two = sum_of_squares(tensors).item();
  kernels::cpu::set_threads(before);
  REQUIRE(one == two);
}

TEST_CASE("sum_of_squares rejects bad input", "[optimizer][errors]") {
  REQUIRE_THROWS_WITH(sum_of_squares({}), Catch::Contains("sum_of_squares: expected at least one tensor"));
  REQUIRE_THROWS_WITH(sum_of_squares({Tensor::randn({3}), Tensor::randn({3}, DType::Float64)}),
                      Catch::Contains("sum_of_squares: dtype mismatch"));
  REQUIRE_THROWS_WITH(sum_of_squares({Tensor::randn({3, 4}).transpose(0, 1)}),
                      Catch::Contains("tensor 0 (shape [4, 3]) is not contiguous"));
  REQUIRE_THROWS_WITH(sum_of_squares({Tensor::randint(0, 5, {3})}), Catch::Contains("sum_of_squares"));
}

TEST_CASE("cuda: sum_of_squares matches the CPU, the same bits every run", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);
  for (DType dtype : {DType::Float32, DType::Float64}) {
    INFO(dtype_name(dtype));
    std::vector<Tensor> cpu = gradient_like(dtype), gpu;
    for (const Tensor& t : cpu) gpu.push_back(t.to(Device::cuda()));
    double expected = sum_of_squares(cpu).item(), got = sum_of_squares(gpu).item();
    REQUIRE(std::abs(got - expected) <= 1e-13 * expected);
    REQUIRE(sum_of_squares(gpu).item() == got);
  }
  allow_unverified_cuda_kernels(false);
}

TEST_CASE("cuda: adamw_step with a norm matches the CPU, clipping and not", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);
  AdamWOptions o;
  o.lr = 3e-3;
  for (double max_norm : {0.5, 100.0}) {
    INFO("max_norm " << max_norm);
    auto [cpu, unused] = two_copies_of_params(100, DType::Float32);
    std::vector<AdamWParam> gpu;
    for (const AdamWParam& p : cpu)
      gpu.push_back({p.param.to(Device::cuda()), p.grad.to(Device::cuda()), p.exp_avg.to(Device::cuda()),
                     p.exp_avg_sq.to(Device::cuda()), p.weight_decay});
    for (int step = 1; step <= 3; ++step) {
      adamw_step(cpu, o, step, sum_of_squares(grads_of(cpu)), max_norm);
      adamw_step(gpu, o, step, sum_of_squares(grads_of(gpu)), max_norm);
    }
    for (size_t i = 0; i < cpu.size(); ++i) {
      INFO("tensor " << i);
      CHECK_CLOSE(gpu[i].param, cpu[i].param, 1e-6);
      CHECK_CLOSE(gpu[i].exp_avg, cpu[i].exp_avg, 1e-6);
      CHECK_CLOSE(gpu[i].exp_avg_sq, cpu[i].exp_avg_sq, 1e-6);
    }
  }
  allow_unverified_cuda_kernels(false);
}
