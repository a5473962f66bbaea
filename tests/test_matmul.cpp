// matmul (2-D, batched, broadcast batch dims, transposed views), linear and linear_gelu: forward
// against float64 loops or the composite, gradients and second derivatives, autocast, CUDA parity
// (TF32, strict fp32, float64, bfloat16), bad shapes.
#include "op_tests.h"
#include "core/ops/autocast.h"
#include "kernels/memory.h"

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

TEST_CASE("matmul in float32 (oneDNN or OpenBLAS): every transpose, empty and odd shapes, within the dot product's rounding bound",
          "[matmul]") {
  // The float32 GEMM against the float64 product of the same float32 values: each element may be
  // off by at most gamma_k (|A| |B|)_ij, gamma_k = k u / (1 - k u) with u = 2^-24, the worst case
  // of a k-term float32 dot product (Higham, Accuracy and Stability, 3.1); NaN fails the comparison.
  struct Case { int64_t m, k, n; };
  for (Case c : {Case{1, 1, 1}, Case{3, 0, 4}, Case{0, 5, 2}, Case{17, 33, 9}, Case{128, 64, 48}, Case{300, 192, 77}})
    for (bool transpose_a : {false, true})
      for (bool transpose_b : {false, true}) {
        INFO("m " << c.m << " k " << c.k << " n " << c.n << " transposed a " << transpose_a << " b " << transpose_b);
        Tensor a = transpose_a ? Tensor::randn({c.k, c.m}).transpose(0, 1) : Tensor::randn({c.m, c.k});
        Tensor b = transpose_b ? Tensor::randn({c.n, c.k}).transpose(0, 1) : Tensor::randn({c.k, c.n});
        std::vector<float> got = matmul(a, b).to_vector<float>(), av = a.to_vector<float>(), bv = b.to_vector<float>();
        REQUIRE(got.size() == size_t(c.m * c.n));
        const double u = std::ldexp(1.0, -24), gamma = double(c.k) * u / (1 - double(c.k) * u);
        for (int64_t i = 0; i < c.m; ++i)
          for (int64_t j = 0; j < c.n; ++j) {
            double ref = 0, magnitude = 0;
            for (int64_t l = 0; l < c.k; ++l) {
              double p = double(av[size_t(i * c.k + l)]) * double(bv[size_t(l * c.n + j)]);
              ref += p, magnitude += std::abs(p);
            }
            REQUIRE(std::abs(double(got[size_t(i * c.n + j)]) - ref) <= gamma * magnitude);
          }
      }
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

namespace {
using LinearOp = Tensor (*)(const Tensor&, const Tensor&, const Tensor&);
// A fused linear op against the ops it fuses: values and gradients in float64 (300 rows: row blocks
// on both threads), float32 within 2e-6 of float64.
void check_against_composite(LinearOp fused, LinearOp composite) {
  for (Shape xs : {Shape{37, 19}, Shape{2, 5, 19}, Shape{300, 19}}) {
    INFO("x " << shape_str(xs));
    Tensor x = leaf(xs), w = leaf({23, 19}), b = leaf({23});
    Tensor got = fused(x, w, b), expected = composite(x, w, b);
    REQUIRE(got.shape() == expected.shape());
    REQUIRE_CLOSE(got, expected, 1e-14);
    Tensor up = Tensor::randn(got.shape(), DType::Float64);
    auto g1 = grad({got}, {x, w, b}, {up}), g2 = grad({expected}, {x, w, b}, {up});
    for (int i = 0; i < 3; ++i) REQUIRE_CLOSE(g1[size_t(i)], g2[size_t(i)], 1e-13);
    auto f32 = [](const Tensor& t) { return t.detach().to(DType::Float32); };
    REQUIRE_CLOSE(fused(f32(x), f32(w), f32(b)), expected, 2e-6);
  }
}
}  // namespace

TEST_CASE("linear equals matmul with the weight transposed plus the bias, gradients included", "[matmul]") {
  check_against_composite(linear, [](const Tensor& x, const Tensor& w, const Tensor& b) {
    return add(matmul(x, w.transpose(0, 1)), b);
  });
  Fn f = [](auto& in) { return linear(in[0], in[1], in[2]); };
  REQUIRE_GRADCHECK(f, leaf({4, 3}), leaf({5, 3}), leaf({5}));
  REQUIRE_GRADCHECK(f, strided_leaf({3, 4}).transpose(0, 1), leaf({5, 3}), leaf({5}));
  REQUIRE_GRADGRADCHECK(f, leaf({2, 3}), leaf({4, 3}), leaf({4}));
  Fn no_bias = [](auto& in) { return linear(in[0], in[1], Tensor()); };
  REQUIRE_GRADCHECK(no_bias, leaf({4, 3}), leaf({5, 3}));
  REQUIRE_THROWS_WITH(linear(leaf({4, 3}), leaf({5, 4}), leaf({5})), Catch::Contains("linear: expected x [..., in] and weight [out, in]"));
  REQUIRE_THROWS_WITH(linear(leaf({4, 3}), leaf({5, 3}), leaf({4})), Catch::Contains("linear: bias must have shape [5]"));
}

TEST_CASE("linear_gelu equals gelu(linear(...)): values, gradients, second derivatives", "[matmul]") {
  check_against_composite(linear_gelu, [](const Tensor& x, const Tensor& w, const Tensor& b) {
    return gelu(linear(x, w, b));
  });
  Fn f = [](auto& in) { return linear_gelu(in[0], in[1], in[2]); };
  REQUIRE_GRADCHECK(f, leaf({4, 3}), leaf({5, 3}), leaf({5}));
  REQUIRE_GRADCHECK(f, strided_leaf({3, 4}).transpose(0, 1), leaf({5, 3}), leaf({5}));
  REQUIRE_GRADGRADCHECK(f, leaf({2, 3}), leaf({4, 3}), leaf({4}));
  Tensor x = leaf({4, 3}), w = leaf({5, 3});
  REQUIRE_CLOSE(linear_gelu(x, w, Tensor()), gelu(matmul(x, w.transpose(0, 1))), 1e-14);
  REQUIRE_THROWS_WITH(linear_gelu(leaf({4, 3}), leaf({5, 4}), leaf({5})), Catch::Contains("linear_gelu: expected x [..., in]"));
  REQUIRE_THROWS_WITH(linear_gelu(leaf({4, 3}), leaf({5, 3}), leaf({4})), Catch::Contains("linear_gelu: bias must have shape [5]"));
  // under autocast: linear's bfloat16 GEMM, then gelu in bfloat16 (the table of docs/ARCHITECTURE.md)
  Tensor x32 = Tensor::randn({6, 19}), w32 = Tensor::randn({23, 19}), b32 = Tensor::randn({23});
  AutocastGuard autocast;
  Tensor y = linear_gelu(x32, w32, b32);
  REQUIRE(y.dtype() == DType::BFloat16);
  REQUIRE(test::bits_of(y) == test::bits_of(gelu(linear(x32, w32, b32))));
}

TEST_CASE("matmul: bad shapes are named", "[matmul][errors]") {
  Tensor a = Tensor::randn({2, 3});
  REQUIRE_THROWS_WITH(matmul(a, Tensor::randn({2, 5})),
                      Catch::Contains("matmul") && Catch::Contains("[2, 3]") && Catch::Contains("[2, 5]"));
  REQUIRE_THROWS_WITH(matmul(Tensor::randn({3}), a), Catch::Contains("matmul") && Catch::Contains("at least 2 dims"));
}

TEST_CASE("cuda: matmul through cuBLAS, TF32, strict fp32 and float64", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  Fn mm = [](auto& in) { return matmul(in[0], in[1]); };
  Fn mtm = [](auto& in) { return matmul(in[0].transpose(-1, -2), in[1]); };
  check_parity("2-D", mm, {cpu_input({37, 19}), cpu_input({19, 41})}, 2e-3, 2e-3);
  check_parity("batched", mm, {cpu_input({3, 17, 8}), cpu_input({3, 8, 9})}, 2e-3, 2e-3);
  check_parity("broadcast batch", mm, {cpu_input({2, 1, 5, 8}), cpu_input({3, 8, 4})}, 2e-3, 2e-3);
  check_parity("transposed", mtm, {cpu_input({1, 64, 33}), cpu_input({1, 64, 31})}, 2e-3, 2e-3);
  kernels::cuda::set_tf32(false);
  check_parity("strict fp32", mm, {cpu_input({37, 200}), cpu_input({200, 41})}, 1e-5, 1e-5);
  kernels::cuda::set_tf32(true);
  auto f64 = [](const Shape& s) { return cpu_input(s, true, 1.0, DType::Float64); };
  check_parity("float64, batched", mm, {f64({3, 17, 8}), f64({3, 8, 9})}, 1e-12, 1e-12);
  check_parity("float64, transposed", mtm, {f64({1, 64, 33}), f64({1, 64, 31})}, 1e-12, 1e-12);
}

TEST_CASE("cuda: linear with the bias in cuBLASLt's epilogue (float32, TF32 and strict) and float64", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);  // linear_forward has not run on a GPU yet
  Fn f = [](auto& in) { return linear(in[0], in[1], in[2]); };
  // x starting one row into its storage: 76 bytes past an aligned address (the heuristic is told)
  Fn offset = [](auto& in) { return linear(in[0].narrow(0, 1, in[0].size(0) - 1), in[1], in[2]); };
  for (bool tf32 : {true, false}) {
    kernels::cuda::set_tf32(tf32);
    double tol = tf32 ? 2e-3 : 1e-5;
    INFO((tf32 ? "TF32" : "strict fp32"));
    check_parity("linear", f, {cpu_input({37, 19}), cpu_input({23, 19}), cpu_input({23})}, tol, tol);
    check_parity("linear, batch of sequences", f, {cpu_input({2, 5, 19}), cpu_input({23, 19}), cpu_input({23})}, tol, tol);
    check_parity("linear, a GPT's qkv", f, {cpu_input({4, 64, 384}), cpu_input({1152, 384}), cpu_input({1152})}, tol, tol);
    check_parity("linear, x at an offset", offset, {cpu_input({38, 19}), cpu_input({23, 19}), cpu_input({23})}, tol, tol);
  }
  kernels::cuda::set_tf32(true);
  auto f64 = [](const Shape& s) { return cpu_input(s, true, 1.0, DType::Float64); };
  check_parity("linear, float64", f, {f64({37, 19}), f64({23, 19}), f64({23})}, 1e-12, 1e-12);
  check_parity("linear, float64, x at an offset", offset, {f64({38, 19}), f64({23, 19}), f64({23})}, 1e-12, 1e-12);
  allow_unverified_cuda_kernels(false);
}

