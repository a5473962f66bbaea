#include "tools/common/vit_checkpoint.h"

#include "models/config_json.h"
#include "nn/checkpoint.h"

namespace dytgrad::tools {

LoadedViT load_vit(const nn::SafeTensors& file, Device device, nn::NonFinite nonfinite) {
  LoadedViT out;
  out.model = std::make_unique<models::ViT>(nn::metadata_json<models::ViTConfig>(file, kVitConfig, "a ViT checkpoint of train-vit"), 0);
  out.model->to(device);
  out.step = nn::load_weights(file, *out.model, nonfinite);
  return out;
}

LoadedViT load_vit(const std::string& path, Device device) { return load_vit(nn::load_safetensors(path), device); }

}  // namespace dytgrad::tools
