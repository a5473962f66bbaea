// Tensors: creation, views without copies, contiguous, dtype conversion, printing, the generator.
#include "helpers.h"

using namespace dytgrad;

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
