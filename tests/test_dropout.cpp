// dropout: the scaled mask, reproducible from a seed, identity in eval mode, the gradient through
// the mask, and the same mask on the GPU.
#include <algorithm>

#include "op_tests.h"

TEST_CASE("dropout: scaled mask, reproducible, identity in eval mode, gradient through the mask", "[dropout][gradcheck]") {
  Tensor x = Tensor::ones({100000}, DType::Float64);
  Generator g1(5), g2(5);
  Tensor a = dropout(x, 0.3, true, &g1), b = dropout(x, 0.3, true, &g2);
  REQUIRE(a.to_vector<double>() == b.to_vector<double>());
  auto av = a.to_vector<double>();
  size_t zeros = std::count(av.begin(), av.end(), 0.0);
  REQUIRE(std::abs(double(zeros) / 100000 - 0.3) < 0.01);
  for (double v : av) REQUIRE((v == 0 || std::abs(v - 1 / 0.7) < 1e-12));
  REQUIRE(dropout(x, 0.3, false).same_as(x));
  Generator g3(9);
  Tensor mask_source = dropout(Tensor::ones({3, 4}, DType::Float64), 0.5, true, &g3);
  Fn f = [](auto& in) {
    Generator g(9);  // the same mask on every evaluation
    return dropout(in[0], 0.5, true, &g);
  };
  Tensor xl = leaf({3, 4});
  REQUIRE_GRADCHECK(f, xl);
  REQUIRE_GRADGRADCHECK(f, xl);
  REQUIRE_CLOSE(f({xl}), mul(xl.detach(), mask_source), 0);
}

TEST_CASE("cuda: dropout draws the CPU's mask for the same seed", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  Fn drop = [](auto& in) {
    Generator g(21);
    return dropout(in[0], 0.3, true, &g);
  };
  check_parity("dropout", drop, {cpu_input({37, 19})}, 0, 0);
  Generator c(3), d(3);
  Tensor x = Tensor::ones({4097});
  REQUIRE(dropout(x.to(Device::cuda()), 0.25, true, &c).to_vector<float>() == dropout(x, 0.25, true, &d).to_vector<float>());
}
