// dyt, derf, layer_norm, rms_norm: fused forward against the float64 composite of basic ops, fused
// backward by finite differences (all parameters), second derivatives through the composite path,
// CUDA parity, bad parameter shapes.
#include "op_tests.h"

namespace {
Tensor dyt_reference(const Tensor& x, const Tensor& a, const Tensor& g, const Tensor& b) {
  return add(mul(tanh(mul(x, a)), g), b);
}
}  // namespace

TEST_CASE("dyt forward matches gamma * tanh(alpha x) + beta, float32 within 1e-6", "[norms][dyt]") {
  Tensor x = Tensor::randn({37, 19}, DType::Float64), a = Tensor::full({1}, 0.7, DType::Float64);
  Tensor g = Tensor::randn({19}, DType::Float64), b = Tensor::randn({19}, DType::Float64);
  REQUIRE_CLOSE(dyt(x, a, g, b), dyt_reference(x, a, g, b), 1e-15);
  auto f32 = [](const Tensor& t) { return t.to(DType::Float32); };
  REQUIRE_CLOSE(dyt(f32(x), f32(a), f32(g), f32(b)), dyt_reference(x, a, g, b), 1e-6);
  Tensor x3 = Tensor::randn({2, 5, 19}, DType::Float64);
  REQUIRE_CLOSE(dyt(x3, a, g, b), dyt_reference(x3, a, g, b), 1e-15);
}

TEST_CASE("dyt gradients for x, alpha, gamma, beta, and second derivatives", "[norms][dyt][gradcheck]") {
  Fn f = [](auto& in) { return dyt(in[0], in[1], in[2], in[3]); };
  REQUIRE_GRADCHECK(f, leaf({4, 5}), leaf({1}), leaf({5}), leaf({5}));
  REQUIRE_GRADCHECK(f, strided_leaf({2, 3, 5}), leaf({}), leaf({5}), leaf({5}));
  REQUIRE_GRADGRADCHECK(f, leaf({3, 4}), leaf({1}), leaf({4}), leaf({4}));
  // Only some inputs requiring grad.
  Tensor x = leaf({3, 4});
  Tensor a = Tensor::full({1}, 0.5, DType::Float64), g = Tensor::ones({4}, DType::Float64), b = Tensor::zeros({4}, DType::Float64);
  Fn only_x = [a, g, b](auto& in) { return dyt(in[0], a, g, b); };
  REQUIRE_GRADCHECK(only_x, x);
  REQUIRE_GRADGRADCHECK(only_x, x);
}

namespace {
Tensor derf_reference(const Tensor& x, const Tensor& a, const Tensor& s, const Tensor& g, const Tensor& b) {
  return add(mul(erf(add(mul(x, a), s)), g), b);
}
}  // namespace

TEST_CASE("derf forward matches gamma * erf(alpha x + shift) + beta, float32 within 1e-6", "[norms][derf]") {
  auto f32 = [](const Tensor& t) { return t.detach().to(DType::Float32); };
  for (Shape shape : std::vector<Shape>{{37, 19}, {2, 5, 19}, {3, 1300}}) {  // 1300: blocks of 512 and a tail
    INFO(shape_str(shape));
    int64_t c = shape.back();
    Tensor x = Tensor::randn(shape, DType::Float64), a = Tensor::full({1}, 0.7, DType::Float64);
    Tensor s = Tensor::full({1}, -0.2, DType::Float64);
    Tensor g = Tensor::randn({c}, DType::Float64), b = Tensor::randn({c}, DType::Float64);
    REQUIRE_CLOSE(derf(x, a, s, g, b), derf_reference(x, a, s, g, b), 1e-15);
    REQUIRE_CLOSE(derf(f32(x), f32(a), f32(s), f32(g), f32(b)), derf_reference(x, a, s, g, b), 1e-6);
  }
  REQUIRE_THROWS_WITH(derf(Tensor::randn({2, 3}), Tensor::ones({2}), Tensor::zeros({1}), Tensor::ones({3}), Tensor::zeros({3})),
                      Catch::Contains("derf: alpha must have one element"));
  REQUIRE_THROWS_WITH(derf(Tensor::randn({2, 3}), Tensor::ones({1}), Tensor::zeros({1}), Tensor::ones({4}), Tensor::zeros({3})),
                      Catch::Contains("gamma must have shape [3]"));
}

