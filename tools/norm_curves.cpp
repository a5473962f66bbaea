// The study's look inside trained ViTs (the paper's Figures 2-4 and 8 at our scale): runs test
// images through each checkpoint with every norm wrapped to record its input, then writes for
// each norm layer
//   - points (input x, output before the affine part) - LayerNorm's S-shaped, tanh-like curves;
//   - the std of its input, 1/std, and DyT's learned alpha, which the paper finds tracks 1/std;
//   - the best fit z = k tanh(a x) and the best line z = b x, with the share of variance each
//     explains: how tanh-like the layer is, as a number.
// Files: <out>/<name>.points.dat (one gnuplot index per layer: channel, x, z) and
// <out>/<name>.layers.dat (one row per layer); a markdown table goes to stdout.
// tools/plot_norms.sh draws the pictures from them.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "nn/norms.h"
#include "tools/common/tanh_fit.h"
#include "tools/common/vit_checkpoint.h"
#include "tools/data/fashion_mnist.h"

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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> checkpoints;
  std::string data_dir = data::kFashionMnistDir, out = "runs/norm-curves";
  int64_t images = 256, points = 20000;
  uint64_t seed = 1;
  CLI::App app{"Record the inputs and outputs of every norm of trained ViTs (train-vit checkpoints): points for "
               "the S-curve plots, input std, DyT's alpha, tanh fits"};
  app.add_option("checkpoints", checkpoints, "train-vit checkpoints; each is named after its folder")->required();
  app.add_option("--data", data_dir, "folder of the Fashion-MNIST IDX files")->capture_default_str();
  app.add_option("--images", images, "test images to run through each model")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--points", points, "points per layer written and fitted (drawn at random)")->capture_default_str()
      ->check(CLI::Range(10, 10000000));
  app.add_option("--seed", seed, "seed of the drawing of the points")->capture_default_str();
  app.add_option("--out", out, "folder for the .dat files")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    data::LabeledImages train = data::load_fashion_mnist(data_dir, "train"), test = data::load_fashion_mnist(data_dir, "test");
    auto statistics = data::pixel_statistics(train);
    std::vector<int64_t> rows(static_cast<size_t>(images));
    std::iota(rows.begin(), rows.end(), 0);
    Tensor x = data::image_batch(test, rows, statistics.mean, statistics.std, Device::cpu()).first;
    std::filesystem::create_directories(out);

    for (const std::string& path : checkpoints) {
      std::string name = std::filesystem::absolute(path).parent_path().filename().string();
      auto loaded = tools::load_vit(path, Device::cpu());
      models::ViT& model = *loaded.model;
      std::vector<Layer> layers;
      auto wrap = [&](std::shared_ptr<nn::UnaryModule>& slot, std::string layer_name) {
        auto recorded = std::make_shared<RecordedNorm>(slot);
        slot = recorded;
        layers.push_back({std::move(layer_name), recorded.get()});
      };
      for (size_t b = 0; b < model.blocks().size(); ++b) {
        wrap(model.blocks()[b]->norm_attention, fmt::format("block{}.attention", b));
        wrap(model.blocks()[b]->norm_mlp, fmt::format("block{}.mlp", b));
      }
      wrap(model.final_norm(), "final");
      {
        NoGradGuard no_grad;
        model.eval();
        model.forward(x);
      }

      const std::string norm = model.config().block.norm;
      std::ofstream points_file(std::filesystem::path(out) / (name + ".points.dat"));
      std::ofstream layers_file(std::filesystem::path(out) / (name + ".layers.dat"));
      DYT_CHECK(points_file && layers_file, "cannot write into '{}'", out);
      points_file << "# " << path << ": norm " << norm << ", " << images << " test images; per layer (gnuplot index): channel x z\n";
      layers_file << "# " << path << ": norm " << norm << "\n# index name input_std inverse_std alpha tanh_a tanh_k r2_tanh "
                  << "line_slope r2_line\n";
      fmt::print("\n{} ({} norm, step {}): {} test images\n\n", name, norm, loaded.step, images);
      fmt::print("| layer | input std | 1/std | alpha | fit k tanh(a x): a | k | R^2 | fit b x: R^2 |\n");
      fmt::print("|---|---|---|---|---|---|---|---|\n");
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
        layers_file << fmt::format("{} {} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g} {:.6g}\n", i, layers[i].name, std,
                                   1 / std, alpha, f.a, f.k, f.r2_tanh, f.slope, f.r2_line);
        fmt::print("| {} | {:.3f} | {:.3f} | {} | {:.3f} | {:.3f} | {:.4f} | {:.4f} |\n", layers[i].name, std, 1 / std,
                   as_dyt ? fmt::format("{:.3f}", alpha) : "-", f.a, f.k, f.r2_tanh, f.r2_line);
      }
      DYT_CHECK(points_file.good() && layers_file.good(), "writing into '{}' failed", out);
    }
    fmt::print("\nwrote {}/<name>.points.dat and <name>.layers.dat\n", out);
  } catch (const std::exception& e) {
    fmt::print(stderr, "norm-curves: {}\n", e.what());
    return 1;
  }
  return 0;
}
