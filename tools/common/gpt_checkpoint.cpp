#include "tools/common/gpt_checkpoint.h"

#include "core/error.h"
#include "models/config_json.h"
#include "nn/checkpoint.h"

namespace dytgrad::tools {

std::map<std::string, std::string> gpt_metadata(const models::GPTConfig& config, const data::CharVocabulary& vocabulary) {
  return {{kGptConfig, nlohmann::json(config).dump()}, {kGptVocabulary, nlohmann::json(vocabulary.symbols()).dump()}};
}

namespace {
const std::string kWhat = "a GPT checkpoint of train-gpt";
}  // namespace

data::CharVocabulary gpt_vocabulary(const nn::SafeTensors& file) {
  // Read as numbers and range-checked: read straight into bytes, 300 would become 44.
  auto codes = nn::metadata_json<std::vector<int64_t>>(file, kGptVocabulary, kWhat);
  std::vector<unsigned char> symbols;
  for (int64_t code : codes) {
    DYT_CHECK(code >= 0 && code <= 255, "'{}': the metadata '{}' must list bytes (0 to 255), found {}", file.path,
              kGptVocabulary, code);
    symbols.push_back(static_cast<unsigned char>(code));
  }
  return data::CharVocabulary(symbols);
}

LoadedGPT load_gpt(const nn::SafeTensors& file, Device device, nn::NonFinite nonfinite) {
  LoadedGPT out;
  auto config = nn::metadata_json<models::GPTConfig>(file, kGptConfig, kWhat);
  out.vocabulary = gpt_vocabulary(file);
  DYT_CHECK(out.vocabulary.size() == config.vocab, "'{}': the vocabulary has {} symbols, the model {}", file.path,
            out.vocabulary.size(), config.vocab);
  try {
    out.model = std::make_unique<models::GPT>(config, 0);
  } catch (const Error& e) {
    DYT_FAIL("'{}': its gpt.config cannot make a model: {}", file.path, e.what());
  }
  out.model->to(device);
  out.step = nn::load_weights(file, *out.model, nonfinite);
  return out;
}

LoadedGPT load_gpt(const std::string& path, Device device) { return load_gpt(nn::load_safetensors(path), device); }

}  // namespace dytgrad::tools
