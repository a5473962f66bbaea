// scaled_dot_product_attention and self_attention: forward against the materialised float64
// formula, gradients and second derivatives, tiles past the CPU kernel's, CUDA parity, bad shapes.
#include <limits>

#include "kernels/memory.h"
#include "op_tests.h"

namespace {
Tensor attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  int64_t tq = q.size(-2), tk = k.size(-2);
  Tensor s = mul(matmul(q, k.transpose(-1, -2)), 1.0 / std::sqrt(double(q.size(-1))));
  if (causal) {
    auto mask = std::vector<bool>(size_t(tq * tk));
    for (int64_t i = 0; i < tq; ++i)
      for (int64_t j = 0; j < tk; ++j) mask[size_t(i * tk + j)] = j > i;
    s = masked_fill(s, Tensor::from_vector<bool>(mask, {tq, tk}), -std::numeric_limits<double>::infinity());
  }
  return matmul(softmax(s, -1), v);
}
}  // namespace

TEST_CASE("attention forward matches softmax(q k^T / sqrt(d)) v", "[attention]") {
  for (bool causal : {false, true}) {
    INFO("causal " << causal);
    Tensor q = Tensor::randn({2, 3, 7, 8}, DType::Float64), k = Tensor::randn({2, 3, 7, 8}, DType::Float64),
           v = Tensor::randn({2, 3, 7, 8}, DType::Float64);
    REQUIRE_CLOSE(scaled_dot_product_attention(q, k, v, causal), attention_reference(q, k, v, causal), 1e-13);
    auto f32 = [](const Tensor& t) { return t.to(DType::Float32); };
    REQUIRE_CLOSE(scaled_dot_product_attention(f32(q), f32(k), f32(v), causal), attention_reference(q, k, v, causal), 1e-5);
  }
  Tensor q = Tensor::randn({1, 3, 4}, DType::Float64), k = Tensor::randn({1, 6, 4}, DType::Float64);
  Tensor v = Tensor::randn({1, 6, 4}, DType::Float64);  // more keys than queries
  REQUIRE_CLOSE(scaled_dot_product_attention(q, k, v, false), attention_reference(q, k, v, false), 1e-13);
}

TEST_CASE("attention gradients (fused backward) and second derivatives", "[attention][gradcheck]") {
  for (bool causal : {false, true}) {
    INFO("causal " << causal);
    Fn f = [causal](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal); };
    REQUIRE_GRADCHECK(f, leaf({2, 5, 4}), leaf({2, 5, 4}), leaf({2, 5, 4}));
    REQUIRE_GRADCHECK(f, strided_leaf({4, 5, 2}).permute({2, 1, 0}), leaf({2, 5, 4}), leaf({2, 5, 4}));
    REQUIRE_GRADGRADCHECK(f, leaf({1, 3, 2}), leaf({1, 3, 2}), leaf({1, 3, 2}));
  }
}

TEST_CASE("attention over several tiles: forward and gradients match the materialised formula", "[attention]") {
  // Lengths past the CPU kernel's 64-row tiles, not multiples of them, and more keys than queries:
  // partial tiles, causal tiles that cross the diagonal, tiles skipped above it.
  struct Case { int64_t tq, tk; bool causal; };
  for (Case c : {Case{150, 150, true}, Case{150, 150, false}, Case{70, 130, false}, Case{65, 129, true}}) {
    INFO("tq " << c.tq << " tk " << c.tk << " causal " << c.causal);
    Tensor q = test::leaf({2, c.tq, 12}), k = test::leaf({2, c.tk, 12}), v = test::leaf({2, c.tk, 12});
    Tensor dout = Tensor::randn({2, c.tq, 12}, DType::Float64);
    auto grads_of = [&](const Tensor& out, const std::vector<Tensor>& in) { return grad({sum(mul(out, dout))}, in); };
    Tensor expected = attention_reference(q, k, v, c.causal);
    auto expected_grads = grads_of(expected, {q, k, v});
    Tensor got = scaled_dot_product_attention(q, k, v, c.causal);
    REQUIRE_CLOSE(got, expected, 1e-13);
    auto got_grads = grads_of(got, {q, k, v});
    for (int i = 0; i < 3; ++i) REQUIRE_CLOSE(got_grads[size_t(i)], expected_grads[size_t(i)], 1e-13);
    // float32 against the float64 formula
    auto f32 = [](const Tensor& t) { return t.detach().to(DType::Float32).requires_grad_(); };
    Tensor q32 = f32(q), k32 = f32(k), v32 = f32(v);
    Tensor got32 = scaled_dot_product_attention(q32, k32, v32, c.causal);
    REQUIRE_CLOSE(got32, expected, 3e-6);
    auto grads32 = grad({sum(mul(got32, dout.to(DType::Float32)))}, {q32, k32, v32});
    for (int i = 0; i < 3; ++i) REQUIRE_CLOSE(grads32[size_t(i)], expected_grads[size_t(i)], 3e-6);
  }
}

