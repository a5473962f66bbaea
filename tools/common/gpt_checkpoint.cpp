#include "tools/common/gpt_checkpoint.h"

#include "core/error.h"
#include "models/config_json.h"
#include "nn/checkpoint.h"

namespace dytgrad::tools {

std::map<std::string, std::string> gpt_metadata(const models::GPTConfig& config, const data::CharVocabulary& vocabulary) {
  return {{kGptConfig, nlohmann::json(config).dump()}, {kGptVocabulary, nlohmann::json(vocabulary.symbols()).dump()}};
}

LoadedGPT load_gpt(const std::string& path, Device device) {
  nn::SafeTensors file = nn::load_safetensors(path);
  for (const std::string& key : {kGptConfig, kGptVocabulary})
    DYT_CHECK(file.metadata.count(key), "'{}' is not a GPT checkpoint of train-gpt (no '{}' metadata)", path, key);
  LoadedGPT out;
  auto config = nlohmann::json::parse(file.metadata.at(kGptConfig)).get<models::GPTConfig>();
  out.vocabulary = data::CharVocabulary(
      nlohmann::json::parse(file.metadata.at(kGptVocabulary)).get<std::vector<unsigned char>>());
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
