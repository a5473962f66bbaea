// Elementwise ops: forward against std:: math in float64, gradients by finite differences
// (broadcasting and non-contiguous inputs included), second derivatives for each; the bfloat16
// kernels against float32 math rounded once.
#include <functional>
#include <set>
#include <string>

#include "op_tests.h"

using test::bits_of;
using test::positive_leaf;

namespace {
void check_unary_forward(Tensor (*op)(const Tensor&), double (*ref)(double), const Tensor& x) {
  auto xv = x.to_vector<double>(), yv = op(x).to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) REQUIRE(yv[i] == Approx(ref(xv[i])).epsilon(1e-12));
}
double gelu_ref(double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }
double relu_ref(double x) { return x > 0 ? x : 0; }
double neg_ref(double x) { return -x; }
double silu_ref(double x) { return x / (1 + std::exp(-x)); }
}  // namespace

TEST_CASE("unary forward matches the float64 formulas", "[elementwise]") {
  Tensor x = leaf({5, 7}), p = positive_leaf({5, 7});
  check_unary_forward(dytgrad::exp, [](double v) { return std::exp(v); }, x);
  check_unary_forward(dytgrad::log, [](double v) { return std::log(v); }, p);
  check_unary_forward(dytgrad::sqrt, [](double v) { return std::sqrt(v); }, p);
  check_unary_forward(dytgrad::tanh, [](double v) { return std::tanh(v); }, x);
  check_unary_forward(dytgrad::erf, [](double v) { return std::erf(v); }, x);
  check_unary_forward(relu, relu_ref, x);
  check_unary_forward(gelu, gelu_ref, x);
  check_unary_forward(neg, neg_ref, x);
  check_unary_forward(silu, silu_ref, x);
  auto pv = p.to_vector<double>(), yv = pow(p, 1.7).to_vector<double>();
  for (size_t i = 0; i < pv.size(); ++i) REQUIRE(yv[i] == Approx(std::pow(pv[i], 1.7)));
  auto qv = (2.5 / p).to_vector<double>();  // a number divided by a tensor
  for (size_t i = 0; i < pv.size(); ++i) REQUIRE(qv[i] == Approx(2.5 / pv[i]).epsilon(1e-12));
}

TEST_CASE("float32 forward is within 1e-6 of float64", "[elementwise]") {
  Tensor x = Tensor::randn({64, 33}, DType::Float64), p = add(Tensor::rand({64, 33}, DType::Float64), 0.5);
  using Op = Tensor (*)(const Tensor&);
  for (Op op : {Op(dytgrad::exp), Op(dytgrad::tanh), Op(dytgrad::erf), Op(gelu), Op(relu), Op(neg), Op(silu)})
    REQUIRE_CLOSE(op(x.to(DType::Float32)), op(x), 1e-6);
  for (Op op : {Op(dytgrad::log), Op(dytgrad::sqrt)}) REQUIRE_CLOSE(op(p.to(DType::Float32)), op(p), 1e-6);
  Tensor y = Tensor::randn({33}, DType::Float64);
  REQUIRE_CLOSE(div(x.to(DType::Float32), y.to(DType::Float32)), div(x, y), 1e-6);
}

