// The IDX loader (plain and gzip, every way a file can be broken) and Fashion-MNIST on top of it.
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <tuple>
#include <zlib.h>

#include "core/error.h"
#include "helpers.h"
#include "tools/data/fashion_mnist.h"
#include "tools/data/idx.h"

using namespace dytgrad;
namespace fs = std::filesystem;

namespace {

// The bytes of an IDX file of unsigned bytes with this shape and these values.
std::string idx_bytes(const std::vector<uint32_t>& shape, const std::vector<uint8_t>& values) {
  std::string out = {0, 0, 0x08, char(shape.size())};
  for (uint32_t s : shape) out += {char(s >> 24), char(s >> 16 & 255), char(s >> 8 & 255), char(s & 255)};
  out.append(values.begin(), values.end());
  return out;
}

void write_plain(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

void write_gzip(const fs::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
  gzclose(f);
}

std::vector<uint8_t> random_bytes(size_t n, uint8_t below = 255) {
  std::vector<uint8_t> out;
  for (int64_t v : Tensor::randint(0, below, {int64_t(n)}).to_vector<int64_t>()) out.push_back(uint8_t(v));
  return out;
}

// A Fashion-MNIST-like folder: n images of 28x28 and n labels (values may be overridden).
void write_fashion_folder(const fs::path& dir, const std::string& prefix, uint32_t images, uint32_t labels,
                          uint8_t label_limit = 10) {
  write_gzip(dir / (prefix + "-images-idx3-ubyte.gz"), idx_bytes({images, 28, 28}, random_bytes(images * 784)));
  write_gzip(dir / (prefix + "-labels-idx1-ubyte.gz"), idx_bytes({labels}, random_bytes(labels, label_limit)));
}

}  // namespace

TEST_CASE("IDX: gzip and plain files read back their shape and values", "[data][idx]") {
  fs::path dir = test::temp_dir("idx");
  std::vector<uint8_t> values = random_bytes(5 * 3 * 4);
  std::string bytes = idx_bytes({5, 3, 4}, values);
  write_gzip(dir / "a.gz", bytes);
  write_plain(dir / "a", bytes);
  for (const char* name : {"a.gz", "a"}) {
    INFO(name);
    data::IdxArray array = data::read_idx((dir / name).string());
    REQUIRE(array.shape == std::vector<int64_t>{5, 3, 4});
    REQUIRE(array.values == values);
  }
}

TEST_CASE("IDX: missing, truncated, oversized, corrupt and foreign files name the file and the fault",
          "[data][idx][errors]") {
  fs::path dir = test::temp_dir("idx-bad");
  std::string good = idx_bytes({10, 28, 28}, random_bytes(7840));
  auto error_of = [&](const std::string& name, const std::string& bytes, bool gzip = true) {
    gzip ? write_gzip(dir / name, bytes) : write_plain(dir / name, bytes);
    try {
      data::read_idx((dir / name).string());
    } catch (const Error& e) {
      std::string message = e.what();
      REQUIRE(message.find(name) != std::string::npos);  // names the file
      return message;
    }
    FAIL("no error for " << name);
    return std::string();
  };
  REQUIRE_THROWS_WITH(data::read_idx((dir / "missing.gz").string()), Catch::Contains("cannot open"));
  REQUIRE_THAT(error_of("truncated.gz", good.substr(0, good.size() - 100)),
               Catch::Contains("truncated") && Catch::Contains("7840") && Catch::Contains("7740"));
  REQUIRE_THAT(error_of("header.gz", good.substr(0, 6)), Catch::Contains("sizes"));
  // Sizes whose product wraps around 2^64 (16 x 2^30 x 2^30) are refused; a header that claims
  // 2^34 values with none behind it is reported truncated without allocating what it claims.
  REQUIRE_THAT(error_of("wraps.gz", idx_bytes({16, 1u << 30, 1u << 30}, {})), Catch::Contains("more than"));
  REQUIRE_THAT(error_of("claims.gz", idx_bytes({1u << 17, 1u << 17}, {1, 2, 3})),
               Catch::Contains("truncated") && Catch::Contains("holds 3"));
  REQUIRE_THAT(error_of("extra.gz", good + "xyz"), Catch::Contains("after the 7840 values"));
  std::string foreign = good;
  foreign[0] = 'P';
  REQUIRE_THAT(error_of("foreign.gz", foreign), Catch::Contains("not an IDX file"));
  std::string floats = good;
  floats[2] = 0x0D;
  REQUIRE_THAT(error_of("floats.gz", floats), Catch::Contains("0x0d"));

  // A gzip stream damaged in the middle: zlib's check fails, and the message says so.
  write_gzip(dir / "good.gz", good);
  std::ifstream in(dir / "good.gz", std::ios::binary);
  std::string compressed((std::istreambuf_iterator<char>(in)), {});
  for (size_t i = compressed.size() / 2; i < compressed.size() / 2 + 16; ++i) compressed[i] = char(~compressed[i]);
  REQUIRE_THAT(error_of("damaged.gz", compressed, /*gzip=*/false), Catch::Contains("corrupt") || Catch::Contains("truncated"));
}

TEST_CASE("Fashion-MNIST: images in [0, 1], labels checked against each other and against 0..9",
          "[data][fashion-mnist][errors]") {
  fs::path dir = test::temp_dir("fashion");
  write_fashion_folder(dir, "t10k", 12, 12);
  data::LabeledImages test = data::load_fashion_mnist(dir.string(), "test");
  REQUIRE(test.images.shape() == Shape{12, 28, 28});
  REQUIRE(test.labels.shape() == Shape{12});
  auto pixels = test.images.to_vector<float>();
  REQUIRE(*std::max_element(pixels.begin(), pixels.end()) <= 1.0f);
  REQUIRE(*std::min_element(pixels.begin(), pixels.end()) >= 0.0f);

  auto [x, y] = data::image_batch(test, {3, 0}, 0.5, 0.25, Device::cpu());
  REQUIRE(x.shape() == Shape{2, 28, 28});
  REQUIRE(x.to_vector<float>()[0] == Approx((pixels[3 * 784] - 0.5) / 0.25));
  REQUIRE(y.to_vector<int64_t>() == std::vector<int64_t>{test.labels.to_vector<int64_t>()[3], test.labels.to_vector<int64_t>()[0]});
  REQUIRE_THROWS_WITH(data::image_batch(test, {12}, 0, 1, Device::cpu()), Catch::Contains("row 12 is out of range"));

  write_fashion_folder(dir, "train", 12, 11);
  REQUIRE_THROWS_WITH(data::load_fashion_mnist(dir.string(), "train"), Catch::Contains("12 images") && Catch::Contains("11 labels"));
  write_fashion_folder(dir, "train", 12, 12, /*label_limit=*/200);
  REQUIRE_THROWS_WITH(data::load_fashion_mnist(dir.string(), "train"), Catch::Contains("labels are 0 to 9"));
  REQUIRE_THROWS_WITH(data::load_fashion_mnist((dir / "nope").string(), "train"), Catch::Contains("dataset-fashion-mnist"));
  REQUIRE_THROWS_WITH(data::load_fashion_mnist(dir.string(), "validation"), Catch::Contains("'train' or 'test'"));
}

TEST_CASE("Fashion-MNIST augmentation: every image is its source shifted and maybe mirrored, the same for the same step",
          "[data][fashion-mnist]") {
  fs::path dir = test::temp_dir("fashion-augment");
  write_fashion_folder(dir, "t10k", 16, 16);
  data::LabeledImages images = data::load_fashion_mnist(dir.string(), "test");
  std::vector<int64_t> rows(16);
  std::iota(rows.begin(), rows.end(), 0);
  const double mean = 0.4, std = 0.3;
  const data::Augmentation augment{2, true, 7};
  auto batch_at = [&](int64_t step, const data::Augmentation& a) {
    return data::image_batch(images, rows, mean, std, Device::cpu(), a, step).first.to_vector<float>();
  };
  std::vector<float> source = images.images.to_vector<float>(), batch = batch_at(5, augment);

  // The image moved by (dx, dy), mirrored first when asked; uncovered pixels are background (0).
  auto moved = [&](int64_t image, int64_t dx, int64_t dy, bool mirror) {
    std::vector<float> out(784);
    for (int64_t r = 0; r < 28; ++r)
      for (int64_t c = 0; c < 28; ++c) {
        int64_t from_r = r - dy, from_c = (mirror ? 27 - c : c) - dx;
        double pixel = from_r >= 0 && from_r < 28 && from_c >= 0 && from_c < 28 ? source[size_t(image * 784 + from_r * 28 + from_c)] : 0.0;
        out[size_t(r * 28 + c)] = float((pixel - mean) / std);
      }
    return out;
  };
  std::set<std::tuple<int64_t, int64_t, bool>> moves_seen;
  for (int64_t i = 0; i < 16; ++i) {
    std::vector<float> got(batch.begin() + i * 784, batch.begin() + (i + 1) * 784);
    int matches = 0;
    for (int64_t dx = -2; dx <= 2; ++dx)
      for (int64_t dy = -2; dy <= 2; ++dy)
        for (bool mirror : {false, true})
          if (moved(i, dx, dy, mirror) == got) ++matches, moves_seen.insert({dx, dy, mirror});
    INFO("image " << i);
    REQUIRE(matches == 1);  // random pixels: exactly one move explains the image
  }
  REQUIRE(moves_seen.size() > 4);  // the moves vary over the batch
  std::set<bool> mirrors;
  for (auto& m : moves_seen) mirrors.insert(std::get<2>(m));
  REQUIRE(mirrors.size() == 2);

  REQUIRE(batch_at(5, augment) == batch);  // the same step draws the same moves
  REQUIRE(batch_at(6, augment) != batch);
  REQUIRE(batch_at(5, {}) == data::image_batch(images, rows, mean, std, Device::cpu()).first.to_vector<float>());
  REQUIRE(augment.description() == "shifts up to 2 px, mirror images");
  REQUIRE(data::Augmentation{0, true, 1}.description() == "mirror images");
  REQUIRE(data::Augmentation{}.description() == "none");
  REQUIRE_THROWS_WITH(batch_at(0, {28, false, 1}), Catch::Contains("shift of 28 pixels") && Catch::Contains("28x28"));
}

TEST_CASE("Fashion-MNIST from Debian's package: the official 60k / 10k split", "[data][fashion-mnist]") {
  if (!fs::exists(data::kFashionMnistDir)) {
    WARN("skipped: " << data::kFashionMnistDir << " is missing (apt-get install dataset-fashion-mnist)");
    return;
  }
  data::LabeledImages test = data::load_fashion_mnist(data::kFashionMnistDir, "test");
  REQUIRE(test.images.shape() == Shape{10000, 28, 28});
  std::vector<int64_t> per_class(10);
  for (int64_t label : test.labels.to_vector<int64_t>()) ++per_class[size_t(label)];
  REQUIRE(per_class == std::vector<int64_t>(10, 1000));  // the test set is balanced
}
