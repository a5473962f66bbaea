// The built-in profiler on the CPU backend: records by kernel and phase only while on, a summary
// with every kernel, and a Chrome trace that parses with the expected events.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/profiler.h"
#include "helpers.h"
#include "model_helpers.h"
#include "kernels/attention.h"
#include "nn/optim.h"

using namespace dytgrad;

namespace {
void one_training_step(models::GPT& gpt, nn::AdamW& adam) {
  Tensor x = Tensor::randint(0, 11, {2, 16}), y = Tensor::randint(0, 11, {2, 16});
  Tensor loss = gpt.loss(x, y);
  gpt.zero_grad();
  loss.backward();
  nn::clip_grad_norm(gpt.named_parameters(), 1.0);
  adam.step(1e-3);
}
}  // namespace

TEST_CASE("profiler: kernels recorded by phase only while on, with a summary and a valid trace", "[profiler]") {
  models::GPT gpt(test::tiny_gpt("dyt"), 1);
  nn::AdamW adam(gpt.named_parameters(), {1e-3, 0.9, 0.95, 1e-8}, 0.1);
  profiler::start();
  profiler::stop();
  one_training_step(gpt, adam);
  REQUIRE(profiler::records().empty());  // off: nothing recorded
  REQUIRE_FALSE(profiler::enabled());
  {
    profiler::Session session;
    REQUIRE(profiler::enabled());
    one_training_step(gpt, adam);
  }
  REQUIRE_FALSE(profiler::enabled());
  std::set<std::pair<std::string, std::string>> seen;
  for (const profiler::Record& r : profiler::records()) {
    seen.insert({r.kernel, profiler::phase_name(r.phase)});
    REQUIRE_FALSE(r.cuda);
    REQUIRE(r.cpu_end_us >= r.cpu_start_us);
    if (r.kernel == "gemm_batched") REQUIRE(r.flops > 0);
    if (r.kernel == "dyt_forward") REQUIRE(r.bytes > 0);
  }
  // 2 blocks x 2 DyT + the final one, forward and backward; the matmuls; the optimiser's kernels.
  REQUIRE(seen.count({"dyt_forward", "forward"}));
  REQUIRE(seen.count({"dyt_backward", "backward"}));
  REQUIRE(seen.count({"gemm_batched", "forward"}));
  REQUIRE(seen.count({"gemm_batched", "backward"}));
  REQUIRE(seen.count({"adamw_step", "optimizer"}));
  REQUIRE(seen.count({"attention_backward_strided", "backward"}));  // self_attention on packed qkv (CPU)
  // each block's DyT before the MLP comes fused with the residual add before it (add_dyt_forward)
  int64_t dyt_calls = 0, add_dyt_calls = 0;
  for (const profiler::Record& r : profiler::records()) {
    dyt_calls += r.kernel == "dyt_forward";
    add_dyt_calls += r.kernel == "add_dyt_forward";
  }
  REQUIRE(dyt_calls == 3);
  REQUIRE(add_dyt_calls == 2);

  std::string summary = profiler::summary();
  REQUIRE_THAT(summary, Catch::Contains("dyt_backward (cpu)") && Catch::Contains("backward") &&
                            Catch::Contains("100.0%") && Catch::Contains("TF/s") && Catch::Contains("GB/s"));

  std::string path = (std::filesystem::temp_directory_path() / "dytgrad-profiler-trace.json").string();
  profiler::write_chrome_trace(path);
  std::ifstream in(path);
  nlohmann::json trace = nlohmann::json::parse(in);  // throws if not valid JSON
  std::set<std::string> names, phases;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    REQUIRE(e.at("dur").get<double>() >= 0);
    REQUIRE(e.at("ts").get<double>() >= 0);
    (e.at("cat") == "phase" ? phases : names).insert(e.at("name").get<std::string>());
  }
  REQUIRE(names.count("dyt_forward"));
  REQUIRE(names.count("adamw_step"));
  REQUIRE(phases == std::set<std::string>{"backward", "optimizer"});  // forward is the phase outside both
}

TEST_CASE("profiler: a kernel that several ops share is named after each op (op / kernel), with its rate, per step, and steps in the trace", "[profiler]") {
  Tensor x = Tensor::randn({64, 32}), y = Tensor::randn({64, 32});
  {
    profiler::Session session;
    for (int64_t step = 1; step <= 2; ++step) {
      profiler::begin_step(step);
      tanh(x);
      exp(x);
      mul(x, y);
      add(x, y);
      dyt(x, Tensor::full({1}, 0.5), Tensor::ones({32}), Tensor::zeros({32}));
      profiler::end_step();
    }
  }
  std::string summary = profiler::summary(2);
  REQUIRE_THAT(summary, Catch::Contains("ms/step"));
  std::istringstream lines(summary);
  int named_rows = 0;
  for (std::string line; std::getline(lines, line);)
    for (const char* row : {"tanh / unary (cpu)", "exp / unary (cpu)", "mul / binary (cpu)", "add / binary (cpu)"})
      if (line.find(row) != std::string::npos) {
        REQUIRE_THAT(line, Catch::Contains(" GB/s"));  // elementwise ops state their bytes
        REQUIRE_THAT(line, Catch::Contains(" 2 "));    // two calls, one per step
        ++named_rows;
      }
  REQUIRE(named_rows == 4);
  REQUIRE_THAT(summary, Catch::Contains(" dyt_forward (cpu)"));  // the kernel's name already says the op
  REQUIRE_THAT(summary, !Catch::Contains("dyt / dyt_forward"));

  std::string path = (std::filesystem::temp_directory_path() / "dytgrad-profiler-ops.json").string();
  profiler::write_chrome_trace(path);
  std::ifstream in(path);
  nlohmann::json trace = nlohmann::json::parse(in);
  std::set<std::pair<std::string, std::string>> ops;  // (name, args.op) of the kernel and step events
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == "X" && e.at("cat") != "phase")
      ops.insert({e.at("name").get<std::string>(), e.value("args", nlohmann::json::object()).value("op", std::string())});
  REQUIRE(ops.count({"tanh / unary", "tanh"}));
  REQUIRE(ops.count({"dyt_forward", "dyt"}));
  REQUIRE(ops.count({"step 1", ""}));
  REQUIRE(ops.count({"step 2", ""}));
}