TEST_CASE("derf gradients for x, alpha, shift, gamma, beta, and second derivatives", "[norms][derf][gradcheck]") {
  Fn f = [](auto& in) { return derf(in[0], in[1], in[2], in[3], in[4]); };
  REQUIRE_GRADCHECK(f, leaf({4, 5}), leaf({1}), leaf({1}), leaf({5}), leaf({5}));
  REQUIRE_GRADCHECK(f, strided_leaf({2, 3, 5}), leaf({}), leaf({}), leaf({5}), leaf({5}));
  REQUIRE_GRADGRADCHECK(f, leaf({3, 4}), leaf({1}), leaf({1}), leaf({4}), leaf({4}));
  // The fused backward against the composite's over many row blocks and a tail of columns.
  Tensor x = leaf({150, 530}), a = leaf({1}), s = leaf({1}), g = leaf({530}), b = leaf({530});
  Tensor up = Tensor::randn({150, 530}, DType::Float64);
  auto got = grad({derf(x, a, s, g, b)}, {x, a, s, g, b}, {up});
  auto expected = grad({derf_reference(x, a, s, g, b)}, {x, a, s, g, b}, {up});
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("input " << i);
    CHECK_CLOSE(got[i], expected[i], 1e-12, 1.0);
  }
}

TEST_CASE("add_dyt: the sum and DyT of it in one op, equal to add then dyt, with gradients", "[norms][dyt]") {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{37, 19}, {5, 1300}}) {  // 1300: blocks of 512 and a tail
    INFO("rows " << rows << " cols " << cols);
    Tensor x = leaf({rows, cols}), y = leaf({rows, cols}), a = leaf({1}), g = leaf({cols}), b = leaf({cols});
    auto [sum, out] = add_dyt(x, y, a, g, b);
    Tensor ref_sum = add(x, y), ref_out = dyt_reference(ref_sum, a, g, b);
    REQUIRE_CLOSE(sum, ref_sum, 0.0);
    REQUIRE_CLOSE(out, ref_out, 1e-15);
    // Gradients through both outputs, against the composite of basic ops.
    Tensor up_sum = Tensor::randn({rows, cols}, DType::Float64), up_out = Tensor::randn({rows, cols}, DType::Float64);
    auto got = grad({sum, out}, {x, y, a, g, b}, {up_sum, up_out});
    auto expected = grad({ref_sum, ref_out}, {x, y, a, g, b}, {up_sum, up_out});
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("input " << i);
      // relative to at least 1 (the inputs' scale): alpha's gradient is one sum that may cancel to ~0
      CHECK_CLOSE(got[i], expected[i], 1e-12, 1.0);
    }
    auto f32 = [](const Tensor& t) { return t.detach().to(DType::Float32); };
    auto [sum32, out32] = add_dyt(f32(x), f32(y), f32(a), f32(g), f32(b));
    REQUIRE_CLOSE(sum32, ref_sum, 1e-6);
    REQUIRE_CLOSE(out32, ref_out, 1e-6);
  }
  Fn both = [](auto& in) {
    auto [sum, out] = add_dyt(in[0], in[1], in[2], in[3], in[4]);
    return add(mul(sum, 0.3), out);
  };
  REQUIRE_GRADCHECK(both, leaf({4, 5}), leaf({4, 5}), leaf({1}), leaf({5}), leaf({5}));
  REQUIRE_GRADCHECK(both, strided_leaf({2, 3, 5}), leaf({2, 3, 5}), leaf({}), leaf({5}), leaf({5}));
  REQUIRE_GRADGRADCHECK(both, leaf({3, 4}), leaf({3, 4}), leaf({1}), leaf({4}), leaf({4}));
  REQUIRE_THROWS_WITH(add_dyt(leaf({3, 4}), leaf({4, 3}), leaf({1}), leaf({3}), leaf({3})),
                      Catch::Contains("add_dyt: x and y must have the same shape, got [3, 4] and [4, 3]"));
  REQUIRE_THROWS_WITH(add_dyt(leaf({3, 4}), leaf({3, 4}), leaf({2}), leaf({4}), leaf({4})),
                      Catch::Contains("add_dyt: alpha must have one element"));
}

