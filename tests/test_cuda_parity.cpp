// CUDA against the CPU backend, op by op, forward and backward, on fresh random float32 inputs of
// awkward sizes (odd rows and columns, sizes that do not fill a block, rows too long for the
// register path, batch of 1). Skips with a message where no GPU is visible.
//
// Tolerances, as relative errors max|gpu - cpu| / max|cpu|: 2e-6 for elementwise math (the GPU's
// tanhf/expf are within 2 ulp); 1e-5 for row reductions inside fused kernels (softmax, norms: the
// CPU sums in double, the GPU in float over at most a few thousand terms of similar size; sum/mean
// accumulate in double on both); 2e-3 for matmuls in TF32 (10-bit mantissa inputs).
#include "core/autograd/engine.h"
#include "core/autograd/grad_mode.h"
#include "core/ops/optimizer_ops.h"
#include "helpers.h"
#include "kernels/memory.h"

using namespace dytgrad;
using Fn = TensorFunction;

namespace {

#define REQUIRE_GPU()                                                          \
  if (!cuda_is_available()) {                                                  \
    WARN("no CUDA device visible: skipping " << Catch::getResultCapture().getCurrentTestName()); \
    return;                                                                    \
  }

Tensor cpu_input(const Shape& shape, bool requires_grad = true, double scale = 1.0) {
  Tensor t = mul(Tensor::randn(shape), scale).detach();
  if (requires_grad) t.requires_grad_();
  return t;
}

// Runs f on the CPU inputs and on copies of them on the GPU; compares outputs and the gradients of
// every input that requires grad, for the same random upstream gradient. gradient_floor: see
// max_relative_error (for gradients that are zero up to rounding).
void check_parity(const char* name, const Fn& f, const std::vector<Tensor>& cpu, double tol_forward,
                  double tol_backward, double gradient_floor = 1e-30) {
  INFO(name);
  std::vector<Tensor> gpu;
  std::vector<Tensor> cpu_wrt, gpu_wrt;
  for (const Tensor& t : cpu) {
    Tensor g = t.detach().to(Device::cuda());
    if (t.requires_grad()) {
      g.requires_grad_();
      cpu_wrt.push_back(t);
      gpu_wrt.push_back(g);
    }
    gpu.push_back(g);
  }
  Tensor y_cpu = f(cpu), y_gpu = f(gpu);
  REQUIRE(y_gpu.device().is_cuda());
  REQUIRE(y_gpu.shape() == y_cpu.shape());
  CHECK_CLOSE(y_gpu, y_cpu, tol_forward);
  if (cpu_wrt.empty()) return;
  Tensor upstream = Tensor::randn(y_cpu.shape());
  auto g_cpu = grad({y_cpu}, cpu_wrt, {upstream});
  auto g_gpu = grad({y_gpu}, gpu_wrt, {upstream.to(Device::cuda())});
  for (size_t i = 0; i < g_cpu.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(g_gpu[i].defined() == g_cpu[i].defined());
    if (g_cpu[i].defined()) CHECK_CLOSE(g_gpu[i], g_cpu[i], tol_backward, gradient_floor);
  }
}

const std::vector<Shape> kAwkwardShapes = {{1, 1}, {37, 19}, {3, 5, 7}, {64, 256}, {33, 1024}, {5, 9000}};

}  // namespace

TEST_CASE("cuda: random numbers match the CPU for the same seed", "[cuda]") {
  REQUIRE_GPU();
  Generator a(11), b(11);
  REQUIRE_CLOSE(Tensor::randn({1001}, DType::Float32, Device::cuda(), &a), Tensor::randn({1001}, DType::Float32, Device::cpu(), &b), 1e-6);
  REQUIRE(Tensor::rand({513}, DType::Float64, Device::cuda(), &a).to_vector<double>() ==
          Tensor::rand({513}, DType::Float64, Device::cpu(), &b).to_vector<double>());
  REQUIRE(Tensor::randint(0, 97, {777}, Device::cuda(), &a).to_vector<int64_t>() ==
          Tensor::randint(0, 97, {777}, Device::cpu(), &b).to_vector<int64_t>());
  Generator c(3), d(3);
  Tensor x = Tensor::ones({4097});
  REQUIRE(dropout(x.to(Device::cuda()), 0.25, true, &c).to_vector<float>() == dropout(x, 0.25, true, &d).to_vector<float>());
}

