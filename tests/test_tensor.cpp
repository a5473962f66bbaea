// Tensors: creation, views without copies, contiguous, dtype conversion, printing, the generator.
#include "op_tests.h"
#include "kernels/memory.h"

TEST_CASE("creation ops fill what they promise", "[tensor]") {
  REQUIRE(Tensor::zeros({2, 3}).to_vector<float>() == std::vector<float>(6, 0.f));
  REQUIRE(Tensor::ones({4}, DType::Float64).to_vector<double>() == std::vector<double>(4, 1.0));
  REQUIRE(Tensor::full({2}, 2.5).to_vector<float>() == std::vector<float>{2.5f, 2.5f});
  REQUIRE(Tensor::arange(0, 5).to_vector<float>() == std::vector<float>{0, 1, 2, 3, 4});
  REQUIRE(Tensor::arange(1, 2, 0.25, DType::Float64).to_vector<double>() == std::vector<double>{1, 1.25, 1.5, 1.75});
  REQUIRE(Tensor::arange(0, 3, 1, DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2});
  Tensor e = Tensor::empty({3, 0});
  REQUIRE(e.numel() == 0);
  REQUIRE(e.shape() == Shape{3, 0});
}

TEST_CASE("random tensors are reproducible from a seed and look right", "[tensor][random]") {
  manual_seed(42);
  auto a = Tensor::randn({1000}, DType::Float64).to_vector<double>();
  manual_seed(42);
  auto b = Tensor::randn({1000}, DType::Float64).to_vector<double>();
  REQUIRE(a == b);
  auto c = Tensor::randn({1000}, DType::Float64).to_vector<double>();
  REQUIRE(a != c);  // the generator advanced
  Generator gen(7);
  Tensor n = Tensor::randn({200000}, DType::Float64, Device::cpu(), &gen);
  double m = n.mean().item(), v = mean(mul(n, n)).item() - m * m;
  REQUIRE(std::abs(m) < 0.01);
  REQUIRE(std::abs(v - 1) < 0.02);
  Tensor u = Tensor::rand({200000}, DType::Float64, Device::cpu(), &gen);
  REQUIRE(std::abs(u.mean().item() - 0.5) < 0.005);
  auto r = Tensor::randint(3, 7, {10000}, Device::cpu(), &gen).to_vector<int64_t>();
  for (int64_t x : r) REQUIRE((x >= 3 && x < 7));
  REQUIRE(std::count(r.begin(), r.end(), 3) > 2000);
}

