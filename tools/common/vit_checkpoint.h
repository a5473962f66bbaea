// What a train-vit checkpoint holds besides the tensors (see nn/checkpoint.h), and how a program
// gets the trained model back from one.
//   "vit.config"  the ViTConfig as JSON (models/config_json.h)
#pragma once
#include <memory>
#include <string>

#include "models/vit.h"
#include "nn/checkpoint.h"
#include "nn/safetensors.h"

namespace dytgrad::tools {

inline const std::string kVitConfig = "vit.config";

struct LoadedViT {
  std::unique_ptr<models::ViT> model;
  int64_t step = 0;
};

// Builds the model described by the checkpoint and loads its weights (no optimiser) onto `device`
// (weights holding NaN or Inf only with NonFinite::Allow).
LoadedViT load_vit(const nn::SafeTensors& file, Device device, nn::NonFinite nonfinite = nn::NonFinite::Refuse);
LoadedViT load_vit(const std::string& path, Device device);

}  // namespace dytgrad::tools
