#include "nn/captured_step.h"

#include "core/capture.h"
#include "core/error.h"
#include "core/ops/dispatch.h"
#include "core/profiler.h"
#include "kernels/graph.h"

namespace dytgrad::nn {

CapturedStep::CapturedStep(std::function<Tensor()> loss_and_backward, AdamW& optimizer, double max_grad_norm,
                           Device device)
    : loss_and_backward_(std::move(loss_and_backward)), optimizer_(optimizer), max_grad_norm_(max_grad_norm),
      device_(device) {
  DYT_CHECK(max_grad_norm > 0, "CapturedStep: max_grad_norm must be positive, got {}", max_grad_norm);
  if (device.is_cuda()) require_verified_cuda("CapturedStep (a CUDA graph of the step)", device);
}

CapturedStep::~CapturedStep() {
  if (graph_) kernels::cuda::destroy_graph(graph_);
}

CapturedStep::Result CapturedStep::run(double lr) {
  if (runs_++ == 0) {
    Tensor loss = loss_and_backward_();
    return {loss, optimizer_.step_clipped(lr, max_grad_norm_)};
  }
  optimizer_.load_hyperparameters(lr);
  if (!device_.is_cuda()) {
    try {
      CaptureScope scope;
      Tensor loss = loss_and_backward_();
      return {loss, optimizer_.step_clipped_loaded(max_grad_norm_)};
    } catch (...) {
      optimizer_.set_steps_taken(optimizer_.steps_taken() - 1);  // load_hyperparameters counted a step not taken
      throw;
    }
  }
  if (!graph_) capture();
  kernels::cuda::replay(graph_);
  int64_t bad = kernels::cuda::first_bad_index(graph_);
  DYT_CHECK(bad < 0, "CapturedStep: an embedding or cross_entropy index in this step's batch was out of range (at "
            "position {} of that op's indices, flattened); the step's update has been applied", bad);
  return captured_result_;
}

void CapturedStep::capture() {
  DYT_CHECK(!profiler::enabled(), "CapturedStep: the profiler times kernel calls with events on the host's "
            "stream, which a capture cannot record; profile the step without capturing it");
  int graph = kernels::cuda::begin_capture();
  try {
    CaptureScope scope;
    Tensor loss = loss_and_backward_();
    Tensor norm = optimizer_.step_clipped_loaded(max_grad_norm_);
    kernels::cuda::end_capture(graph);
    captured_result_ = {loss, norm};
  } catch (...) {
    kernels::cuda::abandon_capture(graph);
    optimizer_.set_steps_taken(optimizer_.steps_taken() - 1);  // load_hyperparameters counted a step not taken
    throw;
  }
  graph_ = graph;
}

int64_t CapturedStep::graph_nodes() const { return graph_ ? kernels::cuda::graph_nodes(graph_) : -1; }

}  // namespace dytgrad::nn
