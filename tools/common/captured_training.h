// train-gpt --cuda-graph: the training step as an nn::CapturedStep, one CUDA graph replayed per
// step (on the CPU, the same step under the capture's checks: nothing is captured there). For one
// process, AdamW without ZeRO and no dropout (check_captured_training says so up front). The loop's
// batches are copied into fixed tensors, which the captured step reads; the loss and gradient norm
// are read back after each step, as train_step does.
#pragma once
#include <cmath>

#include "../../core/error.h"
#include "../../core/ops/autocast.h"
#include "../../core/profiler.h"
#include "../../nn/captured_step.h"
#include "interrupt.h"
#include "parallel_training.h"

namespace dytgrad::tools {

constexpr const char* kCudaGraphHelp =
    "after the first step, capture the training step as a CUDA graph and replay it (one process, no --zero, "
    "--dropout 0; the same weights to the bit). On CUDA not yet run on a GPU: set DYTGRAD_CUDA_UNVERIFIED=1. On "
    "the CPU: the same step under the capture's checks";

inline void check_captured_training(const ParallelRun& run, bool zero, double dropout, bool profiling) {
  DYT_CHECK(run.world_size() == 1, "--cuda-graph: one process only (the data-parallel collectives are not captured); "
            "this run has {}", run.world_size());
  DYT_CHECK(!zero, "--cuda-graph: not with --zero (the sharded optimiser's collectives are not captured)");
  DYT_CHECK(dropout == 0, "--cuda-graph: needs --dropout 0 (a replay would draw the captured step's dropout "
            "masks again), got {}", dropout);
  DYT_CHECK(!profiling, "--cuda-graph: not with --profile (the profiler's events cannot be captured); profile the "
            "step without --cuda-graph");
}

template <class Model>
class CapturedTraining {
 public:
  CapturedTraining(Model& model, nn::AdamW& optimizer, double clip, bool autocast, const Shape& batch_shape,
                   Device device)
      : model_(model), x_(Tensor::empty(batch_shape, DType::Int64, device)),
        y_(Tensor::empty(batch_shape, DType::Int64, device)),
        step_([this, autocast] { return loss_and_backward(autocast); }, optimizer, clip, device) {}

  // As train_step (parallel_training.h), for one process.
  StepResult step(const Tensor& x, const Tensor& y, double lr, int64_t step, int64_t steps) {
    x_.copy_from(x);
    y_.copy_from(y);
    nn::CapturedStep::Result r = step_.run(lr);
    double loss = r.loss.item();
    DYT_CHECK(std::isfinite(loss), "the loss became {} at step {}", loss, step + 1);
    return {loss, r.grad_norm.item(), stop_requested() && step + 1 < steps};
  }
  int64_t graph_nodes() const { return step_.graph_nodes(); }

 private:
  Tensor loss_and_backward(bool autocast) {
    Tensor loss;
    {
      profiler::PhaseScope forward(profiler::Phase::Forward);
      AutocastGuard mixed_precision(autocast);
      loss = model_.loss(x_, y_);
    }
    model_.zero_grad();
    loss.backward();
    return loss;
  }

  Model& model_;
  Tensor x_, y_;
  nn::CapturedStep step_;
};

}  // namespace dytgrad::tools
