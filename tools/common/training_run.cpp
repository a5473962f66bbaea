#include "tools/common/training_run.h"

#include <filesystem>
#include <fmt/format.h>

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/cpu/threads.h"
#include "tools/common/interrupt.h"

namespace dytgrad::tools {

Device pick_device(const std::string& name) {
  return name == "cuda" || (name == "auto" && cuda_is_available()) ? Device::cuda() : Device::cpu();
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
  Resume r{nn::load_safetensors(path), {}};
  auto it = r.file.metadata.find(key);
  DYT_CHECK(it != r.file.metadata.end(), "'{}' is not a {} checkpoint (no '{}' metadata)", path, program, key);
  r.settings = nlohmann::json::parse(it->second);
  return r;
}

Checkpointer::Checkpointer(const std::string& out, int64_t every, int64_t last_step, std::string program,
                           bool keep_each)
    : path_((std::filesystem::path(out) / "checkpoint.safetensors").string()), program_(std::move(program)),
      every_(every), last_step_(last_step), keep_each_(keep_each) {}

bool Checkpointer::after_step(const nn::Module& model, nn::AdamW& optimizer, const nn::TrainingState& state) {
  bool stop = stop_requested() && state.step < last_step_;
  if (stop || state.step == last_step_ || (every_ > 0 && state.step % every_ == 0)) {
    nn::save_checkpoint(path_, model, &optimizer, state);
    if (keep_each_) {
      auto copy = std::filesystem::path(path_).replace_filename(fmt::format("checkpoint-{}.safetensors", state.step));
      std::filesystem::copy_file(path_, copy, std::filesystem::copy_options::overwrite_existing);
    }
  }
  if (stop) fmt::print("\nstopped at step {}; checkpoint saved. To continue: {} --resume {}\n", state.step, program_, path_);
  return stop;
}

}  // namespace dytgrad::tools