TEST_CASE("cuda: creation, copies, views and printing", "[cuda]") {
  REQUIRE_GPU();
  Tensor x = Tensor::randn({7, 5});
  Tensor g = x.to(Device::cuda());
  REQUIRE(g.device() == Device::cuda());
  REQUIRE(g.to(Device::cpu()).to_vector<float>() == x.to_vector<float>());
  REQUIRE(g.transpose(0, 1).contiguous().to_vector<float>() == x.transpose(0, 1).contiguous().to_vector<float>());
  REQUIRE(g.narrow(1, 1, 3).to(DType::Float64).to_vector<double>() == x.narrow(1, 1, 3).to(DType::Float64).to_vector<double>());
  REQUIRE(Tensor::arange(0, 10, 1, DType::Int64, Device::cuda()).to_vector<int64_t>()[9] == 9);
  REQUIRE(Tensor::full({3}, 2.5, DType::Float32, Device::cuda()).to_vector<float>() == std::vector<float>(3, 2.5f));
  REQUIRE(g.str().find("device=cuda:0") != std::string::npos);
}

TEST_CASE("cuda: elementwise ops forward and backward", "[cuda][parity]") {
  REQUIRE_GPU();
  std::vector<std::pair<const char*, Fn>> unary = {
      {"exp", [](auto& in) { return exp(in[0]); }},   {"tanh", [](auto& in) { return tanh(in[0]); }},
      {"gelu", [](auto& in) { return gelu(in[0]); }}, {"relu", [](auto& in) { return relu(in[0]); }},
      {"neg", [](auto& in) { return neg(in[0]); }},   {"scalar ops", [](auto& in) { return mul(add(in[0], 0.5), 3.0); }},
      {"log", [](auto& in) { return log(add(mul(in[0], in[0]), 0.1)); }},
      {"sqrt", [](auto& in) { return sqrt(add(mul(in[0], in[0]), 0.1)); }},
      {"pow", [](auto& in) { return pow(add(mul(in[0], in[0]), 0.1), 1.5); }},
  };
  for (auto& [name, f] : unary)
    for (const Shape& s : kAwkwardShapes) check_parity(name, f, {cpu_input(s)}, 2e-6, 2e-6);
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
  }
  Tensor mask = gt(Tensor::randn({37, 19}), Tensor::zeros({}));
  Fn w = [mask](auto& in) { return where(mask.to(in[0].device()), in[0], in[1]); };
  check_parity("where", w, {cpu_input({37, 19}), cpu_input({19})}, 0, 1e-5);
  Fn mf = [mask](auto& in) { return masked_fill(in[0], mask.to(in[0].device()), -2.0); };
  check_parity("masked_fill", mf, {cpu_input({37, 19})}, 0, 0);
}

TEST_CASE("cuda: reductions forward and backward", "[cuda][parity][shared_memory]") {
  REQUIRE_GPU();
  std::vector<std::pair<const char*, Fn>> ops = {
      {"sum all", [](auto& in) { return sum(in[0]); }},
      {"sum last", [](auto& in) { return sum(in[0], {-1}); }},
      {"sum first keepdim", [](auto& in) { return sum(in[0], {0}, true); }},
      {"mean last", [](auto& in) { return mean(in[0], {-1}); }},
      {"max last", [](auto& in) { return max(in[0], -1).values; }},
      {"max first", [](auto& in) { return max(in[0], 0).values; }},
  };
  for (auto& [name, f] : ops)
    for (const Shape& s : kAwkwardShapes) check_parity(name, f, {cpu_input(s)}, 1e-5, 1e-5);
  // The bias-gradient shape: many rows summed into a few hundred columns (the tiled column kernel).
  Fn bias_sum = [](auto& in) { return sum(in[0], {0, 1}); };
  check_parity("sum over leading dims", bias_sum, {cpu_input({3, 700, 97})}, 1e-5, 1e-5);
  Tensor x = Tensor::randn({33, 1024});
  REQUIRE(max(x.to(Device::cuda()), 1).indices.to_vector<int64_t>() == max(x, 1).indices.to_vector<int64_t>());
}

