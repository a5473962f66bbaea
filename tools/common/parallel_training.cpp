#include "tools/common/parallel_training.h"

#include <cstdio>
#include <filesystem>
#include <fmt/format.h>

#include "core/error.h"
#include "tools/common/program_error.h"

namespace dytgrad::tools {

ParallelRun::ParallelRun(Device device) : comm_(distributed::world(device)) {
  if (!is_lead()) DYT_CHECK(std::freopen("/dev/null", "w", stdout) != nullptr, "rank {}: cannot silence stdout", comm_.rank());
}

void ParallelRun::check_batch(int64_t batch) const {
  DYT_CHECK(batch % world_size() == 0,
            "--batch {} cannot be split over {} processes: give a multiple of {} (the batch is the whole step's, "
            "each process takes an equal share)", batch, world_size(), world_size());
}

std::string ParallelRun::description(int64_t batch, const char* items) const {
  return fmt::format("{} processes ({}), {} of the {} {} each", world_size(), comm_.backend(), batch / world_size(),
                     batch, items);
}

void ParallelRun::abort_others_after_error() const {
  if (world_size() > 1) comm_.abort(1);
}

ParallelOptimizer::ParallelOptimizer(const ParallelRun& run, std::vector<nn::NamedParameter> params,
                                     AdamWOptions options, double weight_decay, bool zero)
    : comm_(run.communicator()),
      params_(params),
      options_(options),
      weight_decay_(weight_decay),
      zero_(zero),
      parallel_(run.communicator(), params),
      adamw_(std::make_unique<nn::AdamW>(params, options, weight_decay)) {}

nn::AdamW& ParallelOptimizer::state_to_load() {
  DYT_CHECK(adamw_ != nullptr, "ParallelOptimizer: state_to_load() after start() with ZeRO-1");
  return *adamw_;
}

nn::AdamW& ParallelOptimizer::adamw() {
  DYT_CHECK(adamw_ != nullptr && !zero_, "ParallelOptimizer: adamw() with ZeRO-1 (the state is sharded)");
  return *adamw_;
}

void ParallelOptimizer::start() {
  parallel_.broadcast_parameters();
  if (!zero_) return;
  sharded_ = std::make_unique<nn::ShardedAdamW>(comm_, params_, options_, weight_decay_);
  sharded_->load_state(*adamw_);
  adamw_.reset();
}

double ParallelOptimizer::step(double lr, double max_grad_norm) {
  if (sharded_) return sharded_->step(lr, max_grad_norm);
  parallel_.average_gradients();
  return adamw_->step_clipped(lr, max_grad_norm).item();
}

void ParallelOptimizer::with_whole_state(const std::function<void(nn::AdamW&)>& use) {
  if (!sharded_) return use(*adamw_);
  nn::AdamW whole(params_, options_, weight_decay_);
  sharded_->gather_state(whole);
  use(whole);
}

std::string ParallelOptimizer::description() const {
  if (!zero_) return "AdamW";
  return fmt::format("AdamW, ZeRO-1 (its state sharded over {} process{})", comm_.world_size(),
                     comm_.world_size() == 1 ? "" : "es");
}

std::optional<JsonlLog> open_log(const ParallelRun& run, const std::string& out, const std::vector<std::string>& replaced,
                                 int64_t keep_through_step) {
  if (!run.is_lead()) return std::nullopt;
  remove_earlier_run(out, replaced);
  return std::optional<JsonlLog>(std::in_place, (std::filesystem::path(out) / "log.jsonl").string(), keep_through_step);
}

void checkpoint_if_due(Checkpointer& checkpointer, ParallelOptimizer& optimizer, const ParallelRun& run,
                       const nn::Module& model, const nn::TrainingState& state, bool stop) {
  if (!checkpointer.due(state.step, stop)) return;
  optimizer.with_whole_state([&](nn::AdamW& whole) {
    if (run.is_lead()) checkpointer.save(model, whole, state, stop);
  });
}

int report_failure(const std::string& program, const std::optional<ParallelRun>& run, const std::exception& error) {
  bool several = run && run->world_size() > 1;
  fmt::print(stderr, "{}{}: {}\n", program, several ? fmt::format(" (rank {})", run->communicator().rank()) : "",
             describe_error(error));
  if (several) run->abort_others_after_error();
  return 1;
}

}  // namespace dytgrad::tools
