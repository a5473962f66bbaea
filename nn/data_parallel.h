// Data-parallel training over the ranks of a communicator (core/distributed/communicator.h): every
// rank holds the whole model, takes its own rows of each batch, and before the optimizer step the
// gradients are averaged over the ranks, so every rank takes the same step. With the loss a mean
// over the batch, the ranks' average gradient is the gradient of the whole batch: N ranks with
// batch B each step as one process with batch N x B does (to float rounding).
//
//   distributed::Communicator& comm = distributed::world(device);
//   nn::DataParallel parallel(comm, model.named_parameters());
//   parallel.broadcast_parameters();                      // every rank starts from rank 0's weights
//   ... loss = model.loss(nn::batch_shard(comm, x), nn::batch_shard(comm, y)); loss.backward();
//   parallel.average_gradients();                         // then clipping and the optimizer, as usual
#pragma once
#include <cstdint>
#include <vector>

#include "../core/distributed/communicator.h"
#include "module.h"

namespace dytgrad::nn {

class DataParallel {
 public:
  // params: the model's parameters, the same list in the same order on every rank. Gradients go in
  // buckets of about bucket_bytes, one all-reduce each.
  DataParallel(distributed::Communicator& comm, std::vector<NamedParameter> params,
               int64_t bucket_bytes = int64_t(25) << 20);
  int rank() const { return comm_.rank(); }
  int world_size() const { return comm_.world_size(); }
  bool is_lead() const { return comm_.rank() == 0; }  // the rank that logs, evaluates and saves

  // Every rank's parameters become rank 0's.
  void broadcast_parameters();
  // After the backward: each gradient becomes its average over the ranks (then a view of the bucket
  // it was averaged in). Parameters without a gradient must be the same on every rank.
  void average_gradients();
 private:
  distributed::Communicator& comm_;
  std::vector<NamedParameter> params_;
  int64_t bucket_bytes_;
};

// This rank's rows of a batch that every rank drew alike: rows [rank B / N, (rank + 1) B / N) of the
// first dim B, which N must divide (an error that says so).
Tensor batch_shard(const distributed::Communicator& comm, const Tensor& batch);

// The step's loss averaged over the ranks, and whether any rank was asked to stop (Ctrl-C): one
// small all-reduce, so that every rank logs the same loss and stops after the same step.
std::pair<double, bool> agree_on_step(distributed::Communicator& comm, double loss, bool stop);

}  // namespace dytgrad::nn
