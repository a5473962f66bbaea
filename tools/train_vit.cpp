// Trains a ViT on Fashion-MNIST (Debian's dataset-fashion-mnist) with DyT, LayerNorm, RMSNorm or no
// norm in every block; prints progress, writes a JSONL log of every step and checkpoints into
// --out, resumes exactly from a checkpoint, and ends with the test accuracy (per class too).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "models/config_json.h"
#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "tools/common/cli_checks.h"
#include "tools/common/interrupt.h"
#include "tools/common/parallel_training.h"
#include "tools/common/profile_window.h"
#include "tools/common/progress.h"
#include "tools/common/resume_flags.h"
#include "tools/common/training_run.h"
#include "tools/common/vit_checkpoint.h"
#include "tools/data/fashion_mnist.h"

using namespace dytgrad;

namespace {

struct Training {
  std::string data = data::kFashionMnistDir;
  int64_t epochs = 3, batch = 128, warmup = 100;
  int64_t steps = 0;  // > 0: the run's length in steps instead of epochs
  // The learning rate's schedule (warm-up, cosine to min_lr) spans the first run's steps; a resumed
  // run with another length keeps it (past its end, min_lr). 0 in checkpoints older than the field.
  int64_t schedule_steps = 0;
  double lr = 2e-3, min_lr = 1e-5, weight_decay = 0.05, clip = 1.0;
  uint64_t seed = 1;
  int64_t shift = 0;  // augmentation: random shifts of up to this many pixels; flip: mirror images
  bool flip = false;
  std::string dtype = "float32";  // or "bf16": autocast
  models::ViTConfig model;
  data::Augmentation augmentation() const { return {shift, flip, seed}; }
  bool autocast() const { return dtype == "bf16"; }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Training, data, epochs, steps, batch, warmup, schedule_steps, lr,
                                                min_lr, weight_decay, clip, seed, shift, flip, dtype, model)

const std::string kTraining = "train-vit.training";

// The rows of the training set for each step: every epoch walks a permutation drawn from its own
// seed, so a resumed run needs nothing but the step to continue the same order. The permutation
// is drawn once per epoch (ties between keys, which 60k draws make likely, go by row number).
class EpochOrder {
 public:
  EpochOrder(const Training& t, int64_t train_size) : seed_(t.seed), batch_(t.batch), size_(train_size) {}

  std::vector<int64_t> rows(int64_t step) {
    int64_t per_epoch = size_ / batch_, epoch = step / per_epoch, start = step % per_epoch * batch_;
    if (epoch != epoch_) {
      Generator gen(seed_ * 1000003 + uint64_t(epoch));
      std::vector<double> keys = Tensor::rand({size_}, DType::Float64, Device::cpu(), &gen).to_vector<double>();
      order_.resize(size_t(size_));
      std::iota(order_.begin(), order_.end(), 0);
      std::sort(order_.begin(), order_.end(), [&](int64_t a, int64_t b) {
        return keys[size_t(a)] < keys[size_t(b)] || (keys[size_t(a)] == keys[size_t(b)] && a < b);
      });
      epoch_ = epoch;
    }
    return {order_.begin() + start, order_.begin() + start + batch_};
  }

