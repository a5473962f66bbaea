// Trains a character-level GPT on a text corpus (default: Debian's fortunes) with DyT, Derf, LayerNorm,
// RMSNorm or no norm in every block; prints progress, writes a JSONL log of every step and
// checkpoints (safetensors) into --out, resumes exactly from a checkpoint, evaluates on held-out
// text, and ends with the validation loss and a sample.
#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>
#include <tuple>
#include <nlohmann/json.hpp>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "models/config_json.h"
#include "models/generate.h"
#include "nn/checkpoint.h"
#include "nn/norms.h"
#include "nn/optim.h"
#include "tools/common/captured_training.h"
#include "tools/common/cli_checks.h"
#include "tools/common/gpt_checkpoint.h"
#include "tools/common/interrupt.h"
#include "tools/common/parallel_training.h"
#include "tools/common/profile_window.h"
#include "tools/common/progress.h"
#include "tools/common/resume_flags.h"
#include "tools/common/training_run.h"
#include "tools/data/text_dataset.h"

using namespace dytgrad;

namespace {

// Everything that decides the numbers of a run; saved in its checkpoints so a resumed run
// continues with the same settings.
struct Training {
  std::string data = data::kFortunesDir;
  int64_t steps = 1200, batch = 32, warmup = 50, eval_every = 100, eval_batches = 10;
  // The learning rate's schedule (warm-up, cosine to min_lr) spans the first run's steps; a resumed
  // run with another --steps keeps it (past its end, min_lr). 0 in checkpoints older than the field.
  int64_t schedule_steps = 0;
  double lr = 2e-3, min_lr = 1e-4, weight_decay = 0.1, clip = 1.0;
  uint64_t seed = 1;
  std::string dtype = "float32";  // or "bf16": autocast
  models::GPTConfig model;
  bool autocast() const { return dtype == "bf16"; }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Training, data, steps, batch, warmup, eval_every, eval_batches,
                                                schedule_steps, lr, min_lr, weight_decay, clip, seed, dtype, model)

const std::string kTraining = "train-gpt.training";

double evaluate(models::GPT& model, const data::TextDataset& data, const Training& t, Device device) {
  NoGradGuard no_grad;
  AutocastGuard mixed_precision(t.autocast());
  model.eval();
  Generator gen(t.seed + 1000);  // the same validation windows every time
  double total = 0;
  for (int64_t i = 0; i < t.eval_batches; ++i) {
    auto [x, y] = data.batch(true, t.batch, t.model.block_size, gen, device);
    total += model.loss(x, y).item();
  }
  model.train();
  return total / double(t.eval_batches);
}

// The DyT settings for the banner: " (alpha0 ..., gamma0 ..., ...)", or nothing for other norms.
std::string dyt_recipe(const models::GPTConfig& m) {
  if (m.block.norm != "dyt" && m.block.norm != "derf") return "";
  double final = m.alpha0_final > 0 ? m.alpha0_final : m.block.alpha0_other;
  std::string gamma0 = fmt::format("{}", m.block.dyt_gamma0);
  if (m.block.dyt_gamma0 == 0) {
    double input_std = models::initial_residual_std(m);
    auto matched = [&](double alpha0) { return nn::gamma_for_unit_rms(m.block.norm, alpha0, input_std); };
    gamma0 = fmt::format("{:.3g} / {:.3g} / {:.3g} (LayerNorm's output scale)", matched(m.block.alpha0_attention),
                         matched(m.block.alpha0_other), matched(final));
  }
  return fmt::format(" (alpha0 {} / {} / {} before attention / MLP / head, gamma0 {}{}{})", m.block.alpha0_attention,
                     m.block.alpha0_other, final, gamma0, m.block.dyt_beta ? "" : ", no beta",
                     !m.scale_embeddings     ? ""
                     : m.scale_positions     ? ", tokens + positions x learnable sqrt(width)"
                                             : ", tokens x learnable sqrt(width)");
}

}  // namespace

