// Generates text from a GPT checkpoint written by train-gpt.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/error.h"
#include "models/generate.h"
#include "tools/common/gpt_checkpoint.h"
#include "tools/common/program_error.h"
#include "tools/common/training_run.h"

using namespace dytgrad;

int main(int argc, char** argv) {
  std::string path, prompt = "\n", device_name = "auto";
  models::SamplingOptions o;
  uint64_t seed = 1;
  int64_t samples = 1;
  CLI::App app{"Generate text from a GPT checkpoint of train-gpt"};
  app.add_option("checkpoint", path, "checkpoint.safetensors written by train-gpt")->required();
  app.add_option("--prompt", prompt, "text to continue (default: a newline)");
  app.add_option("--chars", o.tokens, "characters to generate")->capture_default_str()->check(CLI::Range(int64_t(0), tools::kMaxCount));
  app.add_option("--temperature", o.temperature, "sampling temperature (lower is more conservative; 0: always the likeliest)")
      ->capture_default_str()->check(CLI::Range(0.0, 100.0));
  app.add_option("--top-k", o.top_k, "sample among the k likeliest characters (0: all)")->capture_default_str()
      ->check(CLI::Range(int64_t(0), tools::kMaxCount));
  app.add_option("--seed", seed, "seed of the draws")->capture_default_str();
  app.add_option("--samples", samples, "how many samples, separated by a rule")->capture_default_str()->check(CLI::Range(int64_t(1), tools::kMaxCount));
  app.add_option("--device", device_name, "cpu, cuda or auto")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  CLI11_PARSE(app, argc, argv);
  Device device = tools::pick_device(device_name);
  try {
    tools::LoadedGPT gpt = tools::load_gpt(path, device);
    std::vector<int64_t> ids = gpt.vocabulary.encode(prompt);
    fmt::print(stderr, "{}: GPT of {} parameters after {} steps, norm {}; temperature {}, top-k {}\n", path,
               gpt.model->num_parameters(), gpt.step, gpt.model->config().block.norm, o.temperature, o.top_k);
    Generator gen(seed);
    // Each character is shown as it is chosen.
    auto show = [&](int64_t token) {
      fmt::print("{}", gpt.vocabulary.decode({token}));
      std::fflush(stdout);
    };
    for (int64_t i = 0; i < samples; ++i) {
      if (i > 0) fmt::print("\n{}\n", std::string(40, '-'));
      fmt::print("{}", prompt);
      models::generate(*gpt.model, ids, o, gen, show);
    }
    fmt::print("\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "sample: {}\n", tools::describe_error(e));
    return 1;
  }
  return 0;
}