 private:
  uint64_t seed_;
  int64_t batch_, size_, epoch_ = -1;
  std::vector<int64_t> order_;
};

struct Evaluation {
  double loss = 0, accuracy = 0;
  std::array<double, 10> class_accuracy{};
};

Evaluation evaluate(models::ViT& model, const data::LabeledImages& test, double mean, double std, Device device,
                    bool autocast) {
  NoGradGuard no_grad;
  AutocastGuard mixed_precision(autocast);
  model.eval();
  Evaluation e;
  std::array<int64_t, 10> correct{}, seen{};
  const int64_t chunk = 500;
  for (int64_t start = 0; start < test.size(); start += chunk) {
    std::vector<int64_t> rows(static_cast<size_t>(std::min(chunk, test.size() - start)));
    std::iota(rows.begin(), rows.end(), start);
    auto [x, y] = data::image_batch(test, rows, mean, std, device);
    Tensor logits = model.forward(x);
    e.loss += cross_entropy(logits, y).item() * double(rows.size());
    auto l = logits.to_vector<float>();
    auto labels = y.to_vector<int64_t>();
    for (size_t i = 0; i < rows.size(); ++i) {
      auto first = l.begin() + std::ptrdiff_t(i * 10);
      int64_t guess = std::max_element(first, first + 10) - first;
      ++seen[size_t(labels[i])];
      correct[size_t(labels[i])] += guess == labels[i];
    }
  }
  model.train();
  int64_t all_correct = 0;
  for (size_t k = 0; k < 10; ++k) {
    e.class_accuracy[k] = seen[k] ? double(correct[k]) / double(seen[k]) : NAN;
    all_correct += correct[k];
  }
  e.loss /= double(test.size());
  e.accuracy = double(all_correct) / double(test.size());
  return e;
}

// DyT's initial gamma for the banner; with --gamma0 0 the value that gives LayerNorm's output scale.
std::string dyt_gamma0_text(const models::ViTConfig& m) {
  if (m.block.dyt_gamma0 > 0) return fmt::format("{}", m.block.dyt_gamma0);
  double matched = nn::gamma_for_unit_rms(m.block.norm, m.block.alpha0_other, models::initial_residual_std(m));
  return fmt::format("{:.3g} = LayerNorm's output scale", matched);
}

}  // namespace