int main(int argc, char** argv) {
  Training t;
  std::string norm = "dyt", device_name = "auto", out = "runs/gpt", resume;
  int64_t checkpoint_every = 200;
  uint64_t sample_seed = 7;
  models::SamplingOptions sampling;
  // DyT's recipe (models::use_dyt_recipe, docs/RESULTS.md) is the default; the DyT flags below
  // change one piece of it.
  models::GPTConfig recipe;
  recipe.block.norm = "dyt";
  models::use_dyt_recipe(recipe);
  double alpha0 = recipe.block.alpha0_other, alpha0_attention = -1;  // -1: same as alpha0
  t.model.block.dyt_gamma0 = recipe.block.dyt_gamma0;
  bool gpu_config = false, no_scale_embeddings = false;
  tools::ProfileRequest profile;

  CLI::App app{"Train a character-level GPT whose norms are DyT (or Derf, LayerNorm, RMSNorm, none)"};
  app.add_option("--data", t.data, "text file or folder of text files")->capture_default_str();
  app.add_option("--norm", norm, "dyt, derf, layernorm, rmsnorm or none")->capture_default_str()
      ->check(CLI::IsMember({"dyt", "derf", "layernorm", "rmsnorm", "none"}));
  app.add_option("--alpha0", alpha0, "DyT's initial alpha (all DyT layers)")->capture_default_str();
  app.add_option("--alpha0-attention", alpha0_attention, "DyT's initial alpha before attention (default: --alpha0)");
  app.add_flag("--no-scale-embeddings", no_scale_embeddings,
               "with --norm dyt or derf: no learnable sqrt(width) scalar on the token embeddings (the paper's LLM recipe, on by "
               "default)");
  app.add_option("--alpha0-final", t.model.alpha0_final, "DyT's initial alpha in the final norm (default: --alpha0)");
  app.add_option("--gamma0", t.model.block.dyt_gamma0,
                 "DyT's initial gamma (every DyT); 0: LayerNorm's output scale, 1 / RMS of tanh(alpha0 x) over the "
                 "initial residual stream, per DyT")->capture_default_str()->check(CLI::Range(0.0, 1e6));
  app.add_flag("--no-beta", [&](int64_t) { t.model.block.dyt_beta = false; }, "DyTs without beta (as in the paper's LLaMA)");
  app.add_flag("--scale-positions", t.model.scale_positions,
               "the learnable sqrt(width) scalar multiplies token + position embeddings, not the tokens alone");
  app.add_flag("--untied-head", [&](int64_t) { t.model.tie_head = false; }, "a separate output matrix instead of the token embeddings");
  app.add_option("--width", t.model.block.width, "model width")->capture_default_str()->check(CLI::Range(1, 1 << 16));
  app.add_option("--layers", t.model.block.layers, "Transformer blocks")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--heads", t.model.block.heads, "attention heads")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--block-size", t.model.block_size, "context length in characters")->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--dropout", t.model.block.dropout, "dropout probability")->capture_default_str()->check(CLI::Range(0.0, 0.99));
  app.add_flag("--gpu-config", gpu_config,
               "a larger model for a GPU: width 384, 6 layers, 6 heads, context 256, batch 64, 2000 steps (unless --steps)");
  auto* steps_option = app.add_option("--steps", t.steps, "optimiser steps (with --resume: the new total)")->capture_default_str()
      ->check(CLI::Range(int64_t(1), tools::kMaxCount));
  app.add_option("--batch", t.batch, "sequences per step")->capture_default_str()->check(CLI::Range(int64_t(1), tools::kMaxCount));
  app.add_option("--lr", t.lr, "peak learning rate (warm-up, then cosine to --min-lr)")->capture_default_str();
  app.add_option("--min-lr", t.min_lr, "final learning rate")->capture_default_str();
  app.add_option("--warmup", t.warmup, "warm-up steps")->capture_default_str()->check(CLI::Range(int64_t(0), tools::kMaxCount));
  app.add_option("--weight-decay", t.weight_decay, "AdamW decoupled weight decay (matrices only)")->capture_default_str();
  app.add_option("--clip", t.clip, "global gradient-norm clipping: the largest norm the gradients keep")
      ->capture_default_str()->check(tools::above_zero());
  app.add_option("--seed", t.seed, "seed of the initialisation, batches and dropout")->capture_default_str();
  app.add_option("--dtype", t.dtype, tools::kDtypeHelp)->capture_default_str()->check(CLI::IsMember({"float32", "bf16"}));
  app.add_option("--eval-every", t.eval_every, "steps between validation evaluations")->capture_default_str()
      ->check(CLI::Range(int64_t(1), tools::kMaxCount));
  app.add_option("--eval-batches", t.eval_batches, "batches per validation evaluation")->capture_default_str()
      ->check(CLI::Range(int64_t(1), tools::kMaxCount));
  app.add_option("--device", device_name, "cpu, cuda or auto")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  int threads = 0;
  app.add_option("--threads", threads, tools::kThreadsHelp)->check(CLI::PositiveNumber);
  app.add_option("--out", out, "folder for log.jsonl and checkpoint.safetensors")->capture_default_str();
  bool overwrite = false;
  app.add_flag("--overwrite", overwrite, tools::kOverwriteHelp);
  app.add_option("--checkpoint-every", checkpoint_every, "steps between checkpoints (0: only at the end)")->capture_default_str()
      ->check(CLI::Range(int64_t(0), tools::kMaxCount));
  bool zero = false;
  app.add_flag("--zero", zero, tools::kZeroHelp);
  bool cuda_graph = false;
  app.add_flag("--cuda-graph", cuda_graph, tools::kCudaGraphHelp);
  bool keep_checkpoints = false;
  app.add_flag("--keep-checkpoints", keep_checkpoints,
               "also keep every checkpoint as <out>/checkpoint-<step>.safetensors (for norm-curves over training)");
  app.add_option("--resume", resume,
                 "checkpoint to continue from; the model and training settings come from it (the flags of that group "
                 "are refused; --steps sets the new total)");
  tools::add_profile_flags(app, profile);
  app.add_option("--sample-chars", sampling.tokens, "characters to generate at the end")->capture_default_str()
      ->check(CLI::Range(int64_t(0), tools::kMaxCount));
  app.add_option("--temperature", sampling.temperature, "sampling temperature (0: always the likeliest character)")
      ->capture_default_str()->check(CLI::Range(0.0, 100.0));
  app.add_option("--top-k", sampling.top_k, "sample among the k likeliest characters (0: all)")->capture_default_str()
      ->check(CLI::Range(int64_t(0), tools::kMaxCount));
  app.add_option("--sample-seed", sample_seed, "seed of the sample")->capture_default_str();
  tools::mark_settings(app, {"--data", "--norm", "--alpha0", "--alpha0-attention", "--no-scale-embeddings", "--alpha0-final",
                             "--gamma0", "--no-beta", "--scale-positions", "--untied-head", "--width", "--layers", "--heads",
                             "--block-size", "--dropout", "--gpu-config", "--batch", "--lr", "--min-lr", "--warmup",
                             "--weight-decay", "--clip", "--seed", "--dtype", "--eval-every", "--eval-batches"});
  CLI11_PARSE(app, argc, argv);
  // A resumed run takes its model and training settings from the checkpoint: a flag that would
  // change one of them is refused rather than silently ignored.
  if (!resume.empty() && !tools::resume_flags_allowed(app, "train-gpt")) return 2;

  if (gpu_config) {
    auto& b = t.model.block;
    b.width = 384, b.layers = 6, b.heads = 6;
    t.model.block_size = 256, t.batch = 64;
    if (steps_option->count() == 0) t.steps = 2000;
  }
  t.model.block.norm = norm;
  t.model.scale_embeddings = (norm == "dyt" || norm == "derf") && !no_scale_embeddings;
  t.model.block.alpha0_other = alpha0;
  t.model.block.alpha0_attention = alpha0_attention > 0 ? alpha0_attention : alpha0;
  Device device = tools::pick_device(device_name);
  tools::use_threads(threads);

  std::optional<tools::ParallelRun> run;  // one process, or one of several started by mpirun
  try {
    run.emplace(device);
    bool lead = run->is_lead();  // rank 0 prints, evaluates, samples and writes the files
    tools::check_gpu_config(gpu_config, device_name);
    tools::apply_profile_environment(app, profile);
    if (!lead) profile.steps = 0;
    std::vector<std::string> replaced;
    if (lead) replaced = tools::claim_output_folder(out, resume, overwrite, argv[0]);
    std::optional<tools::Resume> checkpoint;
    if (!resume.empty()) {
      checkpoint = tools::read_resume(resume, kTraining, "train-gpt");
      int64_t steps = t.steps;
      t = checkpoint->settings<Training>();
      if (t.schedule_steps == 0) t.schedule_steps = t.steps;
      if (steps_option->count() > 0) t.steps = steps;
      tools::check_setting(resume, "schedule_steps", t.schedule_steps, 1);
      for (auto [key, value, min] : {std::tuple<const char*, int64_t, int64_t>{"steps", t.steps, 1}, {"batch", t.batch, 1},
                                     {"warmup", t.warmup, 0}, {"eval_every", t.eval_every, 1},
                                     {"eval_batches", t.eval_batches, 1}})
        tools::check_setting(resume, key, value, min);
    }
    if (t.schedule_steps == 0) t.schedule_steps = t.steps;  // a fresh run
    run->check_batch(t.batch);
    if (cuda_graph) tools::check_captured_training(*run, zero, t.model.block.dropout, profile.steps > 0);
    data::TextDataset data(t.data);
    t.model.vocab = data.vocab_size();
    manual_seed(t.seed);
    models::GPT model(t.model, t.seed);
    model.to(device);
    model.generator().set_shard(run->communicator().rank(), run->world_size());  // each rank its rows' dropout
    auto params = model.named_parameters();
    tools::ParallelOptimizer optimizer(*run, params, {t.lr, 0.9, 0.95, 1e-8}, t.weight_decay, zero);
    Generator batches(t.seed);  // the same batches on every rank; each takes its rows
    nn::TrainingState state;
    state.generators = {{"batches", &batches}, {"model", &model.generator()}};
    if (checkpoint) {
      DYT_CHECK(tools::gpt_vocabulary(checkpoint->file) == data.vocabulary(), "'{}' was trained on another vocabulary than '{}' has",
                resume, t.data);
      nn::load_checkpoint(checkpoint->file, model, &optimizer.state_to_load(), state);
      DYT_CHECK(state.step <= t.steps, "'{}' is at step {}, past --steps {}", resume, state.step, t.steps);
      fmt::print("resuming from '{}' at step {}\n", resume, state.step);
    }
    optimizer.start();  // every rank from rank 0's weights
    std::optional<tools::CapturedTraining<models::GPT>> captured;
    if (cuda_graph)
      captured.emplace(model, optimizer.adamw(), t.clip, t.autocast(), Shape{t.batch, t.model.block_size}, device);
    state.metadata = tools::gpt_metadata(t.model, data.vocabulary());
    t.warmup = tools::fit_warmup(t.warmup, t.schedule_steps);
    state.metadata[kTraining] = nlohmann::json(t).dump();
    std::optional<tools::JsonlLog> log = tools::open_log(*run, out, replaced, state.step);
    tools::Checkpointer checkpointer(out, checkpoint_every, t.steps, argv[0], keep_checkpoints);

    fmt::print("data: {}\nmodel: GPT, {} parameters, width {}, {} layers, {} heads, context {}, norm {}{}\n"
               "device: {}, {} steps of {} x {} tokens, output: {}\n"
               "optimiser: {}, lr {} ({} warm-up steps, cosine to {} at step {}), weight decay {}, clipping {}, seed {}\n"
               "precision: {}\n",
               data.description(), model.num_parameters(), t.model.block.width, t.model.block.layers,
               t.model.block.heads, t.model.block_size, t.model.block.norm, dyt_recipe(t.model),
               tools::device_description(device), t.steps, t.batch, t.model.block_size, out, optimizer.description(), t.lr,
               t.warmup, t.min_lr, t.schedule_steps, t.weight_decay, t.clip, t.seed, tools::dtype_description(t.dtype));
    if (run->world_size() > 1) fmt::print("data parallel: {}\n", run->description(t.batch, "sequences"));
    tools::Progress progress(state.step, t.steps);
    tools::Throughput throughput;  // the progress line's tokens/s, over the last 20 steps
    int64_t first_step = state.step;
    tools::ProfileWindow profile_window(out, profile, first_step, t.steps);
    tools::install_stop_handler();
    double val = NAN;
    while (state.step < t.steps) {
      int64_t step = state.step;
      profile_window.before_step(step);
      auto t0 = std::chrono::steady_clock::now();
      auto [x, y] = data.batch(false, t.batch, t.model.block_size, batches, device);
      double lr = nn::cosine_lr(step, t.schedule_steps, t.warmup, t.lr, t.min_lr);
      auto [loss_value, grad_norm, stop] =
          captured ? captured->step(x, y, lr, step, t.steps)
                   : tools::train_step(model, x, y, *run, optimizer, lr, t.clip, step, t.steps, t.autocast());
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double tokens_per_s = double(t.batch * t.model.block_size) / seconds;
      profile_window.after_step(step);
      state.step = step + 1;
      bool evaluate_now = lead && (state.step % t.eval_every == 0 || state.step == t.steps);
      if (evaluate_now) val = evaluate(model, data, t, device);
      nlohmann::json row = {{"step", state.step}, {"loss", loss_value}, {"lr", lr}, {"grad_norm", grad_norm},
                            {"tokens_per_s", tokens_per_s}};
      if (evaluate_now) row["val_loss"] = val;
      if (log) log->write(row);
      progress.report(state.step,
                      fmt::format("loss {:.4f} lr {:.2e} |g| {:.3f} {:>8.0f} tok/s", loss_value, lr, grad_norm,
                                  throughput.add(double(t.batch * t.model.block_size), seconds)),
                      evaluate_now ? fmt::format("val {:.4f}", val) : "");
      tools::checkpoint_if_due(checkpointer, optimizer, *run, model, state, stop);
      if (stop) return 130;
    }
    if (!lead) return 0;
    if (captured && captured->graph_nodes() > 0)
      fmt::print("CUDA graph: each step replayed {} kernels, copies and memsets with one launch\n",
                 captured->graph_nodes());
    if (std::isnan(val)) val = evaluate(model, data, t, device);
    if (sampling.tokens > 0) {
      Generator sample_gen(sample_seed);
      std::string text =
          data.vocabulary().decode(models::generate(model, data.vocabulary().encode("\n"), sampling, sample_gen));
      fmt::print("\nsample (temperature {}, top-k {}):\n{}\n\n", sampling.temperature, sampling.top_k, text);
    }
    fmt::print("final: validation loss {:.4f} after {} steps ({} norm, {}, {}); checkpoint: {}\n", val, t.steps,
               t.model.block.norm, device.str(), tools::duration(progress.elapsed_seconds()), checkpointer.path());
  } catch (const std::exception& e) {
    return tools::report_failure("train-gpt", run, e);
  }
  return 0;
}
