#include "tools/common/training_run.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/cpu/threads.h"
#include "tools/common/interrupt.h"

namespace dytgrad::tools {

Device pick_device(const std::string& name) {
  return name == "cuda" || (name == "auto" && cuda_is_available()) ? Device::cuda() : Device::cpu();
}

void check_gpu_config(bool gpu_config, const std::string& device_flag) {
  DYT_CHECK(!gpu_config || device_flag == "cpu" || cuda_is_available(),
            "--gpu-config is a model for a GPU and no GPU is visible{}; to train it on the CPU anyway (tens of "
            "seconds a step), add --device cpu",
            device_flag == "cuda" ? "" : " (--device auto would pick the CPU)");
}

int64_t fit_warmup(int64_t warmup, int64_t steps) {
  if (warmup <= steps) return warmup;
  fmt::print("--warmup {} is longer than the run's {} steps: warming up over {} (the learning rate peaks at the last "
             "step)\n", warmup, steps, steps);
  return steps;
}

void check_setting(const std::string& path, const char* key, int64_t value, int64_t min) {
  DYT_CHECK(value >= min && value <= kMaxCount, "'{}': the training setting '{}' is {}, expected {} to {}", path, key,
            value, min, kMaxCount);
}

int use_threads(int requested) {
  if (requested > 0) kernels::cpu::set_threads(requested);
  return kernels::cpu::threads();
}

std::string device_description(Device device) {
  if (!device.is_cpu()) return device.str();
  int n = kernels::cpu::threads();
  return fmt::format("{} ({} thread{})", device.str(), n, n == 1 ? "" : "s");
}

Resume read_resume(const std::string& path, const std::string& key, const std::string& program) {
  Resume r{nn::load_safetensors(path), key, program};
  DYT_CHECK(r.file.metadata.count(key), "'{}' is not a {} checkpoint (no '{}' metadata)", path, program, key);
  return r;
}

namespace {
// The files a training run writes into its --out folder.
bool is_run_file(const std::filesystem::path& file) {
  std::string name = file.filename().string();
  if (name == "log.jsonl" || name == "checkpoint.safetensors" || name == "profile.txt" || name == "trace.json") return true;
  const std::string prefix = "checkpoint-", suffix = ".safetensors";
  if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  std::string step = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return step.find_first_not_of("0123456789") == std::string::npos;
}
}  // namespace

std::vector<std::string> claim_output_folder(const std::string& out, const std::string& resume, bool overwrite,
                                             const std::string& program) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(out, error);
  DYT_CHECK(!error && fs::is_directory(out), "--out '{}': cannot create the folder ({})", out,
            error ? error.message() : "a file of that name exists");
  if (!resume.empty() && fs::equivalent(fs::absolute(resume).parent_path(), out, error)) return {};
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(out))
    if (entry.is_regular_file() && is_run_file(entry.path())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  if (!names.empty() && !overwrite) {
    fs::path checkpoint = fs::path(out) / "checkpoint.safetensors";
    std::vector<std::string> ways;
    if (fs::exists(checkpoint)) ways.push_back(fmt::format("to continue it, {} --resume {}", program, checkpoint.string()));
    ways.push_back("to keep it, another --out");
    ways.push_back("to replace it, --overwrite");
    DYT_FAIL("--out '{}' already holds a run ({}): {}", out, fmt::join(names, ", "), fmt::join(ways, "; "));
  }
  return names;
}

void remove_earlier_run(const std::string& out, const std::vector<std::string>& files) {
  if (files.empty()) return;
  for (const std::string& name : files) std::filesystem::remove(std::filesystem::path(out) / name);
  fmt::print("replaced the run in '{}' (removed {})\n", out, fmt::join(files, ", "));
}

Checkpointer::Checkpointer(const std::string& out, int64_t every, int64_t last_step, std::string program,
                           bool keep_each)
    : path_((std::filesystem::path(out) / "checkpoint.safetensors").string()), program_(std::move(program)),
      every_(every), last_step_(last_step), keep_each_(keep_each) {}

bool Checkpointer::after_step(const nn::Module& model, nn::AdamW& optimizer, const nn::TrainingState& state) {
  bool stop = stop_requested() && state.step < last_step_;
  if (due(state.step, stop)) save(model, optimizer, state, stop);
  return stop;
}

bool Checkpointer::due(int64_t step, bool stop) const {
  return stop || step == last_step_ || (every_ > 0 && step % every_ == 0);
}

void Checkpointer::save(const nn::Module& model, nn::AdamW& optimizer, const nn::TrainingState& state, bool stop) {
  nn::save_checkpoint(path_, model, &optimizer, state);
  if (keep_each_) {
    auto copy = std::filesystem::path(path_).replace_filename(fmt::format("checkpoint-{}.safetensors", state.step));
    std::filesystem::copy_file(path_, copy, std::filesystem::copy_options::overwrite_existing);
  }
  if (stop) fmt::print("\nstopped at step {}; checkpoint saved. To continue: {} --resume {}\n", state.step, program_, path_);
}

}  // namespace dytgrad::tools
