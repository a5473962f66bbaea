// A training step captured as a CUDA graph: the loss, the backward, the gradients' norm and AdamW's
// clipped update recorded once, then replayed with one launch and without the host code that issued
// them (the GPT at train-gpt --gpu-config makes about 600 kernel calls a step). The first run() is
// an ordinary step, which warms what a capture cannot set up (cuBLAS's handle and workspace, the
// kernels' first loads, the allocator's blocks); the second captures the step and replays it; later
// ones only replay.
//
// The captured step must be the same every time: the same shapes, its batch read from the same
// tensors (copy each new batch into them with Tensor::copy_from before run()), no host reads inside
// it (item(), anomaly detection) and no dropout: core/capture.h makes those fail with a message that names them. What the step
// computes is rewritten in place by each replay: the loss and norm run() returns, the gradients.
// Embedding and cross-entropy index checks are read after each replay (kernels/graph.h).
//
// On the CPU nothing is captured: run() runs the step every time, under CaptureScope from the second
// run on, so a step that could not be captured fails there too, and the same code path (the
// hyperparameters loaded into a tensor) is exercised.
#pragma once
#include <functional>

#include "optim.h"

namespace dytgrad::nn {

class CapturedStep {
 public:
  // loss_and_backward: zeroes the gradients, computes the loss on the batch tensors and runs the
  // backward; returns the loss. The optimiser updates with clipping to max_grad_norm.
  CapturedStep(std::function<Tensor()> loss_and_backward, AdamW& optimizer, double max_grad_norm, Device device);
  ~CapturedStep();
  CapturedStep(const CapturedStep&) = delete;
  CapturedStep& operator=(const CapturedStep&) = delete;

  struct Result {
    Tensor loss, grad_norm;  // on the device; on CUDA after the capture, the same tensors every run
  };
  Result run(double lr);  // one step with this learning rate
  bool captured() const { return graph_ != 0; }
  int64_t graph_nodes() const;  // the captured graph's kernels, copies and memsets; -1 before the capture

 private:
  void capture();
  std::function<Tensor()> loss_and_backward_;
  AdamW& optimizer_;
  double max_grad_norm_;
  Device device_;
  int64_t runs_ = 0;
  int graph_ = 0;  // kernels/graph.h's id, 0 before the capture
  Result captured_result_;
};

}  // namespace dytgrad::nn
