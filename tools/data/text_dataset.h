// Character-level text data: a UTF-8 text file, or every regular file of a folder (the default is
// the English fortunes of Debian's `fortunes` package, /usr/share/games/fortunes; its .dat index
// files and .u8 symlinks are skipped). The vocabulary is the set of bytes that occur. The last
// `validation_fraction` of the text is held out for validation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"
#include "tools/data/char_vocabulary.h"

namespace dytgrad::data {

// Where Debian's `fortunes` package puts the English fortunes: the default corpus.
inline const std::string kFortunesDir = "/usr/share/games/fortunes";

class TextDataset {
 public:
  TextDataset(const std::string& path, double validation_fraction = 0.1);

  const CharVocabulary& vocabulary() const { return vocabulary_; }
  int64_t vocab_size() const { return vocabulary_.size(); }
  int64_t train_size() const { return int64_t(train_.size()); }
  int64_t validation_size() const { return int64_t(validation_.size()); }
  const std::string& description() const { return description_; }

  // A batch of random windows: inputs [batch, time] and the next-token targets, on `device`.
  std::pair<Tensor, Tensor> batch(bool validation, int64_t batch, int64_t time, Generator& gen, Device device) const;

 private:
  CharVocabulary vocabulary_;
  std::vector<int64_t> train_, validation_;
  std::string description_;
};

}  // namespace dytgrad::data