TEST_CASE("unary gradients and second derivatives", "[elementwise][gradcheck]") {
  // Inputs for relu stay away from 0, where it has no derivative.
  Tensor x = leaf({3, 4}), p = positive_leaf({3, 4});
  Tensor away = add(mul(Tensor::rand({3, 4}, DType::Float64), 2.0), 0.1);
  Tensor signs = Tensor::from_vector<double>({1, -1, 1, -1}, {4});
  Tensor r = mul(away, signs).detach().requires_grad_();
  std::vector<std::pair<const char*, Fn>> ops = {
      {"exp", [](auto& in) { return exp(in[0]); }},   {"tanh", [](auto& in) { return tanh(in[0]); }},
      {"gelu", [](auto& in) { return gelu(in[0]); }}, {"neg", [](auto& in) { return neg(in[0]); }},
      {"erf", [](auto& in) { return erf(in[0]); }},   {"silu", [](auto& in) { return silu(in[0]); }},
  };
  for (auto& [name, f] : ops) {
    INFO(name);
    REQUIRE_GRADCHECK(f, x);
    REQUIRE_GRADGRADCHECK(f, x);
    REQUIRE_GRADCHECK(f, strided_leaf({3, 4}));
  }
  std::vector<std::pair<const char*, Fn>> positive_ops = {
      {"log", [](auto& in) { return log(in[0]); }},
      {"sqrt", [](auto& in) { return sqrt(in[0]); }},
      {"pow", [](auto& in) { return pow(in[0], 2.5); }},
      {"pow(-1)", [](auto& in) { return pow(in[0], -1.0); }},
  };
  for (auto& [name, f] : positive_ops) {
    INFO(name);
    REQUIRE_GRADCHECK(f, p);
    REQUIRE_GRADGRADCHECK(f, p);
  }
  Fn relu_fn = [](auto& in) { return relu(in[0]); };
  REQUIRE_GRADCHECK(relu_fn, r);
  REQUIRE_GRADGRADCHECK(relu_fn, r);
}

TEST_CASE("silu far from 0: x or 0, gradient 1 or 0, never NaN (float32)", "[elementwise]") {
  Tensor x = Tensor::from_vector<float>({-200, -90, -20, 20, 90, 200}, {6}).requires_grad_();
  Tensor y = silu(x);
  auto dx = grad({sum(y)}, {x})[0].to_vector<float>(), yv = y.to_vector<float>();
  for (size_t i = 0; i < yv.size(); ++i) {
    float xi = x.to_vector<float>()[i];
    INFO(xi);
    REQUIRE(yv[i] == Approx(xi > 0 ? xi : 0.0f).margin(1e-6));  // exp(-x) overflows to inf at x < -88
    REQUIRE(dx[i] == Approx(xi > 0 ? 1.0f : 0.0f).margin(1e-6));
  }
}

TEST_CASE("binary ops with broadcasting: gradients and second derivatives", "[elementwise][gradcheck]") {
  std::vector<std::pair<const char*, Fn>> ops = {
      {"add", [](auto& in) { return add(in[0], in[1]); }},
      {"sub", [](auto& in) { return sub(in[0], in[1]); }},
      {"mul", [](auto& in) { return mul(in[0], in[1]); }},
      {"div", [](auto& in) { return div(in[0], in[1]); }},
  };
  for (auto& [name, f] : ops) {
    INFO(name);
    Tensor b_pos = positive_leaf({4});  // div by values away from 0
    REQUIRE_GRADCHECK(f, leaf({3, 4}), positive_leaf({3, 4}));
    REQUIRE_GRADCHECK(f, leaf({2, 3, 4}), b_pos);                    // trailing broadcast
    REQUIRE_GRADCHECK(f, leaf({3, 1}), positive_leaf({1, 4}));       // both sides broadcast
    REQUIRE_GRADCHECK(f, strided_leaf({4, 3}), positive_leaf({3}));  // non-contiguous
    REQUIRE_GRADGRADCHECK(f, leaf({3, 1}), positive_leaf({4}));
  }
  Fn scalar_ops = [](auto& in) { return mul(add(in[0], 1.5), -2.0); };
  REQUIRE_GRADCHECK(scalar_ops, leaf({3}));
  REQUIRE_GRADGRADCHECK(scalar_ops, leaf({3}));
}

