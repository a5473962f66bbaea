// sum, mean, max over dims (keepdim or not) and matmul (2-D, batched, broadcast, transposed views).
#include "helpers.h"

using namespace dytgrad;
using test::leaf;
using test::strided_leaf;
using Fn = TensorFunction;

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
  for (auto& [name, f] : ops) {
    INFO(name);
    REQUIRE_GRADCHECK(f, leaf({2, 3, 4}));
    REQUIRE_GRADCHECK(f, strided_leaf({2, 3, 4}));
    REQUIRE_GRADGRADCHECK(f, leaf({2, 3, 4}));
  }
}

TEST_CASE("matmul forward matches a float64 triple loop", "[matmul]") {
  Tensor a = Tensor::randn({5, 7}, DType::Float64), b = Tensor::randn({7, 3}, DType::Float64);
  auto av = a.to_vector<double>(), bv = b.to_vector<double>(), cv = matmul(a, b).to_vector<double>();
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) {
      double ref = 0;
      for (int k = 0; k < 7; ++k) ref += av[i * 7 + k] * bv[k * 3 + j];
      REQUIRE(cv[i * 3 + j] == Approx(ref).epsilon(1e-12));
    }
  REQUIRE_CLOSE(matmul(a.to(DType::Float32), b.to(DType::Float32)), matmul(a, b), 1e-6);
  // Transposed views go through transpose flags, same result as copies.
  Tensor at = Tensor::randn({7, 5}, DType::Float64);
  REQUIRE_CLOSE(matmul(at.transpose(0, 1), b), matmul(at.transpose(0, 1).contiguous(), b), 1e-15);
}

TEST_CASE("matmul gradients: 2-D, batched, broadcast batch, transposed, second order", "[matmul][gradcheck]") {
  Fn mm = [](auto& in) { return matmul(in[0], in[1]); };
  REQUIRE_GRADCHECK(mm, leaf({3, 4}), leaf({4, 5}));
  REQUIRE_GRADCHECK(mm, leaf({2, 3, 4}), leaf({2, 4, 5}));
  REQUIRE_GRADCHECK(mm, leaf({2, 1, 3, 4}), leaf({3, 4, 2}));  // batch dims broadcast
  REQUIRE_GRADCHECK(mm, leaf({2, 3, 4}), leaf({4, 2}));        // matrix against a batch
  REQUIRE_GRADCHECK(mm, strided_leaf({4, 3}), strided_leaf({3, 5}));
  REQUIRE_GRADCHECK(mm, leaf({1, 4}), leaf({4, 1}));
  Fn mtm = [](auto& in) { return matmul(in[0].transpose(-1, -2), in[1]); };
  REQUIRE_GRADCHECK(mtm, leaf({2, 4, 3}), leaf({2, 4, 5}));
  REQUIRE_GRADGRADCHECK(mm, leaf({2, 3, 4}), leaf({4, 2}));
  Fn quad = [](auto& in) { return matmul(in[0], in[0].transpose(0, 1)); };
  REQUIRE_GRADGRADCHECK(quad, leaf({3, 4}));
}

TEST_CASE("linear equals matmul with the weight transposed plus the bias, gradients included", "[matmul]") {
  for (Shape xs : {Shape{37, 19}, Shape{2, 5, 19}, Shape{300, 19}}) {  // 300 rows: split across threads
    INFO("x " << shape_str(xs));
    Tensor x = leaf(xs), w = leaf({23, 19}), b = leaf({23});
    Tensor got = linear(x, w, b), expected = add(matmul(x, w.transpose(0, 1)), b);
    REQUIRE(got.shape() == expected.shape());
    REQUIRE_CLOSE(got, expected, 1e-14);
    Tensor up = Tensor::randn(got.shape(), DType::Float64);
    auto g1 = grad({got}, {x, w, b}, {up}), g2 = grad({expected}, {x, w, b}, {up});
    for (int i = 0; i < 3; ++i) REQUIRE_CLOSE(g1[size_t(i)], g2[size_t(i)], 1e-13);
    auto f32 = [](const Tensor& t) { return t.detach().to(DType::Float32); };
    REQUIRE_CLOSE(linear(f32(x), f32(w), f32(b)), expected, 2e-6);
  }
  Fn f = [](auto& in) { return linear(in[0], in[1], in[2]); };
  REQUIRE_GRADCHECK(f, leaf({4, 3}), leaf({5, 3}), leaf({5}));
  REQUIRE_GRADCHECK(f, strided_leaf({3, 4}).transpose(0, 1), leaf({5, 3}), leaf({5}));
  REQUIRE_GRADGRADCHECK(f, leaf({2, 3}), leaf({4, 3}), leaf({4}));
  Fn no_bias = [](auto& in) { return linear(in[0], in[1], Tensor()); };
  REQUIRE_GRADCHECK(no_bias, leaf({4, 3}), leaf({5, 3}));
  REQUIRE_THROWS_WITH(linear(leaf({4, 3}), leaf({5, 4}), leaf({5})), Catch::Contains("linear: expected x [..., in] and weight [out, in]"));
  REQUIRE_THROWS_WITH(linear(leaf({4, 3}), leaf({5, 3}), leaf({4})), Catch::Contains("linear: bias must have shape [5]"));
}
