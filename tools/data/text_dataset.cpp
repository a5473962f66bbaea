#include "tools/data/text_dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace dytgrad::data {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  DYT_CHECK(in.good(), "text data: cannot open '{}'", p.string());
  std::ostringstream s;
  s << in.rdbuf();
  DYT_CHECK(!in.bad(), "text data: error while reading '{}'", p.string());
  return s.str();
}

}  // namespace

TextDataset::TextDataset(const std::string& path, double validation_fraction) {
  DYT_CHECK(validation_fraction > 0 && validation_fraction < 1, "text data: validation fraction must be in (0, 1), got {}",
            validation_fraction);
  DYT_CHECK(fs::exists(path), "text data: '{}' does not exist (for the default corpus: apt-get install fortunes)", path);
  std::string text;
  int files = 0;
  if (fs::is_directory(path)) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(path))
      if (e.is_regular_file() && !e.is_symlink() && e.path().extension() != ".dat") paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
      text += read_file(p);
      ++files;
    }
  } else {
    text = read_file(path);
    files = 1;
  }
  DYT_CHECK(text.size() >= 1000, "text data: '{}' holds {} bytes of text, too little to train on (need 1000)", path,
            text.size());
  vocabulary_ = CharVocabulary::of_text(text);
  std::vector<int64_t> all = vocabulary_.encode(text);
  size_t cut = size_t(double(all.size()) * (1 - validation_fraction));
  train_.assign(all.begin(), all.begin() + cut);
  validation_.assign(all.begin() + cut, all.end());
  description_ = fmt::format("{} ({} file{}, {} bytes, {} symbols; {} train / {} validation)", path, files,
                             files == 1 ? "" : "s", text.size(), vocabulary_.size(), train_.size(), validation_.size());
}

std::pair<Tensor, Tensor> TextDataset::batch(bool validation, int64_t batch, int64_t time, Generator& gen,
                                             Device device) const {
  const std::vector<int64_t>& src = validation ? validation_ : train_;
  DYT_CHECK(int64_t(src.size()) > time + 1, "text data: the {} split ({} symbols) is shorter than a window of {}",
            validation ? "validation" : "training", src.size(), time + 1);
  Tensor starts = Tensor::randint(0, int64_t(src.size()) - time - 1, {batch}, Device::cpu(), &gen);
  std::vector<int64_t> x(size_t(batch * time)), y(size_t(batch * time));
  auto s = starts.to_vector<int64_t>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < time; ++t) {
      x[size_t(b * time + t)] = src[size_t(s[size_t(b)] + t)];
      y[size_t(b * time + t)] = src[size_t(s[size_t(b)] + t + 1)];
    }
  return {Tensor::from_vector<int64_t>(x, {batch, time}, device), Tensor::from_vector<int64_t>(y, {batch, time}, device)};
}

}  // namespace dytgrad::data