TEST_CASE("where and masked_fill route gradients by the mask", "[elementwise][gradcheck]") {
  Tensor mask = gt(Tensor::randn({3, 4}, DType::Float64), Tensor::zeros({}, DType::Float64));
  Fn w = [mask](auto& in) { return where(mask, in[0], in[1]); };
  REQUIRE_GRADCHECK(w, leaf({3, 4}), leaf({4}));
  REQUIRE_GRADGRADCHECK(w, leaf({3, 4}), leaf({4}));
  Fn m = [mask](auto& in) { return mul(masked_fill(in[0], mask, -3.0), in[0]); };
  REQUIRE_GRADCHECK(m, leaf({3, 4}));
  REQUIRE_GRADGRADCHECK(m, leaf({3, 4}));
  Tensor x = Tensor::from_vector<double>({1, 2, 3}, {3});
  Tensor filled = masked_fill(x, Tensor::from_vector<bool>({true, false, true}, {3}), 9);
  REQUIRE(filled.to_vector<double>() == std::vector<double>{9, 2, 9});
  REQUIRE(eq(x, Tensor::full({}, 2, DType::Float64)).to_vector<bool>() == std::vector<bool>{false, true, false});
  REQUIRE(lt(x, Tensor::full({}, 2, DType::Float64)).to_vector<bool>() == std::vector<bool>{true, false, false});
}

TEST_CASE("pow(x, 0) has gradient 0 everywhere (x = 0 included), and so has the second derivative of pow(x, 1)", "[elementwise]") {
  // p x^(p-1) at x = 0 would be 0 * inf = NaN; PyTorch gives 0.
  Tensor x = Tensor::from_vector<double>({0.0, -2.0, 3.0}, {3}).requires_grad_();
  auto g0 = grad({sum(pow(x, 0.0))}, {x})[0].to_vector<double>();
  REQUIRE(g0 == std::vector<double>{0, 0, 0});
  auto g1 = grad({sum(pow(x, 1.0))}, {x}, {}, true, true)[0];
  REQUIRE(g1.to_vector<double>() == std::vector<double>{1, 1, 1});
  auto g2 = grad({sum(g1)}, {x})[0].to_vector<double>();
  REQUIRE(g2 == std::vector<double>{0, 0, 0});
}

TEST_CASE("elementwise: mismatched shapes and dtypes are named", "[elementwise][errors]") {
  Tensor a = Tensor::randn({2, 3}), b = Tensor::randn({4, 3});
  REQUIRE_THROWS_WITH(add(a, b), Catch::Contains("add") && Catch::Contains("[2, 3]") && Catch::Contains("[4, 3]"));
  Tensor d = Tensor::randn({2, 3}, DType::Float64);
  REQUIRE_THROWS_WITH(add(a, d), Catch::Contains("add") && Catch::Contains("float32") && Catch::Contains("float64"));
  Tensor i = Tensor::arange(0, 6, 1, DType::Int64).reshape({2, 3});
  REQUIRE_THROWS_WITH(exp(i), Catch::Contains("exp") && Catch::Contains("int64"));
}

TEST_CASE("cuda: elementwise ops forward and backward, float32 and float64", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  std::vector<std::pair<const char*, Fn>> unary = {
      {"exp", [](auto& in) { return exp(in[0]); }},   {"tanh", [](auto& in) { return tanh(in[0]); }},
      {"gelu", [](auto& in) { return gelu(in[0]); }}, {"relu", [](auto& in) { return relu(in[0]); }},
      {"neg", [](auto& in) { return neg(in[0]); }},   {"scalar ops", [](auto& in) { return mul(add(in[0], 0.5), 3.0); }},
      {"log", [](auto& in) { return log(add(mul(in[0], in[0]), 0.1)); }},
      {"sqrt", [](auto& in) { return sqrt(add(mul(in[0], in[0]), 0.1)); }},
      {"pow", [](auto& in) { return pow(add(mul(in[0], in[0]), 0.1), 1.5); }},
  };
  for (DType dt : {DType::Float32, DType::Float64})
    for (auto& [name, f] : unary)
      for (const Shape& s : test::kAwkwardShapes) {
        double tol = test::parity_tolerance(dt, 2e-6);
        check_parity(name, f, {cpu_input(s, true, 1.0, dt)}, tol, tol);
      }
  std::vector<std::pair<const char*, Fn>> binary = {
      {"add", [](auto& in) { return add(in[0], in[1]); }},
      {"sub", [](auto& in) { return sub(in[0], in[1]); }},
      {"mul", [](auto& in) { return mul(in[0], in[1]); }},
      {"div", [](auto& in) { return div(in[0], add(mul(in[1], in[1]), 0.5)); }},
  };
  for (auto& [name, f] : binary) {
    check_parity(name, f, {cpu_input({37, 19}), cpu_input({37, 19})}, 2e-6, 1e-5);
    check_parity(name, f, {cpu_input({64, 256}), cpu_input({256})}, 2e-6, 1e-5);        // row broadcast
    check_parity(name, f, {cpu_input({5, 1, 7}), cpu_input({3, 1})}, 2e-6, 1e-5);       // both broadcast
    check_parity(name, f, {cpu_input({19, 37}).transpose(0, 1), cpu_input({37, 19})}, 2e-6, 1e-5);  // strided
    auto f64 = [](const Shape& s) { return cpu_input(s, true, 1.0, DType::Float64); };
    check_parity(name, f, {f64({5, 1, 7}), f64({3, 1})}, 1e-12, 1e-12);
  }
  Tensor mask = gt(Tensor::randn({37, 19}), Tensor::zeros({}));
  Fn w = [mask](auto& in) { return where(mask.to(in[0].device()), in[0], in[1]); };
  check_parity("where", w, {cpu_input({37, 19}), cpu_input({19})}, 0, 1e-5);
  Fn mf = [mask](auto& in) { return masked_fill(in[0], mask.to(in[0].device()), -2.0); };
  check_parity("masked_fill", mf, {cpu_input({37, 19})}, 0, 0);
}

