// The fused AdamW update against steps computed by hand in float64.
#include "core/ops/optimizer.h"
#include "op_tests.h"

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
