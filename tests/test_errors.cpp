// Every bad input raises dytgrad::Error with a message naming the op and what was wrong.
#include "helpers.h"

using namespace dytgrad;
using Catch::Contains;

TEST_CASE("shape mismatches name the op and both shapes", "[errors]") {
  Tensor a = Tensor::randn({2, 3}), b = Tensor::randn({4, 3});
  REQUIRE_THROWS_WITH(add(a, b), Contains("add") && Contains("[2, 3]") && Contains("[4, 3]"));
  REQUIRE_THROWS_WITH(matmul(a, Tensor::randn({2, 5})),
                      Contains("matmul") && Contains("[2, 3]") && Contains("[2, 5]"));
  REQUIRE_THROWS_WITH(matmul(Tensor::randn({3}), a), Contains("matmul") && Contains("at least 2 dims"));
  REQUIRE_THROWS_WITH(a.reshape({5}), Contains("reshape") && Contains("[2, 3]"));
  REQUIRE_THROWS_WITH(concat({a, Tensor::randn({2, 4})}, 0), Contains("concat"));
  REQUIRE_THROWS_WITH(dyt(a, Tensor::ones({1}), Tensor::ones({4}), Tensor::zeros({3})),
                      Contains("dyt") && Contains("gamma") && Contains("[3]"));
  REQUIRE_THROWS_WITH(dyt(a, Tensor::ones({2}), Tensor::ones({3}), Tensor::zeros({3})),
                      Contains("dyt") && Contains("alpha"));
  REQUIRE_THROWS_WITH(layer_norm(a, Tensor::ones({2}), Tensor::zeros({3})), Contains("layer_norm"));
  REQUIRE_THROWS_WITH(scaled_dot_product_attention(Tensor::randn({2, 4, 8}), Tensor::randn({2, 4, 6}),
                                                   Tensor::randn({2, 4, 6}), true),
                      Contains("scaled_dot_product_attention"));
  REQUIRE_THROWS_WITH(a.narrow(1, 2, 2), Contains("narrow") && Contains("out of bounds"));
  REQUIRE_THROWS_WITH(a.transpose(0, 2), Contains("transpose") && Contains("out of range"));
  REQUIRE_THROWS_WITH(a.expand({4, 3}), Contains("expand"));
}

TEST_CASE("wrong dtypes are named", "[errors]") {
  Tensor f = Tensor::randn({2, 3}), d = Tensor::randn({2, 3}, DType::Float64);
  REQUIRE_THROWS_WITH(add(f, d), Contains("add") && Contains("float32") && Contains("float64"));
  Tensor i = Tensor::arange(0, 6, 1, DType::Int64).reshape({2, 3});
  REQUIRE_THROWS_WITH(exp(i), Contains("exp") && Contains("int64"));
  REQUIRE_THROWS_WITH(cross_entropy(f, Tensor::zeros({2})), Contains("cross_entropy") && Contains("targets must be int64"));
  REQUIRE_THROWS_WITH(embedding(f, Tensor::zeros({2})), Contains("embedding") && Contains("indices must be int64"));
  REQUIRE_THROWS_WITH(i.requires_grad_(), Contains("floating"));
}

TEST_CASE("indices out of range are named with their position", "[errors]") {
  Tensor w = Tensor::randn({5, 3});
  REQUIRE_THROWS_WITH(embedding(w, Tensor::from_vector<int64_t>({0, 5, 1}, {3})),
                      Contains("embedding") && Contains("index 5 at position 1") && Contains("5 rows"));
  REQUIRE_THROWS_WITH(embedding(w, Tensor::from_vector<int64_t>({-1}, {1})), Contains("index -1"));
  Tensor logits = Tensor::randn({3, 4});
  REQUIRE_THROWS_WITH(cross_entropy(logits, Tensor::from_vector<int64_t>({0, 4, 1}, {3})),
                      Contains("cross_entropy") && Contains("target 4 at position 1") && Contains("4 classes"));
  REQUIRE_NOTHROW(cross_entropy(logits, Tensor::from_vector<int64_t>({0, -100, 1}, {3})));
  REQUIRE_THROWS_WITH(cross_entropy(logits, Tensor::from_vector<int64_t>({0, 1}, {2})),
                      Contains("cross_entropy") && Contains("targets of shape [3]"));
}

TEST_CASE("backward misuse is explained", "[errors][autograd]") {
  Tensor x = test::leaf({2, 2});
  REQUIRE_THROWS_WITH(mul(x, 2.0).backward(), Contains("one-element") && Contains("[2, 2]"));
  REQUIRE_THROWS_WITH(Tensor::randn({1}).backward(), Contains("does not require grad"));
  REQUIRE_THROWS_WITH(mul(x, 2.0).backward(Tensor::ones({3}, DType::Float64)), Contains("gradient shape [3]"));
}

TEST_CASE("mixing devices is an error", "[errors]") {
  if (!cuda_is_available()) {
    REQUIRE_THROWS_WITH(Tensor::zeros({2}, DType::Float32, Device::cuda()), Contains("cuda"));
    return;
  }
  Tensor a = Tensor::randn({2}), b = Tensor::randn({2}).to(Device::cuda());
  REQUIRE_THROWS_WITH(add(a, b), Contains("add") && Contains("same device") && Contains("cuda:0"));
  REQUIRE_THROWS_WITH(matmul(a.reshape({1, 2}), b.reshape({2, 1})), Contains("matmul") && Contains("same device"));
}