TEST_CASE("cuda: binary ops with one operand broadcast over leading dims (bias adds), gelu's one-pass backward, silu",
          "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);  // the periodic kernels, gelu_backward and silu
  std::vector<std::pair<const char*, Fn>> unary = {
      {"gelu", [](auto& in) { return gelu(in[0]); }}, {"silu", [](auto& in) { return silu(in[0]); }},
  };
  for (DType dt : {DType::Float32, DType::Float64})
    for (auto& [name, f] : unary)
      for (const Shape& s : test::kAwkwardShapes) {
        double tol = test::parity_tolerance(dt, 2e-6);
        check_parity(name, f, {cpu_input(s, true, 1.0, dt)}, tol, tol);
      }
  std::vector<std::pair<const char*, Fn>> binary = {
      {"add", [](auto& in) { return add(in[0], in[1]); }},
      {"sub", [](auto& in) { return sub(in[0], in[1]); }},
      {"div", [](auto& in) { return div(in[0], add(mul(in[1], in[1]), 0.5)); }},
  };
  for (auto& [name, f] : binary) {
    check_parity(name, f, {cpu_input({64, 256}), cpu_input({256})}, 2e-6, 1e-5);          // a bias: float4s
    check_parity(name, f, {cpu_input({37, 19}), cpu_input({19})}, 2e-6, 1e-5);            // odd period
    check_parity(name, f, {cpu_input({19}), cpu_input({37, 19})}, 2e-6, 1e-5);            // the first operand repeats
    check_parity(name, f, {cpu_input({4, 6, 32}), cpu_input({6, 32})}, 2e-6, 1e-5);       // positions over a batch
    check_parity(name, f, {cpu_input({4, 1, 6, 5}), cpu_input({1, 6, 5})}, 2e-6, 1e-5);   // dims of size 1
    auto f64 = [](const Shape& s) { return cpu_input(s, true, 1.0, DType::Float64); };
    check_parity(name, f, {f64({37, 19}), f64({19})}, 1e-12, 1e-12);
  }
  allow_unverified_cuda_kernels(false);
}

