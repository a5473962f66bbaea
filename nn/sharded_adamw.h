// ZeRO-1 (Rajbhandari et al., 2020; llm.c's -z 1): AdamW whose state is split over the ranks of
// data-parallel training. All parameters live in one flat buffer (each parameter tensor becomes a
// view of it), cut into world_size equal shards; rank r keeps m and v of shard r only, so the
// optimizer state per rank is 1/world_size of AdamW's. One step:
//   reduce-scatter  the gradients, averaged: rank r receives the average of shard r
//   clip            by the global gradient norm (each rank's sum of squares, all-reduced)
//   AdamW           on shard r: the same fused kernel as nn::AdamW, one call per parameter piece
//   all-gather      the updated shards, in place: every rank has the whole model again
// It replaces both DataParallel::average_gradients and nn::AdamW (and clip_grad_norm) in the loop,
// and takes the same step they do (to float rounding).
#pragma once
#include <cstdint>
#include <vector>

#include "../core/distributed/communicator.h"
#include "../core/ops/optimizer.h"
#include "module.h"
#include "optim.h"

namespace dytgrad::nn {

class ShardedAdamW {
 public:
  // Call after the parameters have their final values and device (after a checkpoint is loaded and
  // rank 0's weights broadcast): their tensors are replaced by views of the flat buffer.
  ShardedAdamW(distributed::Communicator& comm, std::vector<NamedParameter> params, AdamWOptions options,
               double weight_decay);
  // One step at learning rate lr, gradients clipped to the global norm max_grad_norm (as
  // clip_grad_norm does). Every parameter must have a gradient. Returns the norm before clipping.
  double step(double lr, double max_grad_norm);
  int64_t steps_taken() const { return step_; }

  // The whole state as nn::AdamW holds it (m and v per parameter, the step count), for checkpoints:
  // gathered from every rank into `full` (an AdamW over the same parameters). Every rank calls it.
  void gather_state(AdamW& full);
  // This rank's shard of a whole state (read from a checkpoint).
  void load_state(AdamW& full);
  int64_t shard_elements() const { return shard_; }

 private:
  distributed::Communicator& comm_;
  std::vector<NamedParameter> params_;
  std::vector<int64_t> offsets_;  // where each parameter starts in the flat buffer
  AdamWOptions options_;
  double weight_decay_;
  int64_t shard_ = 0;              // elements per shard (the flat buffer is padded to world_size shards)
  Tensor flat_params_;             // [world_size x shard_]
  Tensor exp_avg_, exp_avg_sq_;    // this rank's shard of m and v
  int64_t step_ = 0;

  Tensor flat_gradients() const;               // [world_size x shard_], zero padding
  Tensor whole(const Tensor& shard);           // all-gathered into a new [world_size x shard_] tensor
};

}  // namespace dytgrad::nn