TEST_CASE("cuda: linear_gelu with the bias and the gelu in cuBLASLt's epilogue (float32) and float64", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);  // linear_gelu_forward has not run on a GPU yet
  // The erf GELU differs from the tanh approximation by up to 4e-4 (near |x| = 2): 2e-5 or more of
  // the largest output of the 19-input cases, above the strict fp32 tolerance (1e-5).
  Fn f = [](auto& in) { return linear_gelu(in[0], in[1], in[2]); };
  for (bool tf32 : {true, false}) {
    kernels::cuda::set_tf32(tf32);
    double tol = tf32 ? 2e-3 : 1e-5;
    INFO((tf32 ? "TF32" : "strict fp32"));
    check_parity("linear_gelu, 24 outputs", f, {cpu_input({37, 19}), cpu_input({24, 19}), cpu_input({24})}, tol, tol);
    check_parity("linear_gelu, 23 outputs", f, {cpu_input({37, 19}), cpu_input({23, 19}), cpu_input({23})}, tol, tol);
    check_parity("linear_gelu, a GPT's MLP", f, {cpu_input({4, 64, 384}), cpu_input({1536, 384}), cpu_input({1536})}, tol, tol);
  }
  kernels::cuda::set_tf32(true);
  auto f64 = [](const Shape& s) { return cpu_input(s, true, 1.0, DType::Float64); };
  check_parity("linear_gelu, float64", f, {f64({37, 19}), f64({23, 19}), f64({23})}, 1e-12, 1e-12);
  allow_unverified_cuda_kernels(false);
}