TEST_CASE("profiler: every kernel of a training step states its work and input shapes, and the summary can split rows by shapes", "[profiler]") {
  models::GPT gpt(test::tiny_gpt("dyt"), 1);
  nn::AdamW adam(gpt.named_parameters(), {1e-3, 0.9, 0.95, 1e-8}, 0.1);
  {
    profiler::Session session;
    one_training_step(gpt, adam);
    Tensor x = Tensor::randn({3, 5}), y = Tensor::randn({3, 5});
    Tensor a = x.detach().requires_grad_();
    mul(softmax(a, -1), y).sum().backward();  // softmax forward and backward
    matmul(x, y.transpose(0, 1));
    matmul(Tensor::randn({4, 5}), Tensor::randn({5, 2}));  // another shape, another row when split by shapes
  }
  std::set<std::string> kernels;
  for (const profiler::Record& r : profiler::records()) {
    kernels.insert(r.kernel);
    INFO("kernel " << r.kernel << " of op " << r.op);
    REQUIRE(r.bytes + r.flops > 0);  // every kernel states its bytes or FLOPs
    REQUIRE_FALSE(r.shapes.empty());
    REQUIRE(r.shapes.front() == '[');
  }
  for (const char* k : {"softmax_forward", "softmax_backward", "cross_entropy_forward", "cross_entropy_backward",
                        "embedding_forward", "embedding_backward", "sum_dim", "attention_forward_strided",
                        "attention_backward_strided", "adamw_step", "gelu_backward"})
    REQUIRE(kernels.count(k));
  // The attention's FLOPs: 4 d per kept (query, key) pair forward, 10 d backward.
  kernels::AttentionShape s;
  s.heads = 6, s.tq = s.tk = 4, s.d = 8, s.causal = true;
  REQUIRE(kernels::attention_flops(s, false) == 6.0 * 10 * 8 * 4);  // 4 queries see 1 + 2 + 3 + 4 keys
  REQUIRE(kernels::attention_flops(s, true) == 6.0 * 10 * 8 * 10);
  s.causal = false;
  REQUIRE(kernels::attention_flops(s, false) == 6.0 * 16 * 8 * 4);

  std::string by_op = profiler::summary(), by_shapes = profiler::summary(0, profiler::GroupBy::InputShapes);
  REQUIRE_THAT(by_shapes, Catch::Contains("input shapes") && Catch::Contains("matmul / gemm_batched (cpu)  [3, 5], [5, 3]") &&
                              Catch::Contains("matmul / gemm_batched (cpu)  [4, 5], [5, 2]") &&
                              Catch::Contains("adamw_step (cpu)  [") && !Catch::Contains("shapes not noted"));
  REQUIRE_THAT(by_op, !Catch::Contains("[3, 5], [5, 3]"));
  auto rows = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
  REQUIRE(rows(by_shapes) > rows(by_op));
  std::istringstream lines(by_op);
  for (std::string line; std::getline(lines, line);)
    if (line.find("(cpu)") != std::string::npos) {
      INFO(line);
      REQUIRE((line.find(" GB/s ") != std::string::npos || line.find(" TF/s ") != std::string::npos));
    }

  std::string path = (std::filesystem::temp_directory_path() / "dytgrad-profiler-shapes.json").string();
  profiler::write_chrome_trace(path);
  std::ifstream in(path);
  nlohmann::json trace = nlohmann::json::parse(in);
  bool matmul_shapes = false;
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == "X" && e.at("cat") == "kernel" && e.at("name") == "matmul / gemm_batched")
      matmul_shapes |= e.at("args").value("input shapes", std::string()) == "[4, 5], [5, 2]";
  REQUIRE(matmul_shapes);
}

TEST_CASE("profiler on CUDA: GPU times from events, on a GPU track of the trace", "[profiler][cuda]") {
  if (!cuda_is_available()) {
    WARN("no CUDA device visible: skipping the CUDA profiler test");
    return;
  }
  models::GPT gpt(test::tiny_gpt("dyt"), 1);
  gpt.to(Device::cuda());
  nn::AdamW adam(gpt.named_parameters(), {1e-3, 0.9, 0.95, 1e-8}, 0.1);
  Tensor x = Tensor::randint(0, 11, {2, 16}).to(Device::cuda()), y = Tensor::randint(0, 11, {2, 16}).to(Device::cuda());
  {
    profiler::Session session;
    Tensor loss = gpt.loss(x, y);
    gpt.zero_grad();
    loss.backward();
    adam.step(1e-3);
  }
  int64_t dyt = 0;
  for (const profiler::Record& r : profiler::records()) {
    REQUIRE(r.cuda);
    REQUIRE(r.gpu_ms >= 0);
    REQUIRE(r.gpu_start_us >= 0);
    if (r.kernel == "dyt_backward") {
      ++dyt;
      REQUIRE(r.gpu_ms > 0);
    }
  }
  REQUIRE(dyt == 5);
  REQUIRE_THAT(profiler::summary(), Catch::Contains("dyt_forward") && Catch::Contains("GPU time"));
}