TEST_CASE("views share storage and have the right strides", "[tensor][views]") {
  Tensor x = Tensor::arange(0, 24).reshape({2, 3, 4});
  REQUIRE(x.strides() == Shape{12, 4, 1});
  Tensor t = x.transpose(0, 2);
  REQUIRE(t.shape() == Shape{4, 3, 2});
  REQUIRE(t.strides() == Shape{1, 4, 12});
  REQUIRE(t.raw_data() == x.raw_data());
  REQUIRE(!t.is_contiguous());
  Tensor tc = t.contiguous();
  REQUIRE(tc.is_contiguous());
  REQUIRE(tc.to_vector<float>()[1] == 12.f);  // t[0, 0, 1] = x[1, 0, 0]
  Tensor n = x.narrow(2, 1, 2);
  REQUIRE(n.shape() == Shape{2, 3, 2});
  REQUIRE(n.to_vector<float>() == std::vector<float>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
  Tensor p = x.permute({1, 2, 0});
  REQUIRE(p.shape() == Shape{3, 4, 2});
  REQUIRE(p.to_vector<float>()[1] == 12.f);
  Tensor u = x.unsqueeze(1);
  REQUIRE(u.shape() == Shape{2, 1, 3, 4});
  REQUIRE(u.squeeze(1).shape() == Shape{2, 3, 4});
  Tensor e = Tensor::arange(0, 3).reshape({3, 1}).expand({3, 4});
  REQUIRE(e.strides()[1] == 0);
  REQUIRE(e.to_vector<float>() == std::vector<float>{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2});
  REQUIRE(x.reshape({-1, 4}).shape() == Shape{6, 4});
  REQUIRE(x.flatten(1).shape() == Shape{2, 12});
  REQUIRE(t.reshape({24}).to_vector<float>()[1] == 12.f);  // non-contiguous reshape copies
}

TEST_CASE("dtype conversion and from_vector round-trip", "[tensor]") {
  Tensor x = Tensor::from_vector<double>({1.5, -2.25, 3}, {3});
  REQUIRE(x.to(DType::Float32).to_vector<float>() == std::vector<float>{1.5f, -2.25f, 3.f});
  REQUIRE(x.to(DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{1, -2, 3});
  REQUIRE(Tensor::from_vector<int64_t>({7}, {}).item() == 7);
}

TEST_CASE("printing shows values, shape, dtype and device", "[tensor][print]") {
  Tensor x = Tensor::from_vector<float>({1, -2, 3, 4}, {2, 2});
  std::string s = x.str();
  INFO(s);
  REQUIRE(s == "tensor([[ 1.0000, -2.0000],\n        [ 3.0000,  4.0000]], shape=[2, 2], dtype=float32, device=cpu)");
  std::string big = Tensor::zeros({100, 100}).str();
  REQUIRE(big.find("...") != std::string::npos);
  REQUIRE(big.size() < 2000);
  REQUIRE(Tensor::arange(0, 3, 1, DType::Int64).str().find("[0, 1, 2]") != std::string::npos);
}

TEST_CASE("requires_grad on an integer tensor is refused", "[tensor][errors]") {
  Tensor i = Tensor::arange(0, 6, 1, DType::Int64);
  REQUIRE_THROWS_WITH(i.requires_grad_(), Catch::Contains("floating"));
}

TEST_CASE("mixing devices is an error", "[errors]") {
  if (!cuda_is_available()) {
    REQUIRE_THROWS_WITH(Tensor::zeros({2}, DType::Float32, Device::cuda()), Catch::Contains("cuda"));
    return;
  }
  Tensor a = Tensor::randn({2}), b = Tensor::randn({2}).to(Device::cuda());
  REQUIRE_THROWS_WITH(add(a, b), Catch::Contains("add") && Catch::Contains("same device") && Catch::Contains("cuda:0"));
  REQUIRE_THROWS_WITH(matmul(a.reshape({1, 2}), b.reshape({2, 1})), Catch::Contains("matmul") && Catch::Contains("same device"));
}

TEST_CASE("cuda: random numbers match the CPU for the same seed", "[cuda]") {
  if (!test::gpu_visible()) return;
  Generator a(11), b(11);
  REQUIRE_CLOSE(Tensor::randn({1001}, DType::Float32, Device::cuda(), &a), Tensor::randn({1001}, DType::Float32, Device::cpu(), &b), 1e-6);
  REQUIRE(Tensor::rand({513}, DType::Float64, Device::cuda(), &a).to_vector<double>() ==
          Tensor::rand({513}, DType::Float64, Device::cpu(), &b).to_vector<double>());
  REQUIRE(Tensor::randint(0, 97, {777}, Device::cuda(), &a).to_vector<int64_t>() ==
          Tensor::randint(0, 97, {777}, Device::cpu(), &b).to_vector<int64_t>());
}

TEST_CASE("cuda: creation, copies, views and printing", "[cuda]") {
  if (!test::gpu_visible()) return;
  Tensor x = Tensor::randn({7, 5});
  Tensor g = x.to(Device::cuda());
  REQUIRE(g.device() == Device::cuda());
  REQUIRE(g.to(Device::cpu()).to_vector<float>() == x.to_vector<float>());
  REQUIRE(g.transpose(0, 1).contiguous().to_vector<float>() == x.transpose(0, 1).contiguous().to_vector<float>());
  REQUIRE(g.narrow(1, 1, 3).to(DType::Float64).to_vector<double>() == x.narrow(1, 1, 3).to(DType::Float64).to_vector<double>());
  REQUIRE(Tensor::arange(0, 10, 1, DType::Int64, Device::cuda()).to_vector<int64_t>()[9] == 9);
  REQUIRE(Tensor::full({3}, 2.5, DType::Float32, Device::cuda()).to_vector<float>() == std::vector<float>(3, 2.5f));
  REQUIRE(g.str().find("device=cuda:0") != std::string::npos);
}

TEST_CASE("cuda: the caching allocator stops calling cudaMalloc in a steady loop", "[cuda][allocator]") {
  if (!test::gpu_visible()) return;
  Tensor w = Tensor::randn({256, 256}).to(Device::cuda()).requires_grad_();
  auto step = [&] {
    Tensor x = Tensor::randn({64, 256}, DType::Float32, Device::cuda());
    Tensor loss = sum(tanh(matmul(x, w)));
    w.zero_grad();
    loss.backward();
  };
  for (int i = 0; i < 3; ++i) step();
  int64_t before = kernels::cuda::allocator_stats().device_malloc_calls;
  for (int i = 0; i < 20; ++i) step();
  auto stats = kernels::cuda::allocator_stats();
  REQUIRE(stats.device_malloc_calls == before);
  REQUIRE(stats.peak_allocated_bytes >= stats.allocated_bytes);
  REQUIRE(stats.cached_bytes > 0);
}