TEST_CASE("cuda: matmul through cuBLAS, TF32 and strict fp32", "[cuda][parity]") {
  REQUIRE_GPU();
  Fn mm = [](auto& in) { return matmul(in[0], in[1]); };
  Fn mtm = [](auto& in) { return matmul(in[0].transpose(-1, -2), in[1]); };
  check_parity("2-D", mm, {cpu_input({37, 19}), cpu_input({19, 41})}, 2e-3, 2e-3);
  check_parity("batched", mm, {cpu_input({3, 17, 8}), cpu_input({3, 8, 9})}, 2e-3, 2e-3);
  check_parity("broadcast batch", mm, {cpu_input({2, 1, 5, 8}), cpu_input({3, 8, 4})}, 2e-3, 2e-3);
  check_parity("transposed", mtm, {cpu_input({1, 64, 33}), cpu_input({1, 64, 31})}, 2e-3, 2e-3);
  kernels::cuda::set_tf32(false);
  check_parity("strict fp32", mm, {cpu_input({37, 200}), cpu_input({200, 41})}, 1e-5, 1e-5);
  kernels::cuda::set_tf32(true);
}

TEST_CASE("cuda: shape ops, embedding, dropout", "[cuda][parity]") {
  REQUIRE_GPU();
  Fn cat = [](auto& in) { return concat({in[0], in[1]}, 1); };
  check_parity("concat", cat, {cpu_input({5, 3}), cpu_input({5, 4})}, 0, 0);
  Fn stk = [](auto& in) { return stack({in[0], in[1]}, 0); };
  check_parity("stack", stk, {cpu_input({5, 3}), cpu_input({5, 3})}, 0, 0);
  Fn spl = [](auto& in) { return mul(split(in[0], 3, 1)[1], 2.0); };
  check_parity("split", spl, {cpu_input({4, 8})}, 0, 0);
  Tensor idx = Tensor::randint(0, 50, {7, 13});
  Fn emb = [idx](auto& in) { return embedding(in[0], idx.to(in[0].device())); };
  check_parity("embedding", emb, {cpu_input({50, 33})}, 0, 1e-5);
  // Deterministic backward: the same bits twice.
  Tensor w = Tensor::randn({50, 33}).to(Device::cuda()).requires_grad_();
  Tensor up = Tensor::randn({7, 13, 33}).to(Device::cuda());
  auto g1 = grad({embedding(w, idx.to(Device::cuda()))}, {w}, {up})[0].to_vector<float>();
  auto g2 = grad({embedding(w, idx.to(Device::cuda()))}, {w}, {up})[0].to_vector<float>();
  REQUIRE(g1 == g2);
  Fn drop = [](auto& in) {
    Generator g(21);
    return dropout(in[0], 0.3, true, &g);
  };
  check_parity("dropout", drop, {cpu_input({37, 19})}, 0, 0);
}

TEST_CASE("cuda: softmax, log_softmax, cross_entropy", "[cuda][parity][shared_memory]") {
  REQUIRE_GPU();
  Fn sm = [](auto& in) { return softmax(in[0], -1); };
  Fn lsm = [](auto& in) { return log_softmax(in[0], -1); };
  Fn sm0 = [](auto& in) { return softmax(in[0], 0); };
  for (const Shape& s : kAwkwardShapes) {
    check_parity("softmax", sm, {cpu_input(s, true, 3.0)}, 1e-5, 1e-5);
    check_parity("log_softmax", lsm, {cpu_input(s, true, 3.0)}, 1e-5, 1e-5);
    check_parity("softmax dim 0", sm0, {cpu_input(s)}, 1e-5, 1e-5);
  }
  for (int64_t classes : {1, 7, 1024, 5003}) {
    Tensor t = Tensor::randint(0, classes, {37});
    Fn ce = [t](auto& in) { return cross_entropy(in[0], t.to(in[0].device())); };
    check_parity("cross_entropy", ce, {cpu_input({37, classes}, true, 2.0)}, 1e-5, 1e-5);
  }
  Tensor ti = Tensor::from_vector<int64_t>({3, -100, 0, -100, 6}, {5});
  Fn ce_ignore = [ti](auto& in) { return cross_entropy(in[0], ti.to(in[0].device())); };
  check_parity("cross_entropy ignore_index", ce_ignore, {cpu_input({5, 7})}, 1e-5, 1e-5);
  REQUIRE_THROWS_WITH(cross_entropy(Tensor::randn({3, 4}).to(Device::cuda()), Tensor::from_vector<int64_t>({0, 9, 1}, {3}, Device::cuda())),
                      Catch::Contains("target 9 at position 1"));
}

