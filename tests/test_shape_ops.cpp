// View ops and concat/split/stack: values and gradients.
#include "op_tests.h"

TEST_CASE("concat, stack and split forward", "[shape]") {
  Tensor a = Tensor::arange(0, 4, 1, DType::Float64).reshape({2, 2});
  Tensor b = Tensor::arange(4, 6, 1, DType::Float64).reshape({2, 1});
  REQUIRE(concat({a, b}, 1).to_vector<double>() == std::vector<double>{0, 1, 4, 2, 3, 5});
  REQUIRE(stack({a, a}, 0).shape() == Shape{2, 2, 2});
  REQUIRE(stack({a, a}, 2).to_vector<double>() == std::vector<double>{0, 0, 1, 1, 2, 2, 3, 3});
  auto parts = split(Tensor::arange(0, 7, 1, DType::Float64), 3, 0);
  REQUIRE(parts.size() == 3);
  REQUIRE(parts[2].to_vector<double>() == std::vector<double>{6});
}

TEST_CASE("view op gradients", "[shape][gradcheck]") {
  std::vector<std::pair<const char*, Fn>> ops = {
      {"reshape", [](auto& in) { return mul(in[0].reshape({4, 6}), Tensor::arange(0, 6, 1, DType::Float64)); }},
      {"transpose", [](auto& in) { return mul(in[0].transpose(0, 2), Tensor::arange(0, 2, 1, DType::Float64)); }},
      {"permute", [](auto& in) { return in[0].permute({2, 0, 1}); }},
      {"narrow", [](auto& in) { return in[0].narrow(2, 1, 2); }},
      {"unsqueeze/squeeze", [](auto& in) { return in[0].unsqueeze(1).squeeze(1); }},
      {"expand", [](auto& in) { return in[0].narrow(1, 0, 1).expand({2, 5, 4}); }},
      {"flatten", [](auto& in) { return in[0].flatten(1); }},
      {"contiguous of transposed", [](auto& in) { return in[0].transpose(1, 2).contiguous(); }},
  };
  test::require_gradients_of_each(ops, {2, 3, 4});
}

TEST_CASE("concat, stack and split gradients", "[shape][gradcheck]") {
  Fn cat = [](auto& in) { return concat({in[0], in[1], in[0]}, 1); };
  REQUIRE_GRADCHECK(cat, leaf({2, 3}), strided_leaf({2, 4}));
  REQUIRE_GRADGRADCHECK(cat, leaf({2, 3}), leaf({2, 4}));
  Fn stk = [](auto& in) { return stack({in[0], mul(in[1], in[1])}, 1); };
  REQUIRE_GRADCHECK(stk, leaf({2, 3}), leaf({2, 3}));
  REQUIRE_GRADGRADCHECK(stk, leaf({2, 3}), leaf({2, 3}));
  Fn spl = [](auto& in) {
    auto p = split(in[0], 2, 1);
    return add(mul(p[0], p[1]), p[2].expand({3, 2}));
  };
  REQUIRE_GRADCHECK(spl, leaf({3, 5}));
  REQUIRE_GRADGRADCHECK(spl, leaf({3, 5}));
}

TEST_CASE("dtype and clone conversions carry gradients", "[shape][gradcheck]") {
  Fn f = [](auto& in) { return mul(in[0].to(DType::Float32).to(DType::Float64), in[0].clone()); };
  Tensor x = leaf({4});
  auto g = grad({sum(f({x}))}, {x});
  REQUIRE_CLOSE(g[0], mul(x.detach(), 2.0), 1e-6);  // through a float32 round trip
}

TEST_CASE("shape ops: bad shapes and dims are named", "[shape][errors]") {
  Tensor a = Tensor::randn({2, 3});
  REQUIRE_THROWS_WITH(a.reshape({5}), Catch::Contains("reshape") && Catch::Contains("[2, 3]"));
  REQUIRE_THROWS_WITH(concat({a, Tensor::randn({2, 4})}, 0), Catch::Contains("concat"));
  REQUIRE_THROWS_WITH(a.narrow(1, 2, 2), Catch::Contains("narrow") && Catch::Contains("out of bounds"));
  REQUIRE_THROWS_WITH(a.transpose(0, 2), Catch::Contains("transpose") && Catch::Contains("out of range"));
  REQUIRE_THROWS_WITH(a.expand({4, 3}), Catch::Contains("expand"));
}

TEST_CASE("cuda: concat, stack and split", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  Fn cat = [](auto& in) { return concat({in[0], in[1]}, 1); };
  check_parity("concat", cat, {cpu_input({5, 3}), cpu_input({5, 4})}, 0, 0);
  Fn stk = [](auto& in) { return stack({in[0], in[1]}, 0); };
  check_parity("stack", stk, {cpu_input({5, 3}), cpu_input({5, 3})}, 0, 0);
  Fn spl = [](auto& in) { return mul(split(in[0], 3, 1)[1], 2.0); };
  check_parity("split", spl, {cpu_input({4, 8})}, 0, 0);
}
