// Data parallelism: the communicator's collectives (core/distributed/), DataParallel and ZeRO-1's
// ShardedAdamW (nn/). The suite runs these as one process (world size 1: the single-process
// communicator); CTest's distributed.two_ranks runs them again under `mpirun -np 2`, every test on
// both ranks over MPI. Expected values are written for any world size.
#include <cmath>

#include "core/distributed/communicator.h"
#include "core/random.h"
#include "helpers.h"
#include "model_helpers.h"
#include "nn/data_parallel.h"
#include "nn/sharded_adamw.h"

using namespace dytgrad;
using distributed::Reduce;

namespace {
distributed::Communicator& comm() { return distributed::world(Device::cpu()); }

// Largest |a - b| over two tensors of one shape.
double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  std::vector<double> x = a.to(DType::Float64).to_vector<double>(), y = b.to(DType::Float64).to_vector<double>();
  double worst = 0;
  for (size_t j = 0; j < x.size(); ++j) worst = std::max(worst, std::abs(x[j] - y[j]));
  return worst;
}

// Every parameter of a model in float64, so that the comparisons below see the algorithm and not
// float32 rounding (which AdamW amplifies where a gradient is near 0: m / sqrt(v) of tiny values).
void to_float64(models::GPT& model) {
  for (const nn::NamedParameter& p : model.named_parameters()) {
    std::string name = p.tensor->name();
    *p.tensor = p.tensor->to(DType::Float64).detach().requires_grad_();
    p.tensor->set_name(name);
  }
}

// The same over two models' parameters, in order.
double max_difference(models::GPT& a, models::GPT& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  double worst = 0;
  for (size_t i = 0; i < pa.size(); ++i) worst = std::max(worst, max_abs_diff(*pa[i].tensor, *pb[i].tensor));
  return worst;
}
}  // namespace

TEST_CASE("distributed: all_reduce, broadcast, all_gather and reduce_scatter over every rank", "[distributed]") {
  int r = comm().rank(), world = comm().world_size();
  INFO("rank " << r << " of " << world << " (" << comm().backend() << ")");
  double ranks_sum = world * (world + 1) / 2.0;  // of (rank + 1) over the ranks

  Tensor t = Tensor::full({5}, r + 1.0);
  comm().all_reduce(t, Reduce::Sum);
  for (float v : t.to_vector<float>()) REQUIRE(v == float(ranks_sum));
  Tensor d = Tensor::full({2, 3}, r + 1.0, DType::Float64);
  comm().all_reduce(d, Reduce::Average);
  for (double v : d.to_vector<double>()) REQUIRE(v == ranks_sum / world);
  Tensor i = Tensor::full({4}, r + 1.0, DType::Int64);
  comm().all_reduce(i, Reduce::Sum);
  for (int64_t v : i.to_vector<int64_t>()) REQUIRE(v == int64_t(ranks_sum));
  REQUIRE(comm().all_reduce(0.5 * (r + 1), Reduce::Sum) == 0.5 * ranks_sum);

  int root = world - 1;
  Tensor b = mul(Tensor::arange(0, 7), double(r + 1));
  comm().broadcast(b, root);
  REQUIRE(max_abs_diff(b, mul(Tensor::arange(0, 7), double(root + 1))) == 0);

  Tensor gathered = Tensor::empty({3 * world});
  comm().all_gather(Tensor::full({3}, double(r)), gathered);
  std::vector<float> g = gathered.to_vector<float>();
  for (int k = 0; k < 3 * world; ++k) REQUIRE(g[size_t(k)] == float(k / 3));
  // In place: each rank's own part already sits at its place in the output.
  Tensor in_place = Tensor::full({2 * world}, double(r));
  comm().all_gather(in_place.narrow(0, 2 * r, 2), in_place);
  std::vector<float> p = in_place.to_vector<float>();
  for (int k = 0; k < 2 * world; ++k) REQUIRE(p[size_t(k)] == float(k / 2));

  Tensor scattered = Tensor::empty({4});
  comm().reduce_scatter(mul(Tensor::arange(0, 4.0 * world), double(r + 1)), scattered, Reduce::Sum);
  std::vector<float> s = scattered.to_vector<float>();
  for (int k = 0; k < 4; ++k) REQUIRE(s[size_t(k)] == float((4 * r + k) * ranks_sum));
}

