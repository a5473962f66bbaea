// What a train-gpt checkpoint holds besides the tensors (see nn/checkpoint.h), and how a program
// gets a ready model back from one.
//   "gpt.config"      the GPTConfig as JSON (models/config_json.h)
//   "gpt.vocabulary"  the bytes of the character vocabulary, as a JSON list of numbers
#pragma once
#include <memory>
#include <string>

#include "models/gpt.h"
#include "nn/checkpoint.h"
#include "nn/safetensors.h"
#include "tools/data/char_vocabulary.h"

namespace dytgrad::tools {

inline const std::string kGptConfig = "gpt.config", kGptVocabulary = "gpt.vocabulary";

// The metadata entries above for a model and its vocabulary.
std::map<std::string, std::string> gpt_metadata(const models::GPTConfig& config, const data::CharVocabulary& vocabulary);

struct LoadedGPT {
  std::unique_ptr<models::GPT> model;
  data::CharVocabulary vocabulary;
  int64_t step = 0;
};

// The vocabulary stored in a GPT checkpoint (an error naming the file if there is none).
data::CharVocabulary gpt_vocabulary(const nn::SafeTensors& file);

// Builds the model described by the checkpoint and loads its weights (no optimiser) onto `device`
// (weights holding NaN or Inf only with NonFinite::Allow).
LoadedGPT load_gpt(const nn::SafeTensors& file, Device device, nn::NonFinite nonfinite = nn::NonFinite::Refuse);
LoadedGPT load_gpt(const std::string& path, Device device);

}  // namespace dytgrad::tools