TEST_CASE("cuda: dyt, layer_norm, rms_norm (vectorised and generic paths)", "[cuda][parity][shared_memory]") {
  REQUIRE_GPU();
  Fn d = [](auto& in) { return dyt(in[0], in[1], in[2], in[3]); };
  Fn ln = [](auto& in) { return layer_norm(in[0], in[1], in[2], 1e-5); };
  Fn rms = [](auto& in) { return rms_norm(in[0], in[1], 1e-6); };
  for (Shape s : std::vector<Shape>{{1, 4}, {37, 19}, {3, 5, 7}, {64, 256}, {33, 1024}, {7, 4100}, {5, 9000}, {301, 768}}) {
    int64_t c = s.back();
    INFO("shape " << shape_str(s));
    check_parity("dyt", d, {cpu_input(s), cpu_input({1}), cpu_input({c}), cpu_input({c})}, 2e-6, 1e-5);
    check_parity("layer_norm", ln, {cpu_input(s, true, 2.0), cpu_input({c}), cpu_input({c})}, 1e-5, 1e-5);
    check_parity("rms_norm", rms, {cpu_input(s, true, 2.0), cpu_input({c})}, 1e-5, 1e-5);
  }
  // Deterministic parameter gradients: the same bits twice.
  Tensor x = Tensor::randn({301, 768}).to(Device::cuda());
  Tensor a = Tensor::full({1}, 0.5, DType::Float32, Device::cuda()).requires_grad_();
  Tensor g = Tensor::randn({768}).to(Device::cuda()).requires_grad_(), b = Tensor::randn({768}).to(Device::cuda()).requires_grad_();
  Tensor up = Tensor::randn({301, 768}).to(Device::cuda());
  auto r1 = grad({dyt(x, a, g, b)}, {a, g, b}, {up}), r2 = grad({dyt(x, a, g, b)}, {a, g, b}, {up});
  for (int i = 0; i < 3; ++i) REQUIRE(r1[i].to_vector<float>() == r2[i].to_vector<float>());
}

TEST_CASE("cuda: add_dyt, add then dyt (the default) and the fused kernel", "[cuda][parity]") {
  REQUIRE_GPU();
  Fn both = [](auto& in) {
    auto [sum, out] = add_dyt(in[0], in[1], in[2], in[3], in[4]);
    return add(mul(sum, 0.3), out);
  };
  for (bool fused : {false, true}) {
    set_cuda_add_dyt_kernel(fused);
    for (Shape s : std::vector<Shape>{{1, 4}, {37, 19}, {3, 5, 7}, {301, 768}}) {
      int64_t c = s.back();
      INFO("fused " << fused << " shape " << shape_str(s));
      check_parity("add_dyt", both, {cpu_input(s), cpu_input(s), cpu_input({1}), cpu_input({c}), cpu_input({c})}, 2e-6, 1e-5);
    }
  }
  set_cuda_add_dyt_kernel(false);
}

TEST_CASE("cuda: erf and derf (kernels not yet run on a GPU, off by default)", "[cuda][parity]") {
  REQUIRE_GPU();
  REQUIRE_THROWS_WITH(erf(Tensor::randn({3}).to(Device::cuda())), Catch::Contains("has not been run on a GPU yet"));
  allow_unverified_cuda_kernels(true);
  Fn e = [](auto& in) { return erf(in[0]); };
  Fn d = [](auto& in) { return derf(in[0], in[1], in[2], in[3], in[4]); };
  for (Shape s : std::vector<Shape>{{1, 4}, {37, 19}, {3, 5, 7}, {301, 768}, {5, 9000}}) {
    int64_t c = s.back();
    INFO("shape " << shape_str(s));
    check_parity("erf", e, {cpu_input(s)}, 2e-6, 2e-6);
    check_parity("derf", d, {cpu_input(s), cpu_input({1}), cpu_input({1}), cpu_input({c}), cpu_input({c})}, 2e-6, 1e-5);
  }
  allow_unverified_cuda_kernels(false);
}