TEST_CASE("layer_norm and rms_norm forward against the composite formulas", "[norms]") {
  Tensor x = add(mul(Tensor::randn({23, 31}, DType::Float64), 2.0), 0.5);
  Tensor g = Tensor::randn({31}, DType::Float64), b = Tensor::randn({31}, DType::Float64);
  Tensor centered = sub(x, mean(x, {-1}, true));
  Tensor ln_ref = add(mul(div(centered, sqrt(add(mean(mul(centered, centered), {-1}, true), 1e-5))), g), b);
  REQUIRE_CLOSE(layer_norm(x, g, b, 1e-5), ln_ref, 1e-13);
  REQUIRE_CLOSE(layer_norm(x.to(DType::Float32), g.to(DType::Float32), b.to(DType::Float32), 1e-5), ln_ref, 1e-5);
  Tensor rms_ref = mul(div(x, sqrt(add(mean(mul(x, x), {-1}, true), 1e-6))), g);
  REQUIRE_CLOSE(rms_norm(x, g, 1e-6), rms_ref, 1e-13);
  REQUIRE_CLOSE(rms_norm(x.to(DType::Float32), g.to(DType::Float32), 1e-6), rms_ref, 1e-5);
}

TEST_CASE("layer_norm and rms_norm gradients and second derivatives", "[norms][gradcheck]") {
  Fn ln = [](auto& in) { return layer_norm(in[0], in[1], in[2], 1e-5); };
  REQUIRE_GRADCHECK(ln, leaf({4, 6}), leaf({6}), leaf({6}));
  REQUIRE_GRADCHECK(ln, strided_leaf({2, 3, 6}), leaf({6}), leaf({6}));
  REQUIRE_GRADGRADCHECK(ln, leaf({3, 5}), leaf({5}), leaf({5}));
  Fn rms = [](auto& in) { return rms_norm(in[0], in[1], 1e-6); };
  REQUIRE_GRADCHECK(rms, leaf({4, 6}), leaf({6}));
  REQUIRE_GRADCHECK(rms, strided_leaf({2, 3, 6}), leaf({6}));
  REQUIRE_GRADGRADCHECK(rms, leaf({3, 5}), leaf({5}));
}

TEST_CASE("norms: bad parameter shapes are named", "[norms][errors]") {
  Tensor a = Tensor::randn({2, 3});
  REQUIRE_THROWS_WITH(dyt(a, Tensor::ones({1}), Tensor::ones({4}), Tensor::zeros({3})),
                      Catch::Contains("dyt") && Catch::Contains("gamma") && Catch::Contains("[3]"));
  REQUIRE_THROWS_WITH(dyt(a, Tensor::ones({2}), Tensor::ones({3}), Tensor::zeros({3})),
                      Catch::Contains("dyt") && Catch::Contains("alpha"));
  REQUIRE_THROWS_WITH(layer_norm(a, Tensor::ones({2}), Tensor::zeros({3})), Catch::Contains("layer_norm"));
}

// DyT's alpha gradient sums one term a element, dy gamma (1 - t^2) x, each of order one. Near
// saturation 1 - t^2 keeps few of its digits, and the two backends' tanh (SLEEF's within 3.5 ulp,
// CUDA's tanhf within 2) differ there by a few float32 ulp: the error grows with the number of
// terms while the sum cancels (seen on an H200: 1.6e-5 and 3.5e-5 of the sum itself). Its error is
// measured against the number of terms: on average 1e-5 a term, where a wrong kernel is off by
// the size of the terms.
namespace {
std::vector<double> alpha_gradient_floors(const Shape& x_shape, size_t alpha_input) {
  std::vector<double> floors(alpha_input + 1, 1e-30);
  floors[alpha_input] = 1;
  for (int64_t d : x_shape) floors[alpha_input] *= double(d);
  return floors;
}
}  // namespace

