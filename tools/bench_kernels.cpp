// Times dytgrad's CUDA kernels on named shapes, through the same op calls a user makes.
// Method: warm up, flush L2 (a 256 MiB memset) before every repeat, time each repeat with CUDA
// events, report the median. Each kernel gets its floor: bytes it must move over the device's
// copy bandwidth, or FLOPs over the cuBLAS rate (TF32, fp32 or bf16, as the row computes), all
// measured at the start of the same run.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/autograd/engine.h"
#include "core/autograd/grad_mode.h"
#include "core/ops/autocast.h"
#include "core/ops/ops.h"
#include "kernels/memory.h"
#include "kernels/norms.h"
#include "models/gpt.h"
#include "nn/captured_step.h"
#include "nn/optim.h"

#ifdef DYTGRAD_CUDA
#include <cuda_runtime.h>

using namespace dytgrad;

namespace {

struct Options {
  int warmup = 5, repeats = 30;
  std::string json_path;
  std::string only;
};

class Timer {
 public:
  explicit Timer(const Options& o) : o_(o) {
    cudaEventCreate(&start_);
    cudaEventCreate(&stop_);
    cudaMalloc(&flush_, kFlushBytes);
  }
  ~Timer() {
    cudaFree(flush_);
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  // Median milliseconds of fn over the repeats, L2 flushed before each.
  double median_ms(const std::function<void()>& fn) {
    for (int i = 0; i < o_.warmup; ++i) fn();
    cudaDeviceSynchronize();
    std::vector<float> times;
    for (int i = 0; i < o_.repeats; ++i) {
      cudaMemsetAsync(flush_, i & 0xff, kFlushBytes);
      cudaEventRecord(start_);
      fn();
      cudaEventRecord(stop_);
      cudaEventSynchronize(stop_);
      float ms = 0;
      cudaEventElapsedTime(&ms, start_, stop_);
      times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) throw std::runtime_error(std::string("CUDA error while timing: ") + cudaGetErrorString(err));
    return times[times.size() / 2];
  }

 private:
  static constexpr size_t kFlushBytes = size_t(256) << 20;
  const Options& o_;
  cudaEvent_t start_, stop_;
  void* flush_ = nullptr;
};

struct Row {
  std::string name, shape, what;
  double ms = 0, work = 0;   // work: bytes (memory-bound rows) or flops (compute-bound rows)
  bool flops = false;
  double floor_ms = 0;
};

Tensor randn_gpu(const Shape& s) { return Tensor::randn(s, DType::Float32, Device::cuda()); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time dytgrad's CUDA kernels against their floors (copy bandwidth, cuBLAS rate)"};
  Options o;
  app.add_option("--warmup", o.warmup, "untimed runs before timing")->check(CLI::NonNegativeNumber);
  app.add_option("--repeats", o.repeats, "timed runs; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--json", o.json_path, "also write the rows as JSON to this file");
  app.add_option("--only", o.only, "run only rows whose name contains this");
  CLI11_PARSE(app, argc, argv);
  if (!cuda_is_available()) {
    std::cerr << "bench_kernels: no CUDA device visible\n";
    return 1;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  Timer timer(o);
  NoGradGuard no_grad_by_default;

  // The two ceilings, measured here.
  Tensor big = randn_gpu({int64_t(1) << 28}), big_copy = Tensor::empty({int64_t(1) << 28}, DType::Float32, Device::cuda());
  double copy_ms = timer.median_ms([&] {
    cudaMemcpyAsync(big_copy.raw_data(), big.raw_data(), size_t(big.numel()) * 4, cudaMemcpyDeviceToDevice);
  });
  double copy_gbps = 2.0 * big.numel() * 4 / copy_ms / 1e6;
  big = big_copy = Tensor();
  Tensor ma = randn_gpu({8192, 8192}), mb = randn_gpu({8192, 8192});
  double mm_ms = timer.median_ms([&] { matmul(ma, mb); });
  double tf32_tflops = 2.0 * 8192.0 * 8192 * 8192 / mm_ms / 1e9;
  kernels::cuda::set_tf32(false);
  double mm32_ms = timer.median_ms([&] { matmul(ma, mb); });
  kernels::cuda::set_tf32(true);
  double fp32_tflops = 2.0 * 8192.0 * 8192 * 8192 / mm32_ms / 1e9;
  ma = ma.to(DType::BFloat16), mb = mb.to(DType::BFloat16);
  double mm16_ms = timer.median_ms([&] { matmul(ma, mb); });
  double bf16_tflops = 2.0 * 8192.0 * 8192 * 8192 / mm16_ms / 1e9;
  ma = mb = Tensor();
  std::cout << fmt::format("device: {}  copy {:.0f} GB/s  cuBLAS TF32 {:.1f} TFLOP/s  fp32 {:.1f} TFLOP/s  bf16 {:.1f} TFLOP/s\n",
                           prop.name, copy_gbps, tf32_tflops, fp32_tflops, bf16_tflops);

  std::vector<Row> rows;
  auto want = [&](const std::string& name) { return o.only.empty() || name.find(o.only) != std::string::npos; };
  auto bytes_row = [&](std::string name, std::string shape, std::string what, double bytes, const std::function<void()>& fn) {
    if (!want(name)) return;
    Row r{name, shape, what, timer.median_ms(fn), bytes, false, bytes / copy_gbps / 1e6};
    rows.push_back(r);
    std::cout << fmt::format("  {:<26} {:<20} {:>9.4f} ms\n", name, shape, r.ms) << std::flush;
  };
  // ceiling_tflops: the measured cuBLAS rate the row's floor is taken from
  auto flops_row = [&](std::string name, std::string shape, std::string what, double flops, double ceiling_tflops,
                       const std::function<void()>& fn) {
    if (!want(name)) return;
    Row r{name, shape, what, timer.median_ms(fn), flops, true, flops / ceiling_tflops / 1e9};
    rows.push_back(r);
    std::cout << fmt::format("  {:<26} {:<20} {:>9.4f} ms\n", name, shape, r.ms) << std::flush;
  };
  // forward + backward through autograd, as a user runs it: y = f(inputs); grad(y, inputs, dy)
  auto fwd_bwd = [](const std::function<Tensor()>& forward, const std::vector<Tensor>& inputs, const Tensor& dy) {
    GradModeGuard on(true);
    Tensor y = forward();
    grad({y}, inputs, {dy}, false, false);
  };

  for (auto [n, c] : std::vector<std::pair<int64_t, int64_t>>{{8192, 4096}, {16384, 768}}) {
    std::string shape = fmt::format("{}x{}", n, c);
    double pass = double(n) * c * 4;
    Tensor x = randn_gpu({n, c}), dy = randn_gpu({n, c});
    Tensor alpha = Tensor::full({1}, 0.5, DType::Float32, Device::cuda()).requires_grad_();
    Tensor gamma = randn_gpu({c}).requires_grad_(), beta = randn_gpu({c}).requires_grad_();
    Tensor xg = x.detach().requires_grad_();
    bytes_row("dyt forward", shape, "read x, write y", 2 * pass, [&] { dyt(x, alpha, gamma, beta); });
    bytes_row("dyt forward+backward", shape, "5 passes", 5 * pass,
              [&] { fwd_bwd([&] { return dyt(xg, alpha, gamma, beta); }, {xg, alpha, gamma, beta}, dy); });
    // The backward kernels alone, without autograd: what the engine adds is the difference.
    Tensor dx = Tensor::empty({n, c}, DType::Float32, Device::cuda()), da = Tensor::empty({1}, DType::Float32, Device::cuda());
    Tensor dg = Tensor::empty({c}, DType::Float32, Device::cuda()), db = Tensor::empty({c}, DType::Float32, Device::cuda());
    bytes_row("dyt backward kernel only", shape, "3 passes", 3 * pass, [&] {
      kernels::cuda::dyt_backward(x.data<float>(), alpha.data<float>(), gamma.data<float>(), dy.data<float>(),
                                  dx.data<float>(), da.data<float>(), dg.data<float>(), db.data<float>(), n, c);
    });
    // The residual add + DyT: add then dyt, and the fused add_dyt kernel.
    Tensor residual = randn_gpu({n, c});
    bytes_row("add + dyt forward", shape, "add, then dyt: 5 passes", 5 * pass, [&] { dyt(add(x, residual), alpha, gamma, beta); });
    bytes_row("add_dyt forward (fused)", shape, "read x, y, write sum, out", 4 * pass,
              [&] { add_dyt(x, residual, alpha, gamma, beta); });
    residual = Tensor();
    // Derf, DyT's erf-based successor.
    Tensor shift = Tensor::full({1}, 0.1, DType::Float32, Device::cuda()).requires_grad_();
    bytes_row("derf forward", shape, "read x, write y", 2 * pass, [&] { derf(x, alpha, shift, gamma, beta); });
    bytes_row("derf forward+backward", shape, "5 passes", 5 * pass,
              [&] { fwd_bwd([&] { return derf(xg, alpha, shift, gamma, beta); }, {xg, alpha, shift, gamma, beta}, dy); });
    bytes_row("layer_norm forward", shape, "read x, write y", 2 * pass, [&] { layer_norm(x, gamma, beta); });
    bytes_row("layer_norm forward+backward", shape, "5 passes", 5 * pass,
              [&] { fwd_bwd([&] { return layer_norm(xg, gamma, beta); }, {xg, gamma, beta}, dy); });
    bytes_row("rms_norm forward", shape, "read x, write y", 2 * pass, [&] { rms_norm(x, gamma); });
    bytes_row("rms_norm forward+backward", shape, "5 passes", 5 * pass,
              [&] { fwd_bwd([&] { return rms_norm(xg, gamma); }, {xg, gamma}, dy); });
  }
  {
    int64_t n = 8 * 12 * 1024, c = 1024;
    double pass = double(n) * c * 4;
    Tensor x = randn_gpu({n, c}), dy = randn_gpu({n, c});
    Tensor xg = x.detach().requires_grad_();
    bytes_row("softmax forward", "98304x1024", "read x, write y", 2 * pass, [&] { softmax(x, -1); });
    Tensor y = softmax(x, -1);
    bytes_row("softmax forward+backward", "98304x1024", "5 passes", 5 * pass,
              [&] { fwd_bwd([&] { return softmax(xg, -1); }, {xg}, dy); });
  }
  {
    int64_t n = 16384, c = 50304;
    Tensor logits = randn_gpu({n, c}), targets = Tensor::randint(0, c, {n}, Device::cuda());
    Tensor lg = logits.detach().requires_grad_();
    double pass = double(n) * c * 4;
    bytes_row("cross_entropy forward", "16384x50304", "read logits", pass, [&] { cross_entropy(logits, targets); });
    bytes_row("cross_entropy forward+backward", "16384x50304", "3 passes", 3 * pass,
              [&] { fwd_bwd([&] { return cross_entropy(lg, targets); }, {lg}, Tensor::ones({}, DType::Float32, Device::cuda())); });
  }
  {
    int64_t b = 8, h = 12, t = 1024, d = 64;
    Tensor q = randn_gpu({b, h, t, d}), k = randn_gpu({b, h, t, d}), v = randn_gpu({b, h, t, d}), dout = randn_gpu({b, h, t, d});
    Tensor qg = q.detach().requires_grad_(), kg = k.detach().requires_grad_(), vg = v.detach().requires_grad_();
    double flops = 4.0 * b * h * t * t * d / 2;  // causal: half the score matrix
    flops_row("attention forward", "B8 H12 T1024 D64", "causal", flops, fp32_tflops, [&] { scaled_dot_product_attention(q, k, v, true); });
    flops_row("attention forward+backward", "B8 H12 T1024 D64", "causal, 3.5x fwd flops", 3.5 * flops, fp32_tflops,
              [&] { fwd_bwd([&] { return scaled_dot_product_attention(qg, kg, vg, true); }, {qg, kg, vg}, dout); });
  }

  {
    // bfloat16 (mixed precision): the GPT-2-size MLP's first GEMM, x [8192, 768] by W^T [768, 3072],
    // in TF32 and in bfloat16 (each against its own measured cuBLAS rate), and DyT on bfloat16
    // activations with float32 parameters under autocast, as mixed-precision training runs it
    // (its bfloat16-result kernel: 2-byte elements in and out).
    int64_t rows = 8192, in = 768, out = 3072;
    std::string shape = "8192x768 @ 768x3072";
    double flops = 2.0 * rows * in * out;
    Tensor x = randn_gpu({rows, in}), w = randn_gpu({out, in}), dy = randn_gpu({rows, out});
    flops_row("matmul forward tf32", shape, "x W^T", flops, tf32_tflops, [&] { matmul(x, w.transpose(0, 1)); });
    Tensor x16 = x.to(DType::BFloat16), w16 = w.to(DType::BFloat16), dy16 = dy.to(DType::BFloat16);
    Tensor x16g = x16.detach().requires_grad_(), w16g = w16.detach().requires_grad_();
    flops_row("matmul forward bf16", shape, "x W^T", flops, bf16_tflops, [&] { matmul(x16, w16.transpose(0, 1)); });
    flops_row("matmul forward+backward bf16", shape, "3 GEMMs", 3 * flops, bf16_tflops,
              [&] { fwd_bwd([&] { return matmul(x16g, w16g.transpose(0, 1)); }, {x16g, w16g}, dy16); });
  }
  for (auto [n, c] : std::vector<std::pair<int64_t, int64_t>>{{8192, 4096}, {16384, 768}}) {
    std::string shape = fmt::format("{}x{}", n, c);
    double pass = double(n) * c * 2;
    Tensor h = randn_gpu({n, c}).to(DType::BFloat16), dh = randn_gpu({n, c}).to(DType::BFloat16);
    Tensor hg = h.detach().requires_grad_(), y = Tensor::empty({n, c}, DType::BFloat16, Device::cuda());
    Tensor alpha = Tensor::full({1}, 0.5, DType::Float32, Device::cuda()).requires_grad_();
    Tensor gamma = randn_gpu({c}).requires_grad_(), beta = randn_gpu({c}).requires_grad_();
    AutocastGuard autocast;
    bytes_row("dyt forward bf16", shape, "read x, write y (2 bytes each)", 2 * pass, [&] { dyt(h, alpha, gamma, beta); });
    // The kernel alone: what the op's front-end (casts, checks, allocation) adds is the difference.
    bytes_row("dyt forward bf16 kernel only", shape, "read x, write y (2 bytes each)", 2 * pass, [&] {
      kernels::cuda::dyt_forward(h.data<bfloat16>(), alpha.data<float>(), gamma.data<float>(), beta.data<float>(),
                                 y.data<bfloat16>(), n, c);
    });
    bytes_row("dyt forward+backward bf16", shape, "fwd 2, bwd 3 passes (2 bytes each)", 5 * pass,
              [&] { fwd_bwd([&] { return dyt(hg, alpha, gamma, beta); }, {hg, alpha, gamma, beta}, dh); });
  }
  {
    // softmax of bfloat16 scores under autocast: computed in float32 (a cast, the float32 kernel),
    // a float32 result, as PyTorch's autocast runs it. Floor: read x (2 bytes), write y (4 bytes);
    // backward read y and dy (4 each), write dx (2).
    int64_t n = 8 * 12 * 1024, c = 1024;
    double elements = double(n) * c;
    Tensor x = randn_gpu({n, c}).to(DType::BFloat16), dy = randn_gpu({n, c});
    Tensor xg = x.detach().requires_grad_();
    AutocastGuard autocast;
    bytes_row("softmax forward bf16", "98304x1024", "read x (2 bytes), write y (4)", 6 * elements, [&] { softmax(x, -1); });
    bytes_row("softmax forward+backward bf16", "98304x1024", "16 bytes an element", 16 * elements,
              [&] { fwd_bwd([&] { return softmax(xg, -1); }, {xg}, dy); });
  }

  // The GPT-2-size training step as train-gpt takes one (vocabulary 50304, context 1024, width 768,
  // 12 layers and heads, batch 8, DyT with its recipe): forward, backward, AdamW clipping at 1
  // (step_clipped), in float32 (TF32 matmuls) or in bf16 autocast, run as it is or captured as a CUDA
  // graph and replayed (nn::CapturedStep). Floor: the matmuls' FLOPs (6 a weight a token, and the
  // causal attention's 6 T C a layer a token) over cuBLAS's TF32 or bfloat16 rate. With
  // DYTGRAD_CUDA_UNVERIFIED=1 the kernels not yet run on a GPU take part.
  auto gpt2_step_row = [&](bool bf16, bool captured) {
    std::string name = fmt::format("GPT-2-size step {}{}", bf16 ? "bf16" : "float32", captured ? ", CUDA graph" : "");
    if (!want(name)) return;
    const int64_t batch = 8;
    models::GPTConfig config;
    config.vocab = 50304, config.block_size = 1024;
    config.block.width = 768, config.block.layers = 12, config.block.heads = 12, config.block.norm = "dyt";
    models::use_dyt_recipe(config);
    models::GPT model(config, 1);
    model.to(Device::cuda());
    auto params = model.named_parameters();
    nn::AdamW optimizer(params, {1e-3, 0.9, 0.95, 1e-8}, 0.1);
    int64_t t = config.block_size;
    Tensor tokens = Tensor::randint(0, config.vocab, {batch, t + 1}, Device::cuda());
    Tensor x = tokens.narrow(1, 0, t).contiguous(), y = tokens.narrow(1, 1, t).contiguous();
    auto loss_and_backward = [&] {
      GradModeGuard on(true);
      Tensor loss;
      {
        AutocastGuard mixed_precision(bf16);
        loss = model.loss(x, y);
      }
      model.zero_grad();
      loss.backward();
      return loss;
    };
    nn::CapturedStep step(loss_and_backward, optimizer, 1.0, Device::cuda());
    flops_row(name, "V50304 T1024 C768 L12 H12 B8", "forward, backward, AdamW", models::training_step_flops(config, batch),
              bf16 ? bf16_tflops : tf32_tflops, [&] {
                if (captured) {
                  step.run(1e-3);
                } else {
                  loss_and_backward();
                  optimizer.step_clipped(1e-3, 1.0);
                }
              });
  };
  for (bool bf16 : {false, true}) gpt2_step_row(bf16, false);

  {
    // Kernels that have not run on a GPU yet, switched on for these rows only (last, so that an
    // error in one costs no other row; it is reported and the row left out):
    // attention as batched GEMMs on tensor cores (TF32; its FLOPs count the causal mask's zeros,
    // which the GEMMs multiply, against cuBLAS's TF32 rate), cross_entropy on bfloat16 logits, the
    // GPT-2-size step as a CUDA graph, and linear and linear_gelu with the bias (and the gelu) in
    // cuBLASLt's epilogue (the GPT-2-size MLP's first GEMM, against the TF32 rate).
    allow_unverified_cuda_kernels(true);
    auto unverified = [&](const char* what, const std::function<void()>& rows_of) {
      try {
        rows_of();
      } catch (const std::exception& e) {
        std::cout << "  " << what << ": " << e.what() << "\n";
      }
    };
    unverified("attention on tensor cores", [&] {
      int64_t b = 8, h = 12, t = 1024, d = 64;
      Tensor q = randn_gpu({b, h, t, d}), k = randn_gpu({b, h, t, d}), v = randn_gpu({b, h, t, d}), dout = randn_gpu({b, h, t, d});
      Tensor qg = q.detach().requires_grad_(), kg = k.detach().requires_grad_(), vg = v.detach().requires_grad_();
      double flops = 4.0 * b * h * t * t * d;  // the whole score matrix
      flops_row("attention forward, GEMMs TF32", "B8 H12 T1024 D64", "causal, mask's zeros counted", flops, tf32_tflops,
                [&] { scaled_dot_product_attention(q, k, v, true); });
      flops_row("attention forward+backward, GEMMs TF32", "B8 H12 T1024 D64", "3.5x fwd flops", 3.5 * flops, tf32_tflops,
                [&] { fwd_bwd([&] { return scaled_dot_product_attention(qg, kg, vg, true); }, {qg, kg, vg}, dout); });
      // bfloat16 q, k, v (float32 scores and softmax), against cuBLAS's bfloat16 rate
      Tensor q16 = q.to(DType::BFloat16), k16 = k.to(DType::BFloat16), v16 = v.to(DType::BFloat16);
      Tensor q16g = q16.detach().requires_grad_(), k16g = k16.detach().requires_grad_(), v16g = v16.detach().requires_grad_();
      Tensor dout16 = dout.to(DType::BFloat16);
      flops_row("attention forward bf16, GEMMs", "B8 H12 T1024 D64", "causal, mask's zeros counted", flops, bf16_tflops,
                [&] { scaled_dot_product_attention(q16, k16, v16, true); });
      flops_row("attention forward+backward bf16, GEMMs", "B8 H12 T1024 D64", "3.5x fwd flops", 3.5 * flops, bf16_tflops,
                [&] { fwd_bwd([&] { return scaled_dot_product_attention(q16g, k16g, v16g, true); }, {q16g, k16g, v16g}, dout16); });
    });
    unverified("cross_entropy on bfloat16 logits", [&] {
      // the logits read as they are (2 bytes), float32 inside; backward: read them again, write
      // their bfloat16 gradient
      int64_t n = 16384, c = 50304;
      Tensor logits = randn_gpu({n, c}).to(DType::BFloat16), targets = Tensor::randint(0, c, {n}, Device::cuda());
      Tensor lg = logits.detach().requires_grad_();
      double pass = double(n) * c * 2;
      AutocastGuard autocast;
      bytes_row("cross_entropy forward bf16", "16384x50304", "read logits (2 bytes)", pass, [&] { cross_entropy(logits, targets); });
      bytes_row("cross_entropy forward+backward bf16", "16384x50304", "3 passes (2 bytes)", 3 * pass, [&] {
        fwd_bwd([&] { return cross_entropy(lg, targets); }, {lg}, Tensor::ones({}, DType::Float32, Device::cuda()));
      });
    });
    unverified("the GPT-2-size step as a CUDA graph", [&] {
      for (bool bf16 : {false, true}) gpt2_step_row(bf16, true);
    });
    unverified("linear with the bias in the epilogue", [&] {
      Tensor x = randn_gpu({8192, 768}), w = randn_gpu({3072, 768}), bias = randn_gpu({3072});
      flops_row("linear forward tf32, bias epilogue", "8192x768 @ 768x3072", "x W^T + b", 2.0 * 8192 * 768 * 3072,
                tf32_tflops, [&] { linear(x, w, bias); });
      flops_row("linear_gelu forward tf32, epilogue", "8192x768 @ 768x3072", "gelu(x W^T + b), its input kept",
                2.0 * 8192 * 768 * 3072, tf32_tflops, [&] { linear_gelu(x, w, bias); });
    });
    allow_unverified_cuda_kernels(false);
  }

  std::cout << fmt::format("\n{:<30} {:<18} {:>10} {:>14} {:>10} {:>8}\n", "kernel", "shape", "ms", "rate", "floor ms",
                           "floor/ms");
  nlohmann::json out = {{"device", prop.name}, {"copy_GBps", copy_gbps}, {"tf32_TFLOPs", tf32_tflops},
                        {"fp32_TFLOPs", fp32_tflops}, {"bf16_TFLOPs", bf16_tflops}, {"rows", nlohmann::json::array()}};
  for (const Row& r : rows) {
    std::string rate = r.flops ? fmt::format("{:.1f} TFLOP/s", r.work / r.ms / 1e9) : fmt::format("{:.0f} GB/s", r.work / r.ms / 1e6);
    std::cout << fmt::format("{:<30} {:<18} {:>10.4f} {:>14} {:>10.4f} {:>7.0f}%\n", r.name, r.shape, r.ms, rate,
                             r.floor_ms, 100 * r.floor_ms / r.ms);
    out["rows"].push_back({{"name", r.name}, {"shape", r.shape}, {"what", r.what}, {"ms", r.ms}, {"floor_ms", r.floor_ms},
                           {"rate", rate}});
  }
  if (!o.json_path.empty()) std::ofstream(o.json_path) << out.dump(1) << "\n";
  return 0;
}

#else
int main(int argc, char** argv) {
  CLI::App app{"Time dytgrad's CUDA kernels against their floors (needs a build with -DDYTGRAD_CUDA=ON)"};
  CLI11_PARSE(app, argc, argv);
  std::cerr << "bench_kernels: this build has no CUDA backend (configure with -DDYTGRAD_CUDA=ON)\n";
  return 1;
}
#endif