TEST_CASE("cuda: attention, causal and not, head dims 32, 64, 128", "[cuda][parity][shared_memory]") {
  REQUIRE_GPU();
  for (bool causal : {false, true})
    for (int64_t d : {32, 64, 128})
      for (int64_t t : {1, 17, 129}) {
        INFO("causal " << causal << " d " << d << " t " << t);
        Fn f = [causal](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal); };
        // With one key the softmax is constant: dq and dk are zero up to rounding, so they are
        // measured against the scale of the inputs (1) instead of their own.
        double floor = t == 1 ? 1.0 : 1e-30;
        check_parity("attention", f, {cpu_input({1, 2, t, d}), cpu_input({1, 2, t, d}), cpu_input({1, 2, t, d})}, 1e-5, 1e-5, floor);
      }
  Fn cross = [](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], false); };
  check_parity("attention, more keys than queries", cross, {cpu_input({3, 70, 64}), cpu_input({3, 150, 64}), cpu_input({3, 150, 64})}, 1e-5, 1e-5);
  Fn odd = [](auto& in) { return scaled_dot_product_attention(in[0], in[1], in[2], true); };
  check_parity("attention, head dim 48 (fallback kernel)", odd, {cpu_input({2, 33, 48}), cpu_input({2, 33, 48}), cpu_input({2, 33, 48})}, 1e-5, 1e-5);
}

TEST_CASE("cuda: the caching allocator stops calling cudaMalloc in a steady loop", "[cuda][allocator]") {
  REQUIRE_GPU();
  Tensor w = Tensor::randn({256, 256}).to(Device::cuda()).requires_grad_();
  auto step = [&] {
    Tensor x = Tensor::randn({64, 256}, DType::Float32, Device::cuda());
    Tensor loss = sum(tanh(matmul(x, w)));
    w.zero_grad();
    loss.backward();
  };
  for (int i = 0; i < 3; ++i) step();
  int64_t before = kernels::cuda::allocator_stats().device_malloc_calls;
  for (int i = 0; i < 20; ++i) step();
  auto stats = kernels::cuda::allocator_stats();
  REQUIRE(stats.device_malloc_calls == before);
  REQUIRE(stats.peak_allocated_bytes >= stats.allocated_bytes);
  REQUIRE(stats.cached_bytes > 0);
}

TEST_CASE("cuda: fused AdamW over many tensors matches the CPU", "[cuda][parity]") {
  REQUIRE_GPU();
  // 100 tensors of awkward sizes: three launches, chunks that do not fill a block.
  std::vector<AdamWParam> cpu, gpu;
  for (int i = 0; i < 100; ++i) {
    Shape s = {1 + (i * 37) % 5000};
    Tensor p = Tensor::randn(s), g = Tensor::randn(s), m = mul(Tensor::randn(s), 0.1), v = mul(Tensor::rand(s), 0.01);
    double wd = i % 3 == 0 ? 0.0 : 0.1;
    cpu.push_back({p.clone(), g.clone(), m.clone(), v.clone(), wd});
    gpu.push_back({p.to(Device::cuda()), g.to(Device::cuda()), m.to(Device::cuda()), v.to(Device::cuda()), wd});
  }
  AdamWOptions o;
  o.lr = 3e-3;
  for (int step = 1; step <= 3; ++step) {
    adamw_step(cpu, o, step);
    adamw_step(gpu, o, step);
  }
  for (int i = 0; i < 100; ++i) {
    INFO("tensor " << i);
    CHECK_CLOSE(gpu[i].param, cpu[i].param, 1e-6);
    CHECK_CLOSE(gpu[i].exp_avg_sq, cpu[i].exp_avg_sq, 1e-6);
  }
}