namespace {
using UnaryFn = std::function<Tensor(const Tensor&)>;
using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;

// The ops of the bfloat16 tests; log, sqrt and pow get inputs in [0.5, 4.5).
const std::vector<std::pair<const char*, UnaryFn>> kBfloat16Unary = {
    {"exp", [](const Tensor& x) { return exp(x); }},          {"tanh", [](const Tensor& x) { return tanh(x); }},
    {"gelu", [](const Tensor& x) { return gelu(x); }},        {"relu", [](const Tensor& x) { return relu(x); }},
    {"neg", [](const Tensor& x) { return neg(x); }},          {"add 0.5", [](const Tensor& x) { return add(x, 0.5); }},
    {"mul 3", [](const Tensor& x) { return mul(x, 3.0); }},   {"log", [](const Tensor& x) { return log(x); }},
    {"sqrt", [](const Tensor& x) { return sqrt(x); }},        {"pow 1.5", [](const Tensor& x) { return pow(x, 1.5); }},
    {"silu", [](const Tensor& x) { return silu(x); }},
};
const std::vector<std::pair<const char*, BinaryFn>> kBfloat16Binary = {
    {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
    {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
    {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
    {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
};
bool needs_positive(const std::string& name) { return name == "log" || name == "sqrt" || name == "pow 1.5"; }
Tensor bfloat16_input(const Shape& shape, bool positive) {
  Tensor x = positive ? add(mul(Tensor::rand(shape), 4.0), 0.5) : Tensor::randn(shape);
  return x.to(DType::BFloat16);
}
// Operand pairs: same shape (3 x 700 = 2100 elements: four vector_math blocks and a short one), a
// broadcast row, both broadcast, a transposed (strided) operand; the second operand in [0.5, 4.5).
std::vector<std::pair<Tensor, Tensor>> bfloat16_operands() {
  return {{bfloat16_input({3, 700}, false), bfloat16_input({3, 700}, true)},
          {bfloat16_input({64, 256}, false), bfloat16_input({256}, true)},
          {bfloat16_input({5, 1, 7}, false), bfloat16_input({3, 1}, true)},
          {bfloat16_input({19, 37}, false).transpose(0, 1), bfloat16_input({37, 19}, true)}};
}
}  // namespace

TEST_CASE("bfloat16 unary and binary kernels: float32 math rounded once (across blocks, broadcast, strided)",
          "[elementwise][bfloat16]") {
  for (auto& [name, f] : kBfloat16Unary) {
    INFO(name);
    Tensor x = bfloat16_input({3, 700}, needs_positive(name));
    Tensor y = f(x);
    REQUIRE(y.dtype() == DType::BFloat16);
    REQUIRE(bits_of(y) == bits_of(f(x.to(DType::Float32)).to(DType::BFloat16)));
  }
  for (auto& [name, f] : kBfloat16Binary)
    for (auto& [a, b] : bfloat16_operands()) {
      INFO(name << " " << shape_str(a.shape()) << " " << shape_str(b.shape()));
      REQUIRE(bits_of(f(a, b)) == bits_of(f(a.to(DType::Float32), b.to(DType::Float32)).to(DType::BFloat16)));
    }
}

TEST_CASE("cuda: bfloat16 unary and binary kernels against the CPU's", "[cuda][parity][bfloat16]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);  // the bfloat16 kernels have not run on a GPU yet
  // add, sub, mul, div, neg, relu and the scalar ops round the same float32 value: the same bits.
  // exp, tanh, gelu, log, sqrt, pow, silu: CUDA's float32 functions against SLEEF's differ by a few float32
  // ulps, so the rounded results by at most one bfloat16 step (2^-7 relative to the larger).
  for (auto& [name, f] : kBfloat16Unary) {
    INFO(name);
    Tensor x = bfloat16_input({3, 700}, needs_positive(name));
    Tensor cpu = f(x), gpu = f(x.to(Device::cuda()));
    REQUIRE(gpu.dtype() == DType::BFloat16);
    if (std::set<std::string>{"neg", "relu", "add 0.5", "mul 3"}.count(name)) REQUIRE(bits_of(gpu.to(Device::cpu())) == bits_of(cpu));
    else REQUIRE(test::max_relative_error(gpu.to(Device::cpu()), cpu) <= std::ldexp(1.0, -7));
  }
  for (auto& [name, f] : kBfloat16Binary)
    for (auto& [a, b] : bfloat16_operands()) {
      INFO(name << " " << shape_str(a.shape()) << " " << shape_str(b.shape()));
      REQUIRE(bits_of(f(a.to(Device::cuda()), b.to(Device::cuda())).to(Device::cpu())) == bits_of(f(a, b)));
    }
  allow_unverified_cuda_kernels(false);
}