TEST_CASE("cuda: bfloat16 matmul through cuBLAS's bfloat16 GEMM against the CPU's",
          "[cuda][parity][bfloat16]") {
  if (!test::gpu_visible()) return;
  auto bf16 = [](const Shape& s) { return cpu_input(s, false).to(DType::BFloat16).requires_grad_(); };
  Tensor a = bf16({37, 19}), b = bf16({19, 41});
  // The same bfloat16 operands, float32 accumulation on both sides: the results differ by the order
  // of the sums, which can move a rounding by one bfloat16 step (2^-8 relative): 1e-2.
  Fn mm = [](auto& in) { return matmul(in[0], in[1]); };
  Fn mtm = [](auto& in) { return matmul(in[0].transpose(-1, -2), in[1]); };
  check_parity("bfloat16, 2-D", mm, {a, b}, 1e-2, 1e-2);
  check_parity("bfloat16, broadcast batch", mm, {bf16({2, 1, 5, 8}), bf16({3, 8, 4})}, 1e-2, 1e-2);
  check_parity("bfloat16, transposed", mtm, {bf16({1, 64, 33}), bf16({1, 64, 31})}, 1e-2, 1e-2);
  check_parity("bfloat16, long sums", mm, {bf16({64, 1000}), bf16({1000, 72})}, 1e-2, 1e-2);
}