TEST_CASE("distributed: collectives refuse what they cannot exchange, saying why", "[distributed][errors]") {
  int world = comm().world_size();
  Tensor t = Tensor::randn({4, 3}).transpose(0, 1);
  REQUIRE_THROWS_WITH(comm().all_reduce(t, Reduce::Sum), Catch::Contains("all_reduce: expected a contiguous tensor"));
  Tensor mask = Tensor::zeros({3}, DType::Bool);
  REQUIRE_THROWS_WITH(comm().broadcast(mask, 0), Catch::Contains("expected a float32, float64 or int64 tensor, got bool"));
  Tensor index = Tensor::zeros({3}, DType::Int64);
  REQUIRE_THROWS_WITH(comm().all_reduce(index, Reduce::Average), Catch::Contains("cannot average an int64 tensor"));
  Tensor out = Tensor::empty({3 * world + 1});
  REQUIRE_THROWS_WITH(comm().all_gather(Tensor::ones({3}), out), Catch::Contains("all_gather: expected out of"));
  Tensor x = Tensor::ones({3});
  REQUIRE_THROWS_WITH(comm().broadcast(x, world), Catch::Contains("is not a rank"));
  if (world > 1)  // (one process takes any batch)
    REQUIRE_THROWS_WITH(nn::batch_shard(comm(), Tensor::zeros({2 * world + 1, 4})),
                        Catch::Contains("needs a batch that") && Catch::Contains("divides"));
}

TEST_CASE("distributed: N ranks with batch B each step as one process with batch N x B (dropout too), and ZeRO-1 as plain data parallelism", "[distributed]") {
  int world = comm().world_size();
  const int64_t batch = 4 * world, steps = 3;
  models::GPTConfig config = test::tiny_gpt("dyt", 0.1);
  // One process with the whole batch, computed on every rank alone (no communication); data
  // parallelism over the ranks; and data parallelism with ZeRO-1. The same initial weights, and
  // dropout masks: each rank draws its rows' part of the whole batch's (Generator::set_shard).
  models::GPT whole(config, 7), parallel_model(config, 7), zero_model(config, 7);
  parallel_model.generator().set_shard(comm().rank(), world);
  zero_model.generator().set_shard(comm().rank(), world);
  for (models::GPT* m : {&whole, &parallel_model, &zero_model}) to_float64(*m);
  auto whole_params = whole.named_parameters(), parallel_params = parallel_model.named_parameters();
  nn::AdamW whole_adam(whole_params, {1e-2, 0.9, 0.95, 1e-8}, 0.1);
  nn::AdamW parallel_adam(parallel_params, {1e-2, 0.9, 0.95, 1e-8}, 0.1);
  nn::DataParallel parallel(comm(), parallel_params);
  nn::DataParallel zero_parallel(comm(), zero_model.named_parameters());
  parallel.broadcast_parameters();
  zero_parallel.broadcast_parameters();
  nn::ShardedAdamW zero_adam(comm(), zero_model.named_parameters(), {1e-2, 0.9, 0.95, 1e-8}, 0.1);
  int64_t total = 0;
  for (const auto& p : whole_params) total += p.tensor->numel();
  REQUIRE(zero_adam.shard_elements() == (total + world - 1) / world);  // each rank keeps 1/world of m and v

  Generator batches(11);  // the same batches on every rank
  for (int64_t step = 0; step < steps; ++step) {
    Tensor x = Tensor::randint(0, config.vocab, {batch, config.block_size}, Device::cpu(), &batches);
    Tensor y = Tensor::randint(0, config.vocab, {batch, config.block_size}, Device::cpu(), &batches);

    Tensor whole_loss = whole.loss(x, y);
    whole.zero_grad();
    whole_loss.backward();
    double whole_norm = nn::clip_grad_norm(whole_params, 0.5);
    whole_adam.step(1e-2);

    Tensor loss = parallel_model.loss(nn::batch_shard(comm(), x), nn::batch_shard(comm(), y));
    parallel_model.zero_grad();
    loss.backward();
    parallel.average_gradients();
    double norm = nn::clip_grad_norm(parallel_params, 0.5);
    parallel_adam.step(1e-2);
    auto [average_loss, stop] = nn::agree_on_step(comm(), loss.item(), false);
    REQUIRE_FALSE(stop);
    REQUIRE(average_loss == Approx(whole_loss.item()).epsilon(1e-12));
    REQUIRE(norm == Approx(whole_norm).epsilon(1e-12));

    Tensor zero_loss = zero_model.loss(nn::batch_shard(comm(), x), nn::batch_shard(comm(), y));
    zero_model.zero_grad();
    zero_loss.backward();
    double zero_norm = zero_adam.step(1e-2, 0.5);
    REQUIRE(zero_norm == Approx(norm).epsilon(1e-12));
  }
  // The sums over the batch run in another order, so the weights agree to rounding (float64).
  CHECK(max_difference(whole, parallel_model) < 1e-10);
  CHECK(max_difference(parallel_model, zero_model) < 1e-10);
  CHECK(max_difference(whole, zero_model) < 1e-10);
  models::GPT untrained(config, 7);
  to_float64(untrained);
  REQUIRE(max_difference(whole, untrained) > 1e-3);  // and they did train

  // ZeRO-1's state gathered equals plain AdamW's; loaded back, each rank takes its shard again.
  nn::AdamW gathered(zero_model.named_parameters(), {1e-2, 0.9, 0.95, 1e-8}, 0.1);
  zero_adam.gather_state(gathered);
  REQUIRE(gathered.steps_taken() == steps);
  for (size_t i = 0; i < parallel_params.size(); ++i) {
    REQUIRE(max_abs_diff(gathered.exp_avg()[i], parallel_adam.exp_avg()[i]) < 1e-12);
    REQUIRE(max_abs_diff(gathered.exp_avg_sq()[i], parallel_adam.exp_avg_sq()[i]) < 1e-12);
  }
  nn::ShardedAdamW reloaded(comm(), zero_model.named_parameters(), {1e-2, 0.9, 0.95, 1e-8}, 0.1);
  reloaded.load_state(gathered);
  nn::AdamW again(zero_model.named_parameters(), {1e-2, 0.9, 0.95, 1e-8}, 0.1);
  reloaded.gather_state(again);
  for (size_t i = 0; i < parallel_params.size(); ++i)
    REQUIRE(max_abs_diff(again.exp_avg()[i], gathered.exp_avg()[i]) == 0);
}

