// Times dytgrad's CPU kernels on named shapes, through the same op calls a user makes, and one whole
// GPT training step. Method: warm-up runs, then the median of the timed repeats (steady clock), at
// the thread count given. Each kernel gets its floor: the bytes it must move over this machine's
// copy bandwidth, or its FLOPs over this machine's sgemm rate, both measured at the start of the
// same run. tools/bench_cpu.sh runs it next to PyTorch (tools/bench_cpu_torch.py, same rows) at 1
// and 2 threads and prints the side-by-side table.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/autograd/engine.h"
#include "core/autograd/grad_mode.h"
#include "core/ops/ops.h"
#include "kernels/cpu/threads.h"
#include "kernels/cpu/vector_math.h"
#include "models/gpt.h"
#include "nn/optim.h"
#include "tools/common/median_time.h"
#include "tools/common/training_run.h"

using namespace dytgrad;

namespace {

struct Options {
  int threads = 0, warmup = 3, repeats = 15, step_repeats = 8;
  std::string json_path, only;
  bool step = true, kernels = true;
  // the training step's GPT (the CPU benchmark shape): vocabulary of the fortunes, DyT
  int64_t vocab = 98, block_size = 128, width = 192, layers = 4, heads = 4, batch = 32;
};

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

struct Row {
  std::string name, shape, what;
  double ms = 0, floor_ms = 0;
  std::string rate;
};

Tensor randn(const Shape& s) { return Tensor::randn(s, DType::Float32); }

// forward + backward through autograd, as a user runs it: y = f(inputs); grad(y, inputs, dy)
void forward_backward(const std::function<Tensor()>& forward, const std::vector<Tensor>& inputs, const Tensor& dy) {
  GradModeGuard on(true);
  Tensor y = forward();
  grad({y}, inputs, {dy}, false, false);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time dytgrad's CPU kernels and a GPT training step against this machine's floors (copy bandwidth, "
               "sgemm rate); tools/bench_cpu.sh adds PyTorch"};
  Options o;
  app.add_option("--threads", o.threads, tools::kThreadsHelp)->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "untimed runs before timing")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--repeats", o.repeats, "timed runs of each kernel; the median is reported")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--step-repeats", o.step_repeats, "timed training steps; the median is reported")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--json", o.json_path, "also write the results as JSON to this file");
  app.add_option("--only", o.only, "run only kernel rows whose name contains this");
  app.add_flag("!--no-step", o.step, "skip the training step");
  app.add_flag("!--no-kernels", o.kernels, "skip the kernel rows");
  app.add_option("--width", o.width, "the step's GPT: width")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--layers", o.layers, "the step's GPT: layers")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--heads", o.heads, "the step's GPT: heads")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--block-size", o.block_size, "the step's GPT: context")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", o.batch, "the step's GPT: sequences per step")->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (o.width % o.heads != 0) {
    std::cerr << fmt::format("bench-cpu: --width {} is not a multiple of --heads {}\n", o.width, o.heads);
    return 2;
  }
  int threads = tools::use_threads(o.threads);
  NoGradGuard no_grad_by_default;

  // The two ceilings, measured here with the same threads. Copy bandwidth depends on where the data
  // fits (this CPU's caches may hold a whole 4096x768 tensor), so each memory-bound row is held to a
  // parallel memcpy of its own main tensor's size (bytes read + written); sgemm 1024^3 through the
  // same matmul as the models.
  std::map<int64_t, double> copy_gbps_at;
  auto copy_gbps = [&](int64_t bytes) {
    auto it = copy_gbps_at.find(bytes);
    if (it != copy_gbps_at.end()) return it->second;
    std::vector<char> src(size_t(bytes), 1), dst(size_t(bytes), 0);
    int64_t chunks = 64, chunk = (bytes + chunks - 1) / chunks;
    double ms = tools::median_ms(2, 9, [&] {
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int64_t c = 0; c < chunks; ++c) {
        int64_t first = c * chunk, count = std::min(chunk, bytes - first);
        if (count > 0) std::memcpy(dst.data() + first, src.data() + first, size_t(count));
      }
    });
    return copy_gbps_at[bytes] = 2.0 * double(bytes) / ms / 1e6;
  };
  const int64_t large_copy = int64_t(256) << 20;
  double copy_large_gbps = copy_gbps(large_copy);
  Tensor ma = randn({1024, 1024}), mb = randn({1024, 1024});
  double sgemm_gflops = 2.0 * 1024 * 1024 * 1024 / tools::median_ms(2, 9, [&] { matmul(ma, mb); }) / 1e6;
  std::string cpu = cpu_model();
  std::cout << fmt::format("cpu: {}, {} thread{}, vector math {}\ncopy (256 MiB) {:.1f} GB/s, sgemm 1024^3 {:.1f} GFLOP/s\n",
                           cpu, threads, threads == 1 ? "" : "s", kernels::cpu::vector_math::isa(), copy_large_gbps,
                           sgemm_gflops);

  std::vector<Row> rows;
  auto want = [&](const std::string& name) { return o.kernels && (o.only.empty() || name.find(o.only) != std::string::npos); };
  auto add_row = [&](std::string name, std::string shape, std::string what, double ms, double floor_ms, std::string rate) {
    rows.push_back({name, shape, what, ms, floor_ms, rate});
    std::cout << fmt::format("  {:<30} {:<18} {:>10.3f} ms\n", name, shape, ms) << std::flush;
  };
  // tensor_bytes: the size of the row's main tensor, whose copy bandwidth is the floor's rate
  auto bytes_row = [&](std::string name, std::string shape, std::string what, double bytes, int64_t tensor_bytes,
                       const std::function<void()>& fn) {
    if (!want(name)) return;
    double ms = tools::median_ms(o.warmup, o.repeats, fn);
    add_row(name, shape, what, ms, bytes / copy_gbps(tensor_bytes) / 1e6, fmt::format("{:.1f} GB/s", bytes / ms / 1e6));
  };
  auto flops_row = [&](std::string name, std::string shape, std::string what, double flops, const std::function<void()>& fn) {
    if (!want(name)) return;
    double ms = tools::median_ms(o.warmup, o.repeats, fn);
    add_row(name, shape, what, ms, flops / sgemm_gflops / 1e6, fmt::format("{:.1f} GFLOP/s", flops / ms / 1e6));
  };

  {
    int64_t n = 4096, c = 768;
    std::string shape = "4096x768";
    double pass = double(n) * c * 4;
    Tensor x = randn({n, c}), dy = randn({n, c}), xg = x.detach().requires_grad_();
    Tensor alpha = Tensor::full({1}, 0.5).requires_grad_();
    Tensor gamma = randn({c}).requires_grad_(), beta = randn({c}).requires_grad_();
    bytes_row("dyt forward", shape, "read x, write y", 2 * pass, int64_t(pass), [&] { dyt(x, alpha, gamma, beta); });
    bytes_row("dyt forward+backward", shape, "5 passes", 5 * pass, int64_t(pass),
              [&] { forward_backward([&] { return dyt(xg, alpha, gamma, beta); }, {xg, alpha, gamma, beta}, dy); });
    Tensor shift = Tensor::full({1}, 0.1).requires_grad_();
    bytes_row("derf forward", shape, "read x, write y", 2 * pass, int64_t(pass), [&] { derf(x, alpha, shift, gamma, beta); });
    bytes_row("derf forward+backward", shape, "5 passes", 5 * pass, int64_t(pass),
              [&] { forward_backward([&] { return derf(xg, alpha, shift, gamma, beta); }, {xg, alpha, shift, gamma, beta}, dy); });
    Tensor residual = randn({n, c});
    bytes_row("add + dyt forward", shape, "add, then dyt: 5 passes", 5 * pass, int64_t(pass), [&] { dyt(add(x, residual), alpha, gamma, beta); });
    bytes_row("add_dyt forward (fused)", shape, "read x, y, write sum, out", 4 * pass, int64_t(pass),
              [&] { add_dyt(x, residual, alpha, gamma, beta); });
    bytes_row("layer_norm forward", shape, "read x, write y", 2 * pass, int64_t(pass), [&] { layer_norm(x, gamma, beta); });
    bytes_row("layer_norm forward+backward", shape, "5 passes", 5 * pass, int64_t(pass),
              [&] { forward_backward([&] { return layer_norm(xg, gamma, beta); }, {xg, gamma, beta}, dy); });
    bytes_row("rms_norm forward", shape, "read x, write y", 2 * pass, int64_t(pass), [&] { rms_norm(x, gamma); });
    bytes_row("rms_norm forward+backward", shape, "5 passes", 5 * pass, int64_t(pass),
              [&] { forward_backward([&] { return rms_norm(xg, gamma); }, {xg, gamma}, dy); });
    bytes_row("gelu forward", shape, "read x, write y", 2 * pass, int64_t(pass), [&] { gelu(x); });
    bytes_row("gelu forward+backward", shape, "5 passes", 5 * pass, int64_t(pass),
              [&] { forward_backward([&] { return gelu(xg); }, {xg}, dy); });
  }
  {
    int64_t n = 32 * 4 * 128, c = 128;  // the GPT's attention-score rows
    double pass = double(n) * c * 4;
    Tensor x = randn({n, c}), dy = randn({n, c}), xg = x.detach().requires_grad_();
    bytes_row("softmax forward", "16384x128", "read x, write y", 2 * pass, int64_t(pass), [&] { softmax(x, -1); });
    bytes_row("softmax forward+backward", "16384x128", "5 passes", 5 * pass, int64_t(pass),
              [&] { forward_backward([&] { return softmax(xg, -1); }, {xg}, dy); });
  }
  {
    int64_t n = 4096, c = 8192;
    double pass = double(n) * c * 4;
    Tensor logits = randn({n, c}), targets = Tensor::randint(0, c, {n}), lg = logits.detach().requires_grad_();
    bytes_row("cross_entropy forward", "4096x8192", "read logits", pass, int64_t(pass), [&] { cross_entropy(logits, targets); });
    bytes_row("cross_entropy forward+backward", "4096x8192", "3 passes", 3 * pass, int64_t(pass), [&] {
      forward_backward([&] { return cross_entropy(lg, targets); }, {lg}, Tensor::ones({}, DType::Float32));
    });
  }
  {
    int64_t b = 8, h = 4, t = 128, d = 48;
    Tensor q = randn({b, h, t, d}), k = randn({b, h, t, d}), v = randn({b, h, t, d}), dout = randn({b, h, t, d});
    Tensor qg = q.detach().requires_grad_(), kg = k.detach().requires_grad_(), vg = v.detach().requires_grad_();
    double flops = 4.0 * b * h * t * t * d / 2;  // causal: half the score matrix
    flops_row("attention forward", "B8 H4 T128 D48", "causal", flops, [&] { scaled_dot_product_attention(q, k, v, true); });
    flops_row("attention forward+backward", "B8 H4 T128 D48", "causal, 3.5x fwd flops", 3.5 * flops, [&] {
      forward_backward([&] { return scaled_dot_product_attention(qg, kg, vg, true); }, {qg, kg, vg}, dout);
    });
  }
  {
    Tensor a = randn({4096, 192}), w = randn({192, 768});
    flops_row("matmul", "4096x192 @ 192x768", "the MLP's first GEMM", 2.0 * 4096 * 192 * 768, [&] { matmul(a, w); });
  }

  nlohmann::json out = {{"engine", "dytgrad"}, {"cpu", cpu}, {"threads", threads}, {"copy_GBps", copy_large_gbps},
                        {"sgemm_GFLOPs", sgemm_gflops}, {"rows", nlohmann::json::array()}};
  if (!rows.empty()) {
    std::cout << fmt::format("\n{:<32} {:<20} {:>10} {:>14} {:>10} {:>9}\n", "kernel", "shape", "ms", "rate", "floor ms",
                             "floor/ms");
    for (const Row& r : rows) {
      std::cout << fmt::format("{:<32} {:<20} {:>10.3f} {:>14} {:>10.3f} {:>8.0f}%\n", r.name, r.shape, r.ms, r.rate,
                               r.floor_ms, 100 * r.floor_ms / r.ms);
      out["rows"].push_back({{"name", r.name}, {"shape", r.shape}, {"what", r.what}, {"ms", r.ms},
                             {"floor_ms", r.floor_ms}, {"rate", r.rate}});
    }
  }

  if (o.step) {
    // One training step as train-gpt takes it: forward, backward, clipping at 1, AdamW.
    models::GPTConfig config;
    config.vocab = o.vocab, config.block_size = o.block_size;
    config.block.width = o.width, config.block.layers = o.layers, config.block.heads = o.heads;
    config.block.norm = "dyt", config.block.alpha0_attention = config.block.alpha0_other = 4.0;
    config.scale_embeddings = true;
    models::GPT model(config, 1);
    auto params = model.named_parameters();
    nn::AdamW optimizer(params, {1e-3, 0.9, 0.95, 1e-8}, 0.1);
    Tensor tokens = Tensor::randint(0, o.vocab, {o.batch, o.block_size + 1});
    Tensor x = tokens.narrow(1, 0, o.block_size).contiguous(), y = tokens.narrow(1, 1, o.block_size).contiguous();
    double ms = tools::median_ms(2, o.step_repeats, [&] {
      GradModeGuard on(true);
      model.zero_grad();
      Tensor loss = model.loss(x, y);
      loss.backward();
      nn::clip_grad_norm(params, 1.0);
      optimizer.step(1e-3);
    });
    double flops = models::training_step_flops(config, o.batch), tokens_per_s = double(o.batch * o.block_size) / ms * 1e3;
    double utilisation = flops / ms / 1e6 / sgemm_gflops;
    std::string shape = fmt::format("V{} T{} C{} L{} H{} B{}", o.vocab, o.block_size, o.width, o.layers, o.heads, o.batch);
    std::cout << fmt::format("\nGPT training step ({}, DyT, AdamW, clipping): {:.1f} ms, {:.0f} tokens/s, "
                             "{:.1f} GFLOP a step, {:.1f} GFLOP/s = {:.0f}% of sgemm's rate\n",
                             shape, ms, tokens_per_s, flops / 1e9, flops / ms / 1e6, 100 * utilisation);
    out["step"] = {{"shape", shape}, {"ms", ms}, {"tokens_per_s", tokens_per_s}, {"gflop", flops / 1e9},
                   {"utilisation", utilisation}};
  }
  if (!o.json_path.empty()) std::ofstream(o.json_path) << out.dump(1) << "\n";
  return 0;
}
