// What train-gpt and train-vit share around their loops: the device flag, reading the checkpoint
// a run resumes from, and saving checkpoints (on schedule, at the end, and when Ctrl-C asks).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/device.h"
#include "nn/checkpoint.h"

namespace dytgrad::tools {

// The largest count (steps, batch, interval) a flag or a checkpoint may give: larger is a typo, or a
// number that overflowed on its way in.
constexpr int64_t kMaxCount = int64_t(1) << 40;

// For settings read back from a checkpoint: an error naming the file and the key unless
// min <= value <= kMaxCount.
void check_setting(const std::string& path, const char* key, int64_t value, int64_t min);

// "cpu", "cuda", or "auto" (CUDA when a GPU is visible).
Device pick_device(const std::string& name);

// --gpu-config sizes the model for a GPU. With no GPU visible it is an error (the model would train
// on the CPU at tens of seconds a step) unless --device cpu asks for the CPU explicitly.
void check_gpu_config(bool gpu_config, const std::string& device_flag);

// The warm-up a run of `steps` steps can have: `warmup`, or `steps` with a warning when it is longer
// (the learning rate then peaks at the last step).
int64_t fit_warmup(int64_t warmup, int64_t steps);

// The --threads flag: CPU threads for the kernels when > 0, else the default of
// kernels/cpu/threads.h (DYTGRAD_THREADS, else the CPUs this process may use). Returns the count.
// --dtype: what the programs compute in.
constexpr const char* kDtypeHelp =
    "float32, or bf16: mixed precision (bfloat16 matmuls and DyT, float32 master weights, norms, softmax and loss; "
    "docs/ARCHITECTURE.md)";
inline const char* dtype_description(const std::string& dtype) {
  return dtype == "bf16" ? "bf16 autocast (bfloat16 matmuls and DyT, float32 master weights, norms, softmax and loss)"
                         : "float32";
}
constexpr const char* kThreadsHelp = "CPU threads (default: DYTGRAD_THREADS, else every CPU this process may use)";
int use_threads(int requested);

// "cpu (2 threads)" or "cuda": how a program names where it runs.
std::string device_description(Device device);

// A checkpoint to resume from, with the program's settings stored in it under `key` (JSON); an
// error naming `program` if the file has none.
struct Resume {
  nn::SafeTensors file;
  std::string key, program;
  // The settings read into the program's struct (an error naming the file and key if they do not fit).
  template <class Settings> Settings settings() const {
    return nn::metadata_json<Settings>(file, key, "a checkpoint of " + program);
  }
};
Resume read_resume(const std::string& path, const std::string& key, const std::string& program);

// Never lets one run silently replace another. Called before anything else: creates `out`, and when
// it already holds a run's files (log.jsonl, checkpoint.safetensors, checkpoint-<step>.safetensors,
// profile.txt, trace.json) refuses, with an error naming the folder, the files and the ways on,
// unless the run resumes from a checkpoint in that folder (it continues that run) or `overwrite` is
// set. Returns the files the new run replaces (none when it continues one).
std::vector<std::string> claim_output_folder(const std::string& out, const std::string& resume, bool overwrite,
                                             const std::string& program);
// Called once the new run is set up, just before it first writes: removes those files (so that
// nothing left from the earlier run passes for this one's), saying so.
void remove_earlier_run(const std::string& out, const std::vector<std::string>& files);
constexpr const char* kOverwriteHelp = "replace the run in --out (its log, checkpoints, profile) instead of refusing";

// <out>/checkpoint.safetensors, written every `every` steps (0: never on schedule), at `last_step`,
// and when a stop was requested (tools/common/interrupt.h).
class Checkpointer {
 public:
  // keep_each: also keep a copy of every checkpoint as checkpoint-<step>.safetensors (to look inside
  // the model at several points of one run, as norm-curves does).
  Checkpointer(const std::string& out, int64_t every, int64_t last_step, std::string program, bool keep_each = false);
  const std::string& path() const { return path_; }
  // After each step: saves if due; returns true when the loop must stop (the checkpoint is saved
  // and the command that resumes it printed).
  bool after_step(const nn::Module& model, nn::AdamW& optimizer, const nn::TrainingState& state);
  // The same in two halves, for a data-parallel run (where every rank agrees on `stop` first, and
  // only rank 0 saves): whether a checkpoint is due after `step` (on schedule, at the last step, or
  // because the run stops there), and the saving (with the resume command when it stops).
  bool due(int64_t step, bool stop) const;
  void save(const nn::Module& model, nn::AdamW& optimizer, const nn::TrainingState& state, bool stop);

 private:
  std::string path_, program_;
  int64_t every_, last_step_;
  bool keep_each_;
};

}  // namespace dytgrad::tools