// Hidden from the suite (a process has one communicator, and the suite's is the CPU one):
// tools/gpu_session.sh runs it as `DYTGRAD_NCCL=1 dytgrad_tests "[nccl]"`, one process, one GPU.
TEST_CASE("distributed: NCCL collectives on CUDA tensors, a world of one", "[.nccl]") {
  if (!cuda_is_available()) {
    WARN("no CUDA device visible: skipping the NCCL test");
    return;
  }
  distributed::Communicator& gpu = distributed::world(Device::cuda());
  REQUIRE(gpu.backend() == "NCCL");
  REQUIRE(gpu.world_size() == 1);
  Tensor x = Tensor::randn({1000}, DType::Float32, Device::cuda());
  Tensor expected = x.to(Device::cpu());
  for (Reduce op : {Reduce::Sum, Reduce::Average}) {
    Tensor t = x.clone();
    gpu.all_reduce(t, op);
    REQUIRE(max_abs_diff(t.to(Device::cpu()), expected) == 0);
  }
  Tensor d = Tensor::randn({7, 3}, DType::Float64, Device::cuda());
  Tensor d_before = d.to(Device::cpu());
  gpu.broadcast(d, 0);
  REQUIRE(max_abs_diff(d.to(Device::cpu()), d_before) == 0);
  Tensor gathered = Tensor::zeros({1000}, DType::Float32, Device::cuda());
  gpu.all_gather(x, gathered);
  REQUIRE(max_abs_diff(gathered.to(Device::cpu()), expected) == 0);
  Tensor scattered = Tensor::zeros({1000}, DType::Float32, Device::cuda());
  gpu.reduce_scatter(x, scattered, Reduce::Sum);
  REQUIRE(max_abs_diff(scattered.to(Device::cpu()), expected) == 0);
  REQUIRE(gpu.all_reduce(2.5, Reduce::Sum) == 2.5);
}
