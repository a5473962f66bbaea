// Data-parallel training in the programs (train-gpt): started by mpirun, every process trains the
// same model on its rows of each batch (nn::DataParallel), and only rank 0 prints, evaluates,
// samples and writes files. Started without mpirun, the same code is one process and does exactly
// what it did before.
//
//   mpirun -np 2 build/train-gpt --batch 32      # 2 processes of 16 rows each; the same run as one
//                                                # process with --batch 32 (to float rounding)
#pragma once
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../../core/distributed/communicator.h"
#include "../../core/error.h"
#include "../../core/ops/autocast.h"
#include "../../core/profiler.h"
#include "../../nn/data_parallel.h"
#include "../../nn/optim.h"
#include "../../nn/sharded_adamw.h"
#include "interrupt.h"
#include "progress.h"
#include "training_run.h"

namespace dytgrad::tools {

constexpr const char* kZeroHelp =
    "under mpirun: ZeRO-1, the optimizer's state split over the processes (each keeps 1/N of it)";

// This process's place in the run. On ranks other than 0, standard output goes to /dev/null (their
// errors still reach standard error).
class ParallelRun {
 public:
  explicit ParallelRun(Device device);
  distributed::Communicator& communicator() const { return comm_; }
  bool is_lead() const { return comm_.rank() == 0; }
  int world_size() const { return comm_.world_size(); }
  // An error, before anything runs, when the batch cannot be split evenly over the processes.
  void check_batch(int64_t batch) const;
  // For the banner: "2 processes (MPI), 16 of the 32 sequences each" (items: "sequences").
  std::string description(int64_t batch, const char* items) const;
  // This rank's rows of a batch every rank drew alike (nn::batch_shard).
  Tensor shard(const Tensor& batch) const { return nn::batch_shard(comm_, batch); }
  // The loss over the ranks, and whether to stop (nn::agree_on_step).
  std::pair<double, bool> agree(double loss, bool stop) const { return nn::agree_on_step(comm_, loss, stop); }
  // After an error on this rank: ends every rank (the others would wait for this one forever).
  void abort_others_after_error() const;

 private:
  distributed::Communicator& comm_;
};

// The optimizer of a run, over one process or several: gradients averaged over the ranks, clipped
// by their global norm, then AdamW; or, with zero, ZeRO-1 (nn::ShardedAdamW: each rank keeps
// 1/world_size of the AdamW state). Every rank makes the same calls.
class ParallelOptimizer {
 public:
  ParallelOptimizer(const ParallelRun& run, std::vector<nn::NamedParameter> params, AdamWOptions options,
                    double weight_decay, bool zero);
  // The whole AdamW state, to load a checkpoint into before start().
  nn::AdamW& state_to_load();
  // Before the first step, once a checkpoint (if any) is loaded: every rank takes rank 0's weights;
  // with zero, the state is cut into shards (and the whole one freed).
  void start();
  // After the backward: returns the global gradient norm before clipping.
  double step(double lr, double max_grad_norm);
  // Without zero: the AdamW step() runs after averaging the gradients (for --cuda-graph, on one process).
  nn::AdamW& adamw();
  // Calls use(state) with the whole AdamW state (with zero: gathered from every rank for the call).
  void with_whole_state(const std::function<void(nn::AdamW&)>& use);
  std::string description() const;  // "AdamW" or "AdamW, ZeRO-1 (state sharded over 2 processes)"

 private:
  distributed::Communicator& comm_;
  std::vector<nn::NamedParameter> params_;
  AdamWOptions options_;
  double weight_decay_;
  bool zero_;
  nn::DataParallel parallel_;
  std::unique_ptr<nn::AdamW> adamw_;            // without zero, and before start()
  std::unique_ptr<nn::ShardedAdamW> sharded_;   // with zero, after start()
};

// What one training step of the programs gives the loop.
struct StepResult {
  double loss;       // over the whole batch (every rank's averaged)
  double grad_norm;  // before clipping
  bool stop;         // a stop was asked for (Ctrl-C) on some rank, before the run's last step
};

// One training step, the same in both programs: the loss of this rank's rows of (x, y) (under
// bfloat16 autocast when `autocast`: core/ops/autocast.h), the backward, the optimizer at learning
// rate lr (gradients averaged over the ranks and clipped to clip), and the ranks' agreement on the
// loss and on stopping. `step` counts from 0. An error when the loss is not finite.
template <class Model>
StepResult train_step(Model& model, const Tensor& x, const Tensor& y, const ParallelRun& run,
                      ParallelOptimizer& optimizer, double lr, double clip, int64_t step, int64_t steps,
                      bool autocast);

// The run's <out>/log.jsonl, on rank 0 only, once the run is set up (the earlier run's files the
// new one replaces are removed first: claim_output_folder). keep_through_step: JsonlLog's.
std::optional<JsonlLog> open_log(const ParallelRun& run, const std::string& out, const std::vector<std::string>& replaced,
                                 int64_t keep_through_step);

// After each step: a checkpoint when one is due (Checkpointer::due), written by rank 0 (with ZeRO-1,
// every rank first gathers the state).
void checkpoint_if_due(Checkpointer& checkpointer, ParallelOptimizer& optimizer, const ParallelRun& run,
                       const nn::Module& model, const nn::TrainingState& state, bool stop);

// The programs' last word on an error: "<program> (rank 1): <what>" on stderr (the rank only when
// there are several), the other ranks ended; returns the exit status, 1.
int report_failure(const std::string& program, const std::optional<ParallelRun>& run, const std::exception& error);

template <class Model>
StepResult train_step(Model& model, const Tensor& x, const Tensor& y, const ParallelRun& run,
                      ParallelOptimizer& optimizer, double lr, double clip, int64_t step, int64_t steps,
                      bool autocast) {
  Tensor loss;
  {
    profiler::PhaseScope forward(profiler::Phase::Forward);  // names the phase in traces and NVTX
    AutocastGuard mixed_precision(autocast);
    loss = model.loss(run.shard(x), run.shard(y));
  }
  model.zero_grad();
  loss.backward();
  double grad_norm = optimizer.step(lr, clip);
  auto [loss_value, stop] = run.agree(loss.item(), stop_requested() && step + 1 < steps);
  DYT_CHECK(std::isfinite(loss_value), "the loss became {} at step {}", loss_value, step + 1);
  return {loss_value, grad_norm, stop};
}

}  // namespace dytgrad::tools