TEST_CASE("cuda: dyt, layer_norm, rms_norm (vectorised and generic paths), float32 and float64", "[cuda][parity][shared_memory]") {
  if (!test::gpu_visible()) return;
  Fn d = [](auto& in) { return dyt(in[0], in[1], in[2], in[3]); };
  Fn ln = [](auto& in) { return layer_norm(in[0], in[1], in[2], 1e-5); };
  Fn rms = [](auto& in) { return rms_norm(in[0], in[1], 1e-6); };
  for (DType dt : {DType::Float32, DType::Float64})
    for (Shape s : std::vector<Shape>{{1, 4}, {37, 19}, {3, 5, 7}, {64, 256}, {33, 1024}, {7, 4100}, {5, 9000}, {301, 768}}) {
      int64_t c = s.back();
      INFO("shape " << shape_str(s));
      auto in = [dt](const Shape& shape, double scale = 1.0) { return cpu_input(shape, true, scale, dt); };
      double elementwise = test::parity_tolerance(dt, 2e-6), reduced = test::parity_tolerance(dt, 1e-5);
      check_parity("dyt", d, {in(s), in({1}), in({c}), in({c})}, elementwise, reduced, alpha_gradient_floors(s, 1));
      check_parity("layer_norm", ln, {in(s, 2.0), in({c}), in({c})}, reduced, reduced);
      check_parity("rms_norm", rms, {in(s, 2.0), in({c})}, reduced, reduced);
    }
  // Deterministic parameter gradients: the same bits twice.
  Tensor x = Tensor::randn({301, 768}).to(Device::cuda());
  Tensor a = Tensor::full({1}, 0.5, DType::Float32, Device::cuda()).requires_grad_();
  Tensor g = Tensor::randn({768}).to(Device::cuda()).requires_grad_(), b = Tensor::randn({768}).to(Device::cuda()).requires_grad_();
  Tensor up = Tensor::randn({301, 768}).to(Device::cuda());
  auto r1 = grad({dyt(x, a, g, b)}, {a, g, b}, {up}), r2 = grad({dyt(x, a, g, b)}, {a, g, b}, {up});
  for (int i = 0; i < 3; ++i) REQUIRE(r1[i].to_vector<float>() == r2[i].to_vector<float>());
}

TEST_CASE("cuda: add_dyt, the fused kernel (the default) and add then dyt", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  Fn both = [](auto& in) {
    auto [sum, out] = add_dyt(in[0], in[1], in[2], in[3], in[4]);
    return add(mul(sum, 0.3), out);
  };
  for (bool fused : {false, true}) {
    set_cuda_add_dyt_kernel(fused);
    for (Shape s : std::vector<Shape>{{1, 4}, {37, 19}, {3, 5, 7}, {301, 768}}) {
      int64_t c = s.back();
      INFO("fused " << fused << " shape " << shape_str(s));
      check_parity("add_dyt", both, {cpu_input(s), cpu_input(s), cpu_input({1}), cpu_input({c}), cpu_input({c})}, 2e-6, 1e-5,
                   alpha_gradient_floors(s, 2));
    }
  }
  set_cuda_add_dyt_kernel(true);
}

TEST_CASE("cuda: erf and derf", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  Fn e = [](auto& in) { return erf(in[0]); };
  Fn d = [](auto& in) { return derf(in[0], in[1], in[2], in[3], in[4]); };
  for (Shape s : std::vector<Shape>{{1, 4}, {37, 19}, {3, 5, 7}, {301, 768}, {5, 9000}}) {
    int64_t c = s.back();
    INFO("shape " << shape_str(s));
    check_parity("erf", e, {cpu_input(s)}, 2e-6, 2e-6);
    check_parity("derf", d, {cpu_input(s), cpu_input({1}), cpu_input({1}), cpu_input({c}), cpu_input({c})}, 2e-6, 1e-5);
  }
}
