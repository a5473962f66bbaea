#include "tools/common/gpt_checkpoint.h"

#include "core/error.h"
#include "models/config_json.h"
#include "nn/checkpoint.h"

namespace dytgrad::tools {

std::map<std::string, std::string> gpt_metadata(const models::GPTConfig& config, const data::CharVocabulary& vocabulary) {
  return {{kGptConfig, nlohmann::json(config).dump()}, {kGptVocabulary, nlohmann::json(vocabulary.symbols()).dump()}};
}

namespace {
const std::string& metadata(const nn::SafeTensors& file, const std::string& key) {
  auto it = file.metadata.find(key);
  DYT_CHECK(it != file.metadata.end(), "'{}' is not a GPT checkpoint of train-gpt (no '{}' metadata)", file.path, key);
  return it->second;
}
}  // namespace

data::CharVocabulary gpt_vocabulary(const nn::SafeTensors& file) {
  return data::CharVocabulary(nlohmann::json::parse(metadata(file, kGptVocabulary)).get<std::vector<unsigned char>>());
}

LoadedGPT load_gpt(const std::string& path, Device device) {
  nn::SafeTensors file = nn::load_safetensors(path);
  LoadedGPT out;
  auto config = nlohmann::json::parse(metadata(file, kGptConfig)).get<models::GPTConfig>();
  out.vocabulary = gpt_vocabulary(file);
  DYT_CHECK(out.vocabulary.size() == config.vocab, "'{}': the vocabulary has {} symbols, the model {}", path,
            out.vocabulary.size(), config.vocab);
  out.model = std::make_unique<models::GPT>(config, 0);
  out.model->to(device);
  nn::TrainingState state;
  nn::load_checkpoint(file, *out.model, nullptr, state);
  out.step = state.step;
  return out;
}

}  // namespace dytgrad::tools
