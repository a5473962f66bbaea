#include "tools/data/char_vocabulary.h"

#include <algorithm>

#include "core/error.h"

namespace dytgrad::data {

CharVocabulary CharVocabulary::of_text(const std::string& text) {
  bool seen[256] = {};
  for (unsigned char c : text) seen[c] = true;
  std::vector<unsigned char> symbols;
  for (int c = 0; c < 256; ++c)
    if (seen[c]) symbols.push_back(static_cast<unsigned char>(c));
  return CharVocabulary(symbols);
}

CharVocabulary::CharVocabulary(std::vector<unsigned char> symbols) : symbols_(std::move(symbols)) {
  std::fill(std::begin(ids_), std::end(ids_), -1);
  for (size_t i = 0; i < symbols_.size(); ++i) {
    DYT_CHECK(ids_[symbols_[i]] < 0, "vocabulary: byte {} occurs twice", int(symbols_[i]));
    ids_[symbols_[i]] = int64_t(i);
  }
}

std::vector<int64_t> CharVocabulary::encode(const std::string& text) const {
  std::vector<int64_t> out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    DYT_CHECK(ids_[c] >= 0, "vocabulary: byte {} ('{}') is not in the vocabulary", int(c),
              c >= 32 && c < 127 ? std::string(1, char(c)) : "?");
    out.push_back(ids_[c]);
  }
  return out;
}

std::string CharVocabulary::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    DYT_CHECK(id >= 0 && id < size(), "vocabulary: id {} is out of range for {} symbols", id, size());
    out.push_back(char(symbols_[size_t(id)]));
  }
  return out;
}

}  // namespace dytgrad::data
