#include "nn/sharded_adamw.h"

#include <algorithm>
#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "core/profiler.h"

namespace dytgrad::nn {

ShardedAdamW::ShardedAdamW(distributed::Communicator& comm, std::vector<NamedParameter> params, AdamWOptions options,
                           double weight_decay)
    : comm_(comm), params_(std::move(params)), options_(options), weight_decay_(weight_decay) {
  DYT_CHECK(!params_.empty(), "ShardedAdamW: no parameters");
  NoGradGuard no_grad;
  const Tensor& first = *params_[0].tensor;
  int64_t total = 0;
  std::vector<Tensor> flat;
  for (const NamedParameter& p : params_) {
    DYT_CHECK(p.tensor->dtype() == first.dtype() && p.tensor->device() == comm_.device(),
              "ShardedAdamW: parameter '{}' is {} on {}; all must be {} on {}", p.name, dtype_name(p.tensor->dtype()),
              p.tensor->device().str(), dtype_name(first.dtype()), comm_.device().str());
    offsets_.push_back(total);
    total += p.tensor->numel();
    flat.push_back(p.tensor->reshape({-1}));
  }
  int64_t world = comm_.world_size();
  shard_ = (total + world - 1) / world;
  if (shard_ * world > total) flat.push_back(Tensor::zeros({shard_ * world - total}, first.dtype(), first.device()));
  flat_params_ = concat(flat, 0);
  // Each parameter becomes a view of the flat buffer (same values, same name, a leaf again).
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = *params_[i].tensor;
    std::string name = p.name();
    p = flat_params_.narrow(0, offsets_[i], p.numel()).reshape(p.shape()).detach().requires_grad_();
    p.set_name(name);
  }
  exp_avg_ = Tensor::zeros({shard_}, first.dtype(), first.device());
  exp_avg_sq_ = Tensor::zeros({shard_}, first.dtype(), first.device());
}

Tensor ShardedAdamW::flat_gradients() const {
  std::vector<Tensor> flat;
  int64_t total = 0;
  for (const NamedParameter& p : params_) {
    Tensor g = p.tensor->grad();
    DYT_CHECK(g.defined(), "ShardedAdamW: parameter '{}' has no gradient (ZeRO-1 needs every parameter's)", p.name);
    flat.push_back(g.reshape({-1}));
    total += g.numel();
  }
  int64_t padded = shard_ * comm_.world_size();
  if (padded > total) flat.push_back(Tensor::zeros({padded - total}, flat_params_.dtype(), flat_params_.device()));
  return concat(flat, 0);
}

double ShardedAdamW::step(double lr, double max_grad_norm) {
  NoGradGuard no_grad;
  int64_t begin = comm_.rank() * shard_, end = begin + shard_;
  Tensor grad = Tensor::empty({shard_}, flat_params_.dtype(), flat_params_.device());
  {
    profiler::PhaseScope phase(profiler::Phase::Communication);
    comm_.reduce_scatter(flat_gradients(), grad, distributed::Reduce::Average);
  }
  profiler::PhaseScope phase(profiler::Phase::Optimizer);
  // The global norm: each rank's sum of squares (float64), summed over the ranks.
  double sq_norm = comm_.all_reduce(sum(mul(grad, grad)).to(DType::Float64).item(), distributed::Reduce::Sum);
  double scale = clip_factor(sq_norm, max_grad_norm);  // as clip_grad_norm
  if (scale != 1.0) grad = mul(grad, scale);
  // AdamW on the pieces of the parameters that fall in this rank's shard (each with its decay).
  std::vector<AdamWParam> pieces;
  for (size_t i = 0; i < params_.size(); ++i) {
    int64_t from = std::max(offsets_[i], begin), to = std::min(offsets_[i] + params_[i].tensor->numel(), end);
    if (from >= to) continue;
    pieces.push_back({flat_params_.narrow(0, from, to - from), grad.narrow(0, from - begin, to - from),
                      exp_avg_.narrow(0, from - begin, to - from), exp_avg_sq_.narrow(0, from - begin, to - from),
                      params_[i].weight_decay ? weight_decay_ : 0.0});
  }
  AdamWOptions o = options_;
  o.lr = lr;
  ++step_;
  if (!pieces.empty()) adamw_step(pieces, o, step_);
  {
    profiler::PhaseScope communication(profiler::Phase::Communication);
    Tensor mine = flat_params_.narrow(0, begin, shard_);
    comm_.all_gather(mine, flat_params_);  // in place
  }
  return std::sqrt(sq_norm);
}

Tensor ShardedAdamW::whole(const Tensor& shard) {
  Tensor all = Tensor::empty({shard_ * comm_.world_size()}, shard.dtype(), shard.device());
  comm_.all_gather(shard, all);
  return all;
}

void ShardedAdamW::gather_state(AdamW& full) {
  NoGradGuard no_grad;
  profiler::PhaseScope phase(profiler::Phase::Communication);
  DYT_CHECK(full.exp_avg().size() == params_.size(), "ShardedAdamW::gather_state: an AdamW over {} parameters, expected {}",
            full.exp_avg().size(), params_.size());
  Tensor m = whole(exp_avg_), v = whole(exp_avg_sq_);
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = *params_[i].tensor;
    full.exp_avg()[i] = m.narrow(0, offsets_[i], p.numel()).reshape(p.shape());
    full.exp_avg_sq()[i] = v.narrow(0, offsets_[i], p.numel()).reshape(p.shape());
  }
  full.set_steps_taken(step_);
}

void ShardedAdamW::load_state(AdamW& full) {
  NoGradGuard no_grad;
  DYT_CHECK(full.exp_avg().size() == params_.size(), "ShardedAdamW::load_state: an AdamW over {} parameters, expected {}",
            full.exp_avg().size(), params_.size());
  auto my_shard = [&](const std::vector<Tensor>& state) {
    std::vector<Tensor> flat;
    int64_t total = 0;
    for (const Tensor& t : state) {
      flat.push_back(t.reshape({-1}));
      total += t.numel();
    }
    if (shard_ * comm_.world_size() > total)
      flat.push_back(Tensor::zeros({shard_ * comm_.world_size() - total}, flat_params_.dtype(), flat_params_.device()));
    return concat(flat, 0).narrow(0, comm_.rank() * shard_, shard_).clone();  // its own memory, not the whole
  };
  exp_avg_ = my_shard(full.exp_avg());
  exp_avg_sq_ = my_shard(full.exp_avg_sq());
  step_ = full.steps_taken();
}

}  // namespace dytgrad::nn
