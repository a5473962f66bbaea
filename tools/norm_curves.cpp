// The study's look inside trained models (the paper's Figures 2-4 and 8 at our scale): runs test
// images (a ViT checkpoint of train-vit) or validation text (a GPT checkpoint of train-gpt) through
// each checkpoint with every norm wrapped to record its input, then writes for each norm layer
//   - points (input x, output before the affine part) - LayerNorm's S-shaped, tanh-like curves;
//   - the std of its input, 1/std, and DyT's learned alpha, which the paper finds tracks 1/std;
//   - the best fit z = k tanh(a x) and the best line z = b x, with the share of variance each
//     explains: how tanh-like the layer is, as a number;
//   - for DyT, the share of its inputs in tanh's flat ends (|tanh(alpha x)| > 0.96, |alpha x| > 2),
//     where the gradient through it is under 8% of its value at 0;
//   - the common part of its input: the root mean square over channels of each channel's mean over
//     all tokens, over the root mean square of the input. 0: the tokens' vectors average out;
//     1: every token carries the same vector. LayerNorm subtracts each token's mean; DyT passes a
//     common part through its tanh as it is.
// Files: <out>/<name>.points.dat (one gnuplot index per layer: channel, x, z) and
// <out>/<name>.layers.dat (one row per layer); a markdown table goes to stdout.
// tools/plot_norms.sh draws the pictures from them.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <random>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "nn/checkpoint.h"
#include "nn/norms.h"
#include "tools/common/common_part.h"
#include "tools/common/gpt_checkpoint.h"
#include "tools/common/program_error.h"
#include "tools/common/tanh_fit.h"
#include "tools/common/vit_checkpoint.h"
#include "tools/data/fashion_mnist.h"
#include "tools/data/text_dataset.h"

using namespace dytgrad;

