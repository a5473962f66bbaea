#include "tools/common/vit_checkpoint.h"

#include "core/error.h"
#include "models/config_json.h"
#include "nn/checkpoint.h"

namespace dytgrad::tools {

LoadedViT load_vit(const std::string& path, Device device) {
  nn::SafeTensors file = nn::load_safetensors(path);
  auto it = file.metadata.find(kVitConfig);
  DYT_CHECK(it != file.metadata.end(), "'{}' is not a ViT checkpoint of train-vit (no '{}' metadata)", path, kVitConfig);
  LoadedViT out;
  out.model = std::make_unique<models::ViT>(nlohmann::json::parse(it->second).get<models::ViTConfig>(), 0);
  out.model->to(device);
  nn::TrainingState state;
  nn::load_checkpoint(file, *out.model, nullptr, state);
  out.step = state.step;
  return out;
}

}  // namespace dytgrad::tools
