// sum, mean and max over dims (keepdim or not): forward, gradients and second derivatives, CUDA parity.
#include "op_tests.h"

TEST_CASE("sum and mean forward over any dims", "[reduction]") {
  Tensor x = Tensor::arange(0, 24, 1, DType::Float64).reshape({2, 3, 4});
  REQUIRE(sum(x).item() == 276);
  REQUIRE(sum(x, {1}).to_vector<double>() == std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57});
  REQUIRE(sum(x, {0, 2}, true).shape() == Shape{1, 3, 1});
  REQUIRE(sum(x, {0, 2}).to_vector<double>() == std::vector<double>{60, 92, 124});
  REQUIRE(mean(x, {-1}).to_vector<double>()[0] == 1.5);
  REQUIRE(sum(x.transpose(0, 2), {0}).to_vector<double>() == sum(x, {2}).transpose(0, 1).contiguous().to_vector<double>());
}

TEST_CASE("max returns values and first indices", "[reduction]") {
  Tensor x = Tensor::from_vector<double>({1, 5, 5, 2, 0, -1}, {2, 3});
  auto r = max(x, 1);
  REQUIRE(r.values.to_vector<double>() == std::vector<double>{5, 2});
  REQUIRE(r.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  auto k = max(x, 0, true);
  REQUIRE(k.values.shape() == Shape{1, 3});
  REQUIRE(k.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0});
}

TEST_CASE("reduction gradients and second derivatives", "[reduction][gradcheck]") {
  std::vector<std::pair<const char*, Fn>> ops = {
      {"sum all", [](auto& in) { return sum(in[0]); }},
      {"sum dim 1", [](auto& in) { return sum(in[0], {1}); }},
      {"sum dims 0,2 keepdim", [](auto& in) { return sum(in[0], {0, 2}, true); }},
      {"mean dim -1", [](auto& in) { return mean(in[0], {-1}); }},
      {"mean all", [](auto& in) { return mean(in[0]); }},
      {"max dim 1", [](auto& in) { return max(in[0], 1).values; }},
      {"max dim 2 keepdim", [](auto& in) { return max(in[0], 2, true).values; }},
      {"sum of squares", [](auto& in) { return sum(mul(in[0], in[0]), {0}); }},
  };
  test::require_gradients_of_each(ops, {2, 3, 4});
}

TEST_CASE("cuda: reductions forward and backward, float32 and float64", "[cuda][parity][shared_memory]") {
  if (!test::gpu_visible()) return;
  std::vector<std::pair<const char*, Fn>> ops = {
      {"sum all", [](auto& in) { return sum(in[0]); }},
      {"sum last", [](auto& in) { return sum(in[0], {-1}); }},
      {"sum first keepdim", [](auto& in) { return sum(in[0], {0}, true); }},
      {"mean last", [](auto& in) { return mean(in[0], {-1}); }},
      {"max last", [](auto& in) { return max(in[0], -1).values; }},
      {"max first", [](auto& in) { return max(in[0], 0).values; }},
  };
  for (DType dt : {DType::Float32, DType::Float64})
    for (auto& [name, f] : ops)
      for (const Shape& s : test::kAwkwardShapes) {
        double tol = test::parity_tolerance(dt, 1e-5);
        check_parity(name, f, {cpu_input(s, true, 1.0, dt)}, tol, tol);
      }
  // The bias-gradient shape: many rows summed into a few hundred columns (the tiled column kernel).
  Fn bias_sum = [](auto& in) { return sum(in[0], {0, 1}); };
  check_parity("sum over leading dims", bias_sum, {cpu_input({3, 700, 97})}, 1e-5, 1e-5);
  Tensor x = Tensor::randn({33, 1024});
  REQUIRE(max(x.to(Device::cuda()), 1).indices.to_vector<int64_t>() == max(x, 1).indices.to_vector<int64_t>());
}
