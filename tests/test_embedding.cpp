// embedding: row lookup, the scatter-add backward (repeated indices add), second derivatives, CUDA
// parity, bad indices.
#include "op_tests.h"

TEST_CASE("embedding looks up rows and scatters gradients back, repeated indices add", "[embedding][gradcheck]") {
  Tensor w = Tensor::randn({5, 3}, DType::Float64);
  Tensor idx = Tensor::from_vector<int64_t>({4, 0, 4, 2}, {2, 2});
  Tensor out = embedding(w, idx);
  REQUIRE(out.shape() == Shape{2, 2, 3});
  auto wv = w.to_vector<double>(), ov = out.to_vector<double>();
  for (int c = 0; c < 3; ++c) REQUIRE((ov[c] == wv[12 + c] && ov[9 + c] == wv[6 + c]));
  Fn f = [idx](auto& in) { return embedding(in[0], idx); };
  REQUIRE_GRADCHECK(f, leaf({5, 3}));
  REQUIRE_GRADCHECK(f, strided_leaf({5, 3}));
  Fn sq = [idx](auto& in) { return mul(embedding(in[0], idx), embedding(in[0], idx)); };
  REQUIRE_GRADGRADCHECK(sq, leaf({5, 3}));
  Tensor wl = leaf({5, 3});
  sum(embedding(wl, idx)).backward();
  auto g = wl.grad().to_vector<double>();
  REQUIRE(g[12] == 2);  // row 4 used twice
  REQUIRE(g[3] == 0);   // row 1 unused
}

TEST_CASE("embedding: bad indices are named, with their position", "[embedding][errors]") {
  Tensor w = Tensor::randn({5, 3});
  REQUIRE_THROWS_WITH(embedding(w, Tensor::from_vector<int64_t>({0, 5, 1}, {3})),
                      Catch::Contains("embedding") && Catch::Contains("index 5 at position 1") && Catch::Contains("5 rows"));
  REQUIRE_THROWS_WITH(embedding(w, Tensor::from_vector<int64_t>({-1}, {1})), Catch::Contains("index -1"));
  REQUIRE_THROWS_WITH(embedding(Tensor::randn({2, 3}), Tensor::zeros({2})),
                      Catch::Contains("embedding") && Catch::Contains("indices must be int64"));
}

TEST_CASE("cuda: embedding forward and backward (deterministic), float32 and float64", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  Tensor idx = Tensor::randint(0, 50, {7, 13});
  Fn emb = [idx](auto& in) { return embedding(in[0], idx.to(in[0].device())); };
  check_parity("embedding", emb, {cpu_input({50, 33})}, 0, 1e-5);
  check_parity("embedding", emb, {cpu_input({50, 33}, true, 1.0, DType::Float64)}, 0, 1e-12);
  // Deterministic backward: the same bits twice.
  Tensor w = Tensor::randn({50, 33}).to(Device::cuda()).requires_grad_();
  Tensor up = Tensor::randn({7, 13, 33}).to(Device::cuda());
  auto g1 = grad({embedding(w, idx.to(Device::cuda()))}, {w}, {up})[0].to_vector<float>();
  auto g2 = grad({embedding(w, idx.to(Device::cuda()))}, {w}, {up})[0].to_vector<float>();
  REQUIRE(g1 == g2);
}
