// A byte-level vocabulary: the bytes that occur in a text, numbered in byte order. Kept in GPT
// checkpoints (as the list of bytes) so that `sample` can decode without the training text.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dytgrad::data {

class CharVocabulary {
 public:
  static CharVocabulary of_text(const std::string& text);
  explicit CharVocabulary(std::vector<unsigned char> symbols = {});  // id -> byte, distinct

  int64_t size() const { return int64_t(symbols_.size()); }
  const std::vector<unsigned char>& symbols() const { return symbols_; }
  std::vector<int64_t> encode(const std::string& text) const;  // bytes not in the vocabulary are an error
  std::string decode(const std::vector<int64_t>& ids) const;
  bool operator==(const CharVocabulary& o) const { return symbols_ == o.symbols_; }

 private:
  std::vector<unsigned char> symbols_;  // id -> byte
  int64_t ids_[256];                    // byte -> id, -1 if absent
};

}  // namespace dytgrad::data