namespace {

// Passes its input to the norm it wraps, keeping the input for later.
class RecordedNorm : public nn::UnaryModule {
 public:
  explicit RecordedNorm(std::shared_ptr<nn::UnaryModule> norm) : norm(std::move(norm)) {}
  Tensor forward(const Tensor& x) override {
    input = x;
    return norm->forward(x);
  }
  std::shared_ptr<nn::UnaryModule> norm;
  Tensor input;
};

// The norm's output before its per-channel affine part (gamma = 1, beta = 0), through the engine's own ops.
Tensor before_affine(const nn::UnaryModule& norm, const Tensor& x) {
  Tensor ones = Tensor::ones({x.size(-1)}, x.dtype(), x.device()), zeros = Tensor::zeros({x.size(-1)}, x.dtype(), x.device());
  if (auto* d = dynamic_cast<const nn::DyT*>(&norm)) return dyt(x, d->alpha, ones, zeros);
  if (auto* l = dynamic_cast<const nn::LayerNorm*>(&norm)) return layer_norm(x, ones, zeros, l->eps());
  if (auto* r = dynamic_cast<const nn::RMSNorm*>(&norm)) return rms_norm(x, ones, r->eps());
  return x;
}

struct Layer {
  std::string name;
  RecordedNorm* recorded;
};

// Wraps every norm of a model (blocks' norms, then the final one) to record its input.
std::vector<Layer> wrap_norms(const std::vector<std::shared_ptr<nn::Block>>& blocks, std::shared_ptr<nn::UnaryModule>& final_norm) {
  std::vector<Layer> layers;
  auto wrap = [&](std::shared_ptr<nn::UnaryModule>& slot, std::string layer_name) {
    auto recorded = std::make_shared<RecordedNorm>(slot);
    slot = recorded;
    layers.push_back({std::move(layer_name), recorded.get()});
  };
  for (size_t b = 0; b < blocks.size(); ++b) {
    wrap(blocks[b]->norm_attention, fmt::format("block{}.attention", b));
    wrap(blocks[b]->norm_mlp, fmt::format("block{}.mlp", b));
  }
  wrap(final_norm, "final");
  return layers;
}

// A model loaded from a checkpoint with its norms wrapped, and run once on `samples` inputs.
struct RecordedModel {
  std::string norm, input_description;
  int64_t step = 0;
  std::vector<Layer> layers;
  std::shared_ptr<void> keep_alive;  // the model
};

// The first `samples` test images, standardised with the training set's statistics.
Tensor test_images(const std::string& data_dir, int64_t samples) {
  data::LabeledImages train = data::load_fashion_mnist(data_dir, "train"), test = data::load_fashion_mnist(data_dir, "test");
  auto statistics = data::pixel_statistics(train);
  std::vector<int64_t> rows(static_cast<size_t>(samples));
  std::iota(rows.begin(), rows.end(), 0);
  return data::image_batch(test, rows, statistics.mean, statistics.std, Device::cpu()).first;
}

RecordedModel record_vit(const nn::SafeTensors& file, const Tensor& images, nn::NonFinite nonfinite) {
  auto loaded = tools::load_vit(file, Device::cpu(), nonfinite);
  std::shared_ptr<models::ViT> model(std::move(loaded.model));
  RecordedModel out{model->config().block.norm, fmt::format("{} test images", images.size(0)), loaded.step,
                    wrap_norms(model->blocks(), model->final_norm()), model};
  NoGradGuard no_grad;
  model->eval();
  model->forward(images);
  return out;
}

RecordedModel record_gpt(const nn::SafeTensors& file, const data::TextDataset& text, int64_t samples, uint64_t seed,
                         nn::NonFinite nonfinite) {
  auto loaded = tools::load_gpt(file, Device::cpu(), nonfinite);
  DYT_CHECK(text.vocabulary() == loaded.vocabulary, "'{}': the text {} has another vocabulary ({} symbols) than the model's ({})",
            file.path, text.description(), text.vocab_size(), loaded.vocabulary.size());
  std::shared_ptr<models::GPT> model(std::move(loaded.model));
  int64_t time = model->config().block_size;
  Generator gen(seed);
  Tensor x = text.batch(true, samples, time, gen, Device::cpu()).first;
  RecordedModel out{model->config().block.norm, fmt::format("{} validation windows of {} characters", samples, time),
                    loaded.step, wrap_norms(model->blocks(), model->final_norm()), model};
  NoGradGuard no_grad;
  model->eval();
  model->forward(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> checkpoints;
  std::string data_dir = data::kFashionMnistDir, text_path = data::kFortunesDir, out = "runs/norm-curves";
  int64_t images = 256, windows = 16, points = 20000;
  uint64_t seed = 1;
  CLI::App app{"Record the inputs and outputs of every norm of trained ViTs and GPTs (train-vit and train-gpt "
               "checkpoints): points for the S-curve plots, input std, DyT's alpha, tanh fits, the inputs' common part"};
  app.add_option("checkpoints", checkpoints, "train-vit or train-gpt checkpoints; each is named after its folder")->required();
  app.add_option("--data", data_dir, "folder of the Fashion-MNIST IDX files (ViT checkpoints)")->capture_default_str();
  app.add_option("--text", text_path, "the GPT's training text, file or folder (GPT checkpoints)")->capture_default_str();
  app.add_option("--images", images, "test images to run through each ViT")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--windows", windows, "validation windows (of the model's context) to run through each GPT")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--points", points, "points per layer written and fitted (drawn at random)")->capture_default_str()
      ->check(CLI::Range(10, 10000000));
  app.add_option("--seed", seed, "seed of the drawing of the points and of the GPT's windows")->capture_default_str();
  app.add_option("--out", out, "folder for the .dat files")->capture_default_str();
  nn::NonFinite nonfinite = nn::NonFinite::Refuse;
  app.add_flag_function("--allow-nonfinite", [&](int64_t) { nonfinite = nn::NonFinite::Allow; },
                        "load weights holding NaN or Inf (to look inside a diverged run; refused otherwise)");
  CLI11_PARSE(app, argc, argv);

  // Outputs are named by the checkpoint's folder, and by its step for the copies train-gpt
  // --keep-checkpoints keeps (run/checkpoint-400.safetensors: run-400): two checkpoints that would
  // still share a name would overwrite each other's files, so that is refused before anything is read.
  auto output_name = [](const std::string& path) {
    std::filesystem::path p = std::filesystem::absolute(path);
    std::string name = p.parent_path().filename().string(), stem = p.stem().string();
    return stem.rfind("checkpoint-", 0) == 0 ? name + stem.substr(std::string("checkpoint").size()) : name;
  };
  std::map<std::string, std::string> checkpoint_of;
  for (const std::string& path : checkpoints) {
    auto [it, fresh] = checkpoint_of.emplace(output_name(path), path);
    if (!fresh) {
      std::cerr << fmt::format("norm-curves: '{}' and '{}' would both write {}.points.dat and {}.layers.dat (the outputs "
                               "are named by the checkpoint's folder): give checkpoints of different folders\n",
                               it->second, path, it->first, it->first);
      return 2;
    }
  }
  try {
    std::filesystem::create_directories(out);
    std::optional<Tensor> vit_input;        // made for the first ViT
    std::optional<data::TextDataset> text;  // read for the first GPT
    for (const std::string& path : checkpoints) {
      std::string name = output_name(path);
      nn::SafeTensors file = nn::load_safetensors(path);
      RecordedModel model;
      if (file.metadata.count(tools::kGptConfig)) {
        if (!text) text.emplace(text_path);
        model = record_gpt(file, *text, windows, seed, nonfinite);
      } else {
        if (!vit_input) vit_input = test_images(data_dir, images);
        model = record_vit(file, *vit_input, nonfinite);
      }
      const std::string& norm = model.norm;
      std::vector<Layer>& layers = model.layers;
      std::ofstream points_file(std::filesystem::path(out) / (name + ".points.dat"));
      std::ofstream layers_file(std::filesystem::path(out) / (name + ".layers.dat"));
      DYT_CHECK(points_file && layers_file, "cannot write into '{}'", out);
      points_file << "# " << path << ": norm " << norm << ", " << model.input_description
                  << "; per layer (gnuplot index): channel x z\n";
      layers_file << "# " << path << ": norm " << norm << "\n# index name input_std inverse_std alpha tanh_a tanh_k r2_tanh "
                  << "line_slope r2_line common_part saturated\n";
      fmt::print("\n{} ({} norm, step {}): {}\n\n", name, norm, model.step, model.input_description);
      fmt::print("| layer | input std | 1/std | alpha | fit k tanh(a x): a | k | R^2 | fit b x: R^2 | common part | saturated |\n");
      fmt::print("|---|---|---|---|---|---|---|---|---|---|\n");
      std::mt19937_64 draw(seed);
      for (size_t i = 0; i < layers.size(); ++i) {
        const Tensor& input = layers[i].recorded->input;
        std::vector<float> in = input.contiguous().to_vector<float>();
        std::vector<float> normalized = before_affine(*layers[i].recorded->norm, input).contiguous().to_vector<float>();
        double sum = 0, squares = 0;
        for (float v : in) sum += v, squares += double(v) * v;
        double mean = sum / double(in.size()), std = std::sqrt(squares / double(in.size()) - mean * mean);
        const int64_t channels = input.size(-1);
        std::uniform_int_distribution<size_t> pick(0, in.size() - 1);
        std::vector<double> px, pz;
        points_file << "# " << layers[i].name << "\n";
        for (int64_t p = 0; p < std::min<int64_t>(points, int64_t(in.size())); ++p) {
          size_t j = pick(draw);
          px.push_back(in[j]), pz.push_back(normalized[j]);
          points_file << j % size_t(channels) << ' ' << in[j] << ' ' << normalized[j] << '\n';
        }
        points_file << "\n\n";
        auto* as_dyt = dynamic_cast<const nn::DyT*>(layers[i].recorded->norm.get());
        double alpha = as_dyt ? as_dyt->alpha.item() : NAN;
        tools::TanhFit f = tools::fit_tanh(px, pz);
        double common = tools::common_part(in, channels);
        double saturated = NAN;
        if (as_dyt) {
          int64_t flat = 0;
          for (float z : normalized) flat += std::abs(z) > 0.96f;
          saturated = double(flat) / double(normalized.size());
        }
        layers_file << fmt::format("{} {} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g}\n", i,
                                   layers[i].name, std, 1 / std, alpha, f.a, f.k, f.r2_tanh, f.slope, f.r2_line, common, saturated);
        fmt::print("| {} | {:.3f} | {:.3f} | {} | {:.3f} | {:.3f} | {:.4f} | {:.4f} | {:.3f} | {} |\n", layers[i].name, std,
                   1 / std, as_dyt ? fmt::format("{:.3f}", alpha) : "-", f.a, f.k, f.r2_tanh, f.r2_line, common,
                   as_dyt ? fmt::format("{:.1f}%", 100 * saturated) : "-");
      }
      DYT_CHECK(points_file.good() && layers_file.good(), "writing into '{}' failed", out);
    }
    fmt::print("\nwrote {}/<name>.points.dat and <name>.layers.dat\n", out);
  } catch (const std::exception& e) {
    fmt::print(stderr, "norm-curves: {}\n", tools::describe_error(e));
    return 1;
  }
  return 0;
}
