// Fashion-MNIST (Zalando; 28x28 grey images of 10 kinds of clothing, 60k for training and 10k for
// testing) from Debian's `dataset-fashion-mnist` package, read with the IDX loader.
#pragma once
#include <array>
#include <string>

#include "core/tensor.h"

namespace dytgrad::data {

inline const std::string kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
extern const std::array<const char*, 10> kFashionMnistClasses;  // "T-shirt/top", "Trouser", ...

struct LabeledImages {
  Tensor images;  // [n, height, width] float32 in [0, 1] (CPU)
  Tensor labels;  // [n] int64 in [0, 10)
  int64_t size() const { return labels.numel(); }
};

// split: "train" (train-images-idx3-ubyte.gz + train-labels-idx1-ubyte.gz) or "test" (t10k-*).
// The files' shapes and labels are checked against each other; errors name the file.
LabeledImages load_fashion_mnist(const std::string& dir, const std::string& split);

// The mean and standard deviation of all pixels: the standardisation the ViT trains with.
struct PixelStatistics {
  double mean, std;
};
PixelStatistics pixel_statistics(const LabeledImages& data);

// Random shifts and mirror images, the usual augmentation for small image sets: each image moves by
// up to `shift` pixels along each axis (uncovered pixels are background, 0) and, with `flip`, is
// mirrored left to right with probability 1/2. The draws come from the counter-based generator,
// keyed by the seed, the step and the image's place in the batch, so a resumed run and every
// process of a data-parallel run see the same images.
struct Augmentation {
  int64_t shift = 0;
  bool flip = false;
  uint64_t seed = 0;
  bool enabled() const { return shift > 0 || flip; }
  std::string description() const;  // "none", "shifts up to 2 px, mirror images", ...
};

// Images and labels at the given rows, images standardised with (x - mean) / std, on `device`;
// augmented as `augmentation` says, with the draws of training step `step`.
std::pair<Tensor, Tensor> image_batch(const LabeledImages& data, const std::vector<int64_t>& rows, double mean,
                                      double std, Device device, const Augmentation& augmentation = {},
                                      int64_t step = 0);

}  // namespace dytgrad::data
