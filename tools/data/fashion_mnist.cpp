#include "tools/data/fashion_mnist.h"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "core/ops/ops.h"
#include "kernels/random_bits.h"
#include "tools/data/idx.h"

namespace dytgrad::data {

const std::array<const char*, 10> kFashionMnistClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

LabeledImages load_fashion_mnist(const std::string& dir, const std::string& split) {
  DYT_CHECK(split == "train" || split == "test", "Fashion-MNIST: split must be 'train' or 'test', got '{}'", split);
  DYT_CHECK(std::filesystem::is_directory(dir),
            "Fashion-MNIST: '{}' is not a folder (apt-get install dataset-fashion-mnist puts the data in {})", dir,
            kFashionMnistDir);
  std::string prefix = split == "train" ? "train" : "t10k";
  std::string image_path = (std::filesystem::path(dir) / (prefix + "-images-idx3-ubyte.gz")).string();
  std::string label_path = (std::filesystem::path(dir) / (prefix + "-labels-idx1-ubyte.gz")).string();
  IdxArray images = read_idx(image_path), labels = read_idx(label_path);
  DYT_CHECK(images.shape.size() == 3, "Fashion-MNIST: '{}' should hold [n, rows, columns] images, its shape is [{}]",
            image_path, fmt::join(images.shape, ", "));
  DYT_CHECK(labels.shape.size() == 1, "Fashion-MNIST: '{}' should hold [n] labels, its shape is [{}]", label_path,
            fmt::join(labels.shape, ", "));
  DYT_CHECK(images.shape[0] == labels.shape[0], "Fashion-MNIST: '{}' has {} images but '{}' has {} labels", image_path,
            images.shape[0], label_path, labels.shape[0]);
  LabeledImages out;
  std::vector<float> pixels(images.values.size());
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = float(images.values[i]) / 255.0f;
  out.images = Tensor::from_vector<float>(pixels, images.shape);
  std::vector<int64_t> ids(labels.values.begin(), labels.values.end());
  for (size_t i = 0; i < ids.size(); ++i)
    DYT_CHECK(ids[i] < 10, "Fashion-MNIST: '{}' gives label {} to image {}; labels are 0 to 9", label_path, ids[i], i);
  out.labels = Tensor::from_vector<int64_t>(ids, {labels.shape[0]});
  return out;
}

PixelStatistics pixel_statistics(const LabeledImages& data) {
  double mean = data.images.mean().item();
  return {mean, std::sqrt(mul(data.images, data.images).mean().item() - mean * mean)};
}

std::string Augmentation::description() const {
  if (!enabled()) return "none";
  std::string shifts = shift > 0 ? fmt::format("shifts up to {} px", shift) : "";
  return shifts + (shift > 0 && flip ? ", " : "") + (flip ? "mirror images" : "");
}

namespace {

// Where one image's pixels come from: output pixel (y, x) reads source pixel (y - dy, x' - dx),
// with x' = width - 1 - x when mirrored.
struct ImageMove {
  int64_t dx = 0, dy = 0;
  bool mirror = false;
};

ImageMove draw_move(const Augmentation& a, int64_t step, int64_t batch, int64_t i) {
  uint64_t bits = kernels::random_bits(a.seed ^ 0x6175676d656e74ull, uint64_t(step * batch + i));  // "augment"
  uint64_t choices = uint64_t(2 * a.shift + 1);
  return {int64_t(bits % choices) - a.shift, int64_t((bits >> 20) % choices) - a.shift, a.flip && (bits >> 63) != 0};
}

}  // namespace

std::pair<Tensor, Tensor> image_batch(const LabeledImages& data, const std::vector<int64_t>& rows, double mean,
                                      double std, Device device, const Augmentation& augmentation, int64_t step) {
  int64_t n = int64_t(rows.size()), height = data.images.size(1), width = data.images.size(2), pixels = height * width;
  DYT_CHECK(augmentation.shift >= 0 && augmentation.shift < std::min(height, width),
            "image_batch: a shift of {} pixels does not fit images of {}x{}", augmentation.shift, height, width);
  const float* source = data.images.data<float>();
  const int64_t* labels = data.labels.data<int64_t>();
  std::vector<float> x(size_t(n * pixels));
  std::vector<int64_t> y(static_cast<size_t>(n));
  const float background = float((0.0 - mean) / std);
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = rows[size_t(i)];
    DYT_CHECK(r >= 0 && r < data.size(), "image_batch: row {} is out of range for {} images", r, data.size());
    ImageMove move = augmentation.enabled() ? draw_move(augmentation, step, n, i) : ImageMove{};
    const float* image = source + r * pixels;
    float* out = x.data() + i * pixels;
    for (int64_t row = 0; row < height; ++row)
      for (int64_t col = 0; col < width; ++col) {
        int64_t from_row = row - move.dy, from_col = (move.mirror ? width - 1 - col : col) - move.dx;
        bool inside = from_row >= 0 && from_row < height && from_col >= 0 && from_col < width;
        out[row * width + col] = inside ? float((image[from_row * width + from_col] - mean) / std) : background;
      }
    y[size_t(i)] = labels[r];
  }
  return {Tensor::from_vector<float>(x, {n, height, width}, device), Tensor::from_vector<int64_t>(y, {n}, device)};
}

}  // namespace dytgrad::data