TEST_CASE("self_attention on packed qkv equals split + attention per head + merge", "[attention]") {
  // The reference: the same composition a model would write, through scaled_dot_product_attention.
  auto reference = [](const Tensor& qkv, int64_t heads, bool causal) {
    int64_t b = qkv.size(0), t = qkv.size(1), w = qkv.size(2) / 3;
    auto parts = split(qkv, w, 2);
    auto apart = [&](const Tensor& p) { return p.reshape({b, t, heads, w / heads}).transpose(1, 2); };
    return scaled_dot_product_attention(apart(parts[0]), apart(parts[1]), apart(parts[2]), causal)
        .transpose(1, 2)
        .reshape({b, t, w});
  };
  struct Case { int64_t batch, time, heads, d; bool causal; };
  for (Case c : {Case{2, 150, 3, 8, true}, Case{3, 70, 2, 5, false}, Case{1, 1, 1, 4, true}}) {
    INFO("batch " << c.batch << " time " << c.time << " heads " << c.heads << " d " << c.d << " causal " << c.causal);
    Tensor qkv = leaf({c.batch, c.time, 3 * c.heads * c.d});
    Tensor dout = Tensor::randn({c.batch, c.time, c.heads * c.d}, DType::Float64);
    Tensor expected = reference(qkv, c.heads, c.causal), got = self_attention(qkv, c.heads, c.causal);
    REQUIRE_CLOSE(got, expected, 1e-13);
    REQUIRE_CLOSE(grad({got}, {qkv}, {dout})[0], grad({expected}, {qkv}, {dout})[0], 1e-13);
    Tensor qkv32 = qkv.detach().to(DType::Float32).requires_grad_();
    Tensor got32 = self_attention(qkv32, c.heads, c.causal);
    REQUIRE_CLOSE(got32, expected, 3e-6);
    REQUIRE_CLOSE(grad({got32}, {qkv32}, {dout.to(DType::Float32)})[0], grad({expected}, {qkv}, {dout})[0], 3e-6);
  }
  Fn f = [](auto& in) { return self_attention(in[0], 2, true); };
  REQUIRE_GRADCHECK(f, leaf({2, 5, 12}));
  REQUIRE_GRADCHECK(f, strided_leaf({12, 5, 2}).permute({2, 1, 0}));
  REQUIRE_GRADGRADCHECK(f, leaf({1, 3, 6}));
  REQUIRE_THROWS_WITH(self_attention(leaf({2, 5, 12}), 5, true), Catch::Contains("multiple of heads 5"));
  REQUIRE_THROWS_WITH(self_attention(leaf({5, 12}), 2, true), Catch::Contains("expected qkv [batch, time, 3 width]"));
}

TEST_CASE("attention: bad shapes are named", "[attention][errors]") {
  REQUIRE_THROWS_WITH(scaled_dot_product_attention(Tensor::randn({2, 4, 8}), Tensor::randn({2, 4, 6}),
                                                   Tensor::randn({2, 4, 6}), true),
                      Catch::Contains("scaled_dot_product_attention"));
}

TEST_CASE("attention on bfloat16: the float32 kernel's result rounded once, gradients within 1e-2 of float64",
          "[attention][bfloat16]") {
  for (bool causal : {false, true})
    for (int64_t tk : {int64_t(37), int64_t(90)}) {
      INFO("causal " << causal << " tk " << tk);
      auto bf16 = [](const Shape& s) { return Tensor::randn(s).to(DType::BFloat16).requires_grad_(); };
      Tensor q = bf16({2, 3, 37, 64}), k = bf16({2, 3, tk, 64}), v = bf16({2, 3, tk, 64});
      Tensor y = scaled_dot_product_attention(q, k, v, causal);
      REQUIRE(y.dtype() == DType::BFloat16);
      auto f32 = [](const Tensor& t) { return t.detach().to(DType::Float32); };
      REQUIRE(test::bits_of(y) == test::bits_of(scaled_dot_product_attention(f32(q), f32(k), f32(v), causal)
                                                    .to(DType::BFloat16)));
      // gradients against the float64 formula on the same (bfloat16) values and upstream gradient
      Tensor up = Tensor::randn(y.shape()).to(DType::BFloat16);
      auto got = grad({y}, {q, k, v}, {up});
      auto f64 = [](const Tensor& t) { return t.detach().to(DType::Float64).requires_grad_(); };
      Tensor q64 = f64(q), k64 = f64(k), v64 = f64(v);
      auto want = grad({attention_reference(q64, k64, v64, causal)}, {q64, k64, v64}, {up.to(DType::Float64)});
      for (int i = 0; i < 3; ++i) {
        REQUIRE(got[size_t(i)].dtype() == DType::BFloat16);
        REQUIRE_CLOSE(got[size_t(i)], want[size_t(i)], 1e-2);
      }
    }
}

