#include "nn/data_parallel.h"

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "core/profiler.h"

namespace dytgrad::nn {

DataParallel::DataParallel(distributed::Communicator& comm, std::vector<NamedParameter> params, int64_t bucket_bytes)
    : comm_(comm), params_(std::move(params)), bucket_bytes_(bucket_bytes) {
  DYT_CHECK(bucket_bytes > 0, "DataParallel: bucket_bytes must be > 0, got {}", bucket_bytes);
}

void DataParallel::broadcast_parameters() {
  if (world_size() == 1) return;
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Communication);
  for (const NamedParameter& p : params_) {
    DYT_CHECK(p.tensor->is_contiguous(), "DataParallel: parameter '{}' is not contiguous", p.name);
    comm_.broadcast(*p.tensor, 0);
  }
}

void DataParallel::average_gradients() {
  if (world_size() == 1) return;
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Communication);
  // A bucket: consecutive parameters with gradients, of one dtype, about bucket_bytes_ in all.
  std::vector<const NamedParameter*> bucket;
  int64_t bytes = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    std::vector<Tensor> flat_grads;
    for (const NamedParameter* p : bucket) flat_grads.push_back(p->tensor->grad().reshape({-1}));
    Tensor flat = concat(flat_grads, 0);
    comm_.all_reduce(flat, distributed::Reduce::Average);
    int64_t offset = 0;
    for (const NamedParameter* p : bucket) {
      int64_t n = p->tensor->numel();
      p->tensor->set_grad(flat.narrow(0, offset, n).reshape(p->tensor->shape()));
      offset += n;
    }
    bucket.clear();
    bytes = 0;
  };
  for (const NamedParameter& p : params_) {
    Tensor g = p.tensor->grad();
    if (!g.defined()) continue;
    if (!bucket.empty() && bucket.front()->tensor->grad().dtype() != g.dtype()) flush();
    bucket.push_back(&p);
    bytes += g.numel() * element_size(g.dtype());
    if (bytes >= bucket_bytes_) flush();
  }
  flush();
}

Tensor batch_shard(const distributed::Communicator& comm, const Tensor& batch) {
  DYT_CHECK(batch.dim() >= 1, "batch_shard: expected a batch with a leading batch dim, got a scalar");
  int64_t rows = batch.size(0), world = comm.world_size();
  DYT_CHECK(rows % world == 0,
            "data parallelism over {} processes needs a batch that {} divides, got a batch of {} (shape {})", world,
            world, rows, shape_str(batch.shape()));
  if (world == 1) return batch;
  int64_t each = rows / world;
  return batch.narrow(0, comm.rank() * each, each).contiguous();
}

std::pair<double, bool> agree_on_step(distributed::Communicator& comm, double loss, bool stop) {
  if (comm.world_size() == 1) return {loss, stop};
  profiler::PhaseScope phase(profiler::Phase::Communication);
  Tensor both = Tensor::from_vector<double>({loss, stop ? 1.0 : 0.0}, {2}, comm.device());
  comm.all_reduce(both, distributed::Reduce::Sum);
  std::vector<double> sums = both.to_vector<double>();
  return {sums[0] / double(comm.world_size()), sums[1] > 0};
}

}  // namespace dytgrad::nn