int main(int argc, char** argv) {
  Training t;
  std::string norm = "dyt", device_name = "auto", out = "runs/vit", resume;
  // DyT's recipe (models::use_dyt_recipe, docs/RESULTS.md) is the default; --alpha0 and --gamma0
  // change one piece of it.
  models::ViTConfig recipe;
  recipe.block.norm = "dyt";
  models::use_dyt_recipe(recipe);
  double alpha0 = recipe.block.alpha0_other;
  t.model.block.dyt_gamma0 = recipe.block.dyt_gamma0;
  int64_t checkpoint_every = 500, eval_every = 0;
  CLI::App app{"Train a ViT on Fashion-MNIST whose norms are DyT (or LayerNorm, RMSNorm, none)"};
  app.add_option("--data", t.data, "folder of the Fashion-MNIST IDX files")->capture_default_str();
  app.add_option("--norm", norm, "dyt, derf, layernorm, rmsnorm or none")->capture_default_str()
      ->check(CLI::IsMember({"dyt", "derf", "layernorm", "rmsnorm", "none"}));
  app.add_option("--alpha0", alpha0, "DyT's initial alpha (every DyT)")->capture_default_str();
  app.add_option("--gamma0", t.model.block.dyt_gamma0,
                 "DyT's initial gamma (every DyT); 0: LayerNorm's output scale, 1 / RMS of tanh(alpha0 x) over the "
                 "initial residual stream")->capture_default_str()->check(CLI::Range(0.0, 1e6));
  auto* width_option = app.add_option("--width", t.model.block.width, "model width")->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  auto* layers_option = app.add_option("--layers", t.model.block.layers, "Transformer blocks")->capture_default_str()
      ->check(CLI::Range(1, 1024));
  auto* heads_option = app.add_option("--heads", t.model.block.heads, "attention heads")->capture_default_str()
      ->check(CLI::Range(1, 1024));
  auto* patch_option = app.add_option("--patch", t.model.patch_size, "patch side in pixels (a divisor of 28)")->capture_default_str();
  app.add_option("--pooling", t.model.pooling, "cls or mean")->capture_default_str()->check(CLI::IsMember({"cls", "mean"}));
  auto* dropout_option = app.add_option("--dropout", t.model.block.dropout, "dropout probability")->capture_default_str()
      ->check(CLI::Range(0.0, 0.99));
  bool gpu_config = false;
  app.add_flag("--gpu-config", gpu_config,
               "a larger model for a GPU: width 192, 6 layers, 6 heads, patch 4, dropout 0.1, lr 1e-3, 500 warm-up "
               "steps, 20 epochs (each unless given on the command line)");
  auto* epochs_option = app.add_option("--epochs", t.epochs, "passes over the 60k training images (with --resume: the new total)")
      ->capture_default_str()->check(CLI::Range(int64_t(1), tools::kMaxCount));
  auto* steps_option = app.add_option("--steps", t.steps, "the run's length in steps instead of epochs (with --resume: the new total)")
      ->check(CLI::Range(int64_t(1), tools::kMaxCount))->excludes(epochs_option);
  app.add_option("--batch", t.batch, "images per step")->capture_default_str()->check(CLI::Range(int64_t(1), tools::kMaxCount));
  auto* lr_option = app.add_option("--lr", t.lr, "peak learning rate (warm-up, then cosine to --min-lr)")->capture_default_str();
  app.add_option("--min-lr", t.min_lr, "final learning rate")->capture_default_str();
  auto* warmup_option = app.add_option("--warmup", t.warmup, "warm-up steps")->capture_default_str()
      ->check(CLI::Range(int64_t(0), tools::kMaxCount));
  app.add_option("--weight-decay", t.weight_decay, "AdamW decoupled weight decay (matrices only)")->capture_default_str();
  app.add_option("--clip", t.clip, "global gradient-norm clipping: the largest norm the gradients keep")
      ->capture_default_str()->check(tools::above_zero());
  app.add_option("--seed", t.seed, "seed of the initialisation, batch order, dropout and augmentation")->capture_default_str();
  app.add_option("--dtype", t.dtype, tools::kDtypeHelp)->capture_default_str()->check(CLI::IsMember({"float32", "bf16"}));
  app.add_option("--shift", t.shift, "augmentation: move each training image by up to this many pixels along each axis")
      ->capture_default_str()->check(CLI::Range(0, 13));
  app.add_flag("--flip", t.flip, "augmentation: mirror each training image left to right with probability 1/2");
  app.add_option("--eval-every", eval_every, "steps between test evaluations (0: after each epoch)")->capture_default_str()
      ->check(CLI::Range(int64_t(0), tools::kMaxCount));
  app.add_option("--device", device_name, "cpu, cuda or auto")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  int threads = 0;
  app.add_option("--threads", threads, tools::kThreadsHelp)->check(CLI::PositiveNumber);
  app.add_option("--out", out, "folder for log.jsonl and checkpoint.safetensors")->capture_default_str();
  bool overwrite = false;
  app.add_flag("--overwrite", overwrite, tools::kOverwriteHelp);
  bool zero = false;
  app.add_flag("--zero", zero, tools::kZeroHelp);
  app.add_option("--checkpoint-every", checkpoint_every, "steps between checkpoints (0: only at the end)")->capture_default_str()
      ->check(CLI::Range(int64_t(0), tools::kMaxCount));
  app.add_option("--resume", resume,
                 "checkpoint to continue from; the model and training settings come from it (the flags of that group "
                 "are refused; --epochs or --steps sets the new total)");
  tools::ProfileRequest profile;
  tools::add_profile_flags(app, profile);
  tools::mark_settings(app, {"--data", "--norm", "--alpha0", "--gamma0", "--width", "--layers", "--heads", "--patch", "--pooling",
                             "--dropout", "--gpu-config", "--batch", "--lr", "--min-lr", "--warmup", "--weight-decay",
                             "--clip", "--seed", "--dtype", "--shift", "--flip"});
  CLI11_PARSE(app, argc, argv);
  if (!resume.empty() && !tools::resume_flags_allowed(app, "train-vit")) return 2;
  if (gpu_config) {
    auto unless_given = [](CLI::Option* option, auto& value, auto gpu_value) {
      if (option->count() == 0) value = gpu_value;
    };
    unless_given(width_option, t.model.block.width, 192);
    unless_given(layers_option, t.model.block.layers, 6);
    unless_given(heads_option, t.model.block.heads, 6);
    unless_given(patch_option, t.model.patch_size, 4);
    unless_given(dropout_option, t.model.block.dropout, 0.1);
    unless_given(lr_option, t.lr, 1e-3);
    unless_given(warmup_option, t.warmup, 500);
    unless_given(epochs_option, t.epochs, 20);
  }
  t.model.block.norm = norm;
  t.model.block.alpha0_attention = t.model.block.alpha0_other = alpha0;
  t.model.block.causal = false;
  Device device = tools::pick_device(device_name);
  tools::use_threads(threads);

  std::optional<tools::ParallelRun> run;  // one process, or one of several started by mpirun
  try {
    run.emplace(device);
    bool lead = run->is_lead();  // rank 0 prints, evaluates and writes the files
    tools::check_gpu_config(gpu_config, device_name);
    tools::apply_profile_environment(app, profile);
    if (!lead) profile.steps = 0;
    std::vector<std::string> replaced;
    if (lead) replaced = tools::claim_output_folder(out, resume, overwrite, argv[0]);
    std::optional<tools::Resume> checkpoint;
    Training planned = t;  // the run whose length the schedule spans: this one, or the first of a resumed one
    if (!resume.empty()) {
      checkpoint = tools::read_resume(resume, kTraining, "train-vit");
      Training requested = t;
      t = planned = checkpoint->settings<Training>();
      if (epochs_option->count() > 0) t.epochs = requested.epochs, t.steps = 0;
      if (steps_option->count() > 0) t.steps = requested.steps;
      tools::check_setting(resume, "epochs", t.epochs, 1);
      tools::check_setting(resume, "steps", t.steps, 0);
      tools::check_setting(resume, "schedule_steps", t.schedule_steps, 0);
      tools::check_setting(resume, "batch", t.batch, 1);
      tools::check_setting(resume, "warmup", t.warmup, 0);
    }
    data::LabeledImages train = data::load_fashion_mnist(t.data, "train"), test = data::load_fashion_mnist(t.data, "test");
    // Standardise with the training set's statistics.
    auto [mean, std] = data::pixel_statistics(train);
    DYT_CHECK(train.size() >= t.batch, "--batch {} is larger than the {} training images in '{}': no step "
              "could be taken", t.batch, train.size(), t.data);
    DYT_CHECK(test.size() > 0, "'{}' holds no test images", t.data);
    run->check_batch(t.batch);
    int64_t steps_per_epoch = train.size() / t.batch;
    auto length = [&](const Training& run) { return run.steps > 0 ? run.steps : run.epochs * steps_per_epoch; };
    int64_t steps = length(t);
    if (t.schedule_steps == 0) t.schedule_steps = length(planned);
    if (eval_every <= 0) eval_every = steps_per_epoch;
    t.warmup = tools::fit_warmup(t.warmup, t.schedule_steps);

    manual_seed(t.seed);
    models::ViT model(t.model, t.seed);
    model.to(device);
    model.generator().set_shard(run->communicator().rank(), run->world_size());  // each rank its rows' dropout
    auto params = model.named_parameters();
    tools::ParallelOptimizer optimizer(*run, params, {t.lr, 0.9, 0.999, 1e-8}, t.weight_decay, zero);
    nn::TrainingState state;
    state.generators = {{"model", &model.generator()}};
    if (checkpoint) {
      nn::load_checkpoint(checkpoint->file, model, &optimizer.state_to_load(), state);
      DYT_CHECK(state.step <= steps, "'{}' is at step {}, past the run's {} steps", resume, state.step, steps);
      fmt::print("resuming from '{}' at step {}\n", resume, state.step);
    }
    optimizer.start();  // every rank from rank 0's weights
    state.metadata = {{kTraining, nlohmann::json(t).dump()}, {tools::kVitConfig, nlohmann::json(t.model).dump()}};
    std::optional<tools::JsonlLog> log = tools::open_log(*run, out, replaced, state.step);
    tools::Checkpointer checkpointer(out, checkpoint_every, steps, argv[0]);

    fmt::print("data: {} ({} train / {} test images of {}x{}, standardised with mean {:.4f} std {:.4f})\n"
               "model: ViT, {} parameters, width {}, {} layers, {} heads, {} patches of {}x{}, {} pooling, norm {}{}\n"
               "device: {}, {} steps of {} images ({:.3g} epochs), output: {}\n"
               "optimiser: {}, lr {} ({} warm-up steps, cosine to {} at step {}), weight decay {}, clipping {}, "
               "dropout {}, seed {}\n"
               "augmentation: {}\nprecision: {}\n",
               t.data, train.size(), test.size(), t.model.image_size, t.model.image_size, mean, std,
               model.num_parameters(), t.model.block.width, t.model.block.layers, t.model.block.heads,
               t.model.patches(), t.model.patch_size, t.model.patch_size, t.model.pooling, t.model.block.norm,
               t.model.block.norm == "dyt" || t.model.block.norm == "derf"
                   ? fmt::format(" (alpha0 {}, gamma0 {})", t.model.block.alpha0_other, dyt_gamma0_text(t.model)) : "",
               tools::device_description(device), steps, t.batch, double(steps) / double(steps_per_epoch), out,
               optimizer.description(), t.lr, t.warmup, t.min_lr, t.schedule_steps, t.weight_decay, t.clip,
               t.model.block.dropout, t.seed, t.augmentation().description(), tools::dtype_description(t.dtype));
    if (run->world_size() > 1) fmt::print("data parallel: {}\n", run->description(t.batch, "images"));
    tools::Progress progress(state.step, steps);
    tools::Throughput throughput;  // the progress line's images/s, over the last 20 steps
    tools::install_stop_handler();
    EpochOrder order(t, train.size());
    Evaluation result;
    bool evaluated = false;
    tools::ProfileWindow profile_window(out, profile, state.step, steps);
    while (state.step < steps) {
      int64_t step = state.step;
      profile_window.before_step(step);
      auto t0 = std::chrono::steady_clock::now();
      auto [x, y] = data::image_batch(train, order.rows(step), mean, std, device, t.augmentation(), step);
      double lr = nn::cosine_lr(step, t.schedule_steps, t.warmup, t.lr, t.min_lr);
      auto [loss_value, grad_norm, stop] = tools::train_step(model, x, y, *run, optimizer, lr, t.clip, step, steps, t.autocast());
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double images_per_s = double(t.batch) / seconds;
      profile_window.after_step(step);
      state.step = step + 1;
      bool evaluate_now = lead && (state.step % eval_every == 0 || state.step == steps);
      if (evaluate_now) result = evaluate(model, test, mean, std, device, t.autocast()), evaluated = true;
      nlohmann::json row = {{"step", state.step}, {"epoch", double(state.step) / double(steps_per_epoch)},
                            {"loss", loss_value}, {"lr", lr}, {"grad_norm", grad_norm}, {"images_per_s", images_per_s}};
      if (evaluate_now) row["test_loss"] = result.loss, row["test_accuracy"] = result.accuracy;
      if (log) log->write(row);
      progress.report(state.step,
                      fmt::format("epoch {:.2f} loss {:.4f} lr {:.2e} |g| {:.3f} {:>6.0f} img/s",
                                  double(state.step) / double(steps_per_epoch), loss_value, lr, grad_norm,
                                  throughput.add(double(t.batch), seconds)),
                      evaluate_now ? fmt::format("test {:.2f}%", 100 * result.accuracy) : "");
      tools::checkpoint_if_due(checkpointer, optimizer, *run, model, state, stop);
      if (stop) return 130;
    }
    if (!lead) return 0;
    if (!evaluated) result = evaluate(model, test, mean, std, device, t.autocast());
    fmt::print("\nper class:");
    for (size_t k = 0; k < 10; ++k) fmt::print("  {} {:.1f}%", data::kFashionMnistClasses[k], 100 * result.class_accuracy[k]);
    fmt::print("\nfinal: test accuracy {:.2f}% (test loss {:.4f}) after {} steps, {:.3g} epochs ({} norm, {}, {}); "
               "checkpoint: {}\n", 100 * result.accuracy, result.loss, steps, double(steps) / double(steps_per_epoch),
               t.model.block.norm, device.str(),
               tools::duration(progress.elapsed_seconds()), checkpointer.path());
  } catch (const std::exception& e) {
    return tools::report_failure("train-vit", run, e);
  }
  return 0;
}