TEST_CASE("cuda: attention, causal and not, head dims 32, 64, 128, float32 and float64", "[cuda][parity][shared_memory]") {
  if (!test::gpu_visible()) return;
  for (DType dt : {DType::Float32, DType::Float64})
  for (bool causal : {false, true})
    for (int64_t d : {32, 64, 128})
      for (int64_t t : {1, 17, 129}) {
        INFO("causal " << causal << " d " << d << " t " << t);
        double tol = test::parity_tolerance(dt, 1e-5);
        Fn f = [causal](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal); };
        // With one key the softmax is constant: dq and dk are zero up to rounding, so they are
        // measured against the scale of the inputs (1) instead of their own.
        double floor = t == 1 ? 1.0 : 1e-30;
        check_parity("attention", f, {cpu_input({1, 2, t, d}, true, 1.0, dt), cpu_input({1, 2, t, d}, true, 1.0, dt),
                                      cpu_input({1, 2, t, d}, true, 1.0, dt)}, tol, tol, {floor, floor, floor});
      }
  Fn cross = [](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], false); };
  check_parity("attention, more keys than queries", cross, {cpu_input({3, 70, 64}), cpu_input({3, 150, 64}), cpu_input({3, 150, 64})}, 1e-5, 1e-5);
  Fn odd = [](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], true); };
  check_parity("attention, head dim 48 (fallback kernel)", odd, {cpu_input({2, 33, 48}), cpu_input({2, 33, 48}), cpu_input({2, 33, 48})}, 1e-5, 1e-5);
}

TEST_CASE("cuda: attention as batched GEMMs on tensor cores, TF32 and strict fp32", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);  // the GEMM attention has not run on a GPU yet
  // TF32 rounds every GEMM operand to a 10-bit mantissa: simulated in double over these shapes (every
  // GEMM's operands rounded to nearest), out, dq, dk and dv stay within 1.1e-3 of the exact values
  // relative to their largest; hardware that truncates instead doubles that: 3e-3.
  for (bool tf32 : {true, false}) {
    kernels::cuda::set_tf32(tf32);
    double tol = tf32 ? 3e-3 : 1e-5;
    INFO((tf32 ? "TF32" : "strict fp32"));
    for (bool causal : {false, true})
      for (int64_t d : {32, 48, 64})
        for (int64_t t : {1, 17, 129, 256}) {
          INFO("causal " << causal << " d " << d << " t " << t);
          Fn f = [causal](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal); };
          double floor = t == 1 ? 1.0 : 1e-30;  // one key: dq and dk are zero up to rounding
          check_parity("attention", f, {cpu_input({2, 3, t, d}), cpu_input({2, 3, t, d}), cpu_input({2, 3, t, d})},
                       tol, tol, {floor, floor, floor});
        }
    Fn cross = [](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], false); };
    check_parity("attention, more keys than queries", cross,
                 {cpu_input({3, 70, 64}), cpu_input({3, 150, 64}), cpu_input({3, 150, 64})}, tol, tol);
    Fn packed = [](auto& in) { return self_attention(in[0], 4, true); };
    check_parity("self_attention, packed qkv", packed, {cpu_input({2, 100, 3 * 128})}, tol, tol);
  }
  kernels::cuda::set_tf32(true);
  allow_unverified_cuda_kernels(false);
}

TEST_CASE("cuda: bfloat16 attention as GEMMs on tensor cores against the CPU's", "[cuda][parity][bfloat16]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);  // the GEMM attention has not run on a GPU yet
  // Both sides compute in float32 from the same bfloat16 values; the GPU rounds P and dS to bfloat16
  // for the GEMMs that read them (2^-9 relative each), the CPU does not: 1e-2.
  auto bf16 = [](const Shape& s) { return cpu_input(s, false).to(DType::BFloat16).requires_grad_(); };
  for (bool causal : {false, true})
    for (int64_t t : {17, 129, 256}) {
      INFO("causal " << causal << " t " << t);
      Fn f = [causal](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal); };
      check_parity("attention, bfloat16", f, {bf16({2, 3, t, 64}), bf16({2, 3, t, 64}), bf16({2, 3, t, 64})}, 1e-2, 1e-2);
    }
  Fn cross = [](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], false); };
  check_parity("attention, bfloat16, more keys than queries", cross, {bf16({3, 70, 64}), bf16({3, 150, 64}), bf16({3, 150, 64})},
               1e-2, 1e-2);
  // self_attention on a packed bfloat16 qkv: bfloat16 copies and kernels on the GPU, float32 math on the CPU
  Fn packed = [](auto& in) { return self_attention(in[0], 4, true); };
  check_parity("self_attention, packed bfloat16 qkv", packed, {bf16({2, 100, 3 * 256})}, 1e-2, 1e-2);
  REQUIRE(self_attention(bf16({2, 9, 3 * 256}).to(Device::cuda()), 4, true).dtype() == DType::BFloat16);
  allow_unverified_cuda_kernels(false);
}
