#include "nn/checkpoint.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"

namespace dytgrad::nn {

namespace {
const std::string kStep = "dytgrad.step", kGenerators = "dytgrad.generators";
std::string exp_avg_name(const std::string& p) { return "optimizer.exp_avg." + p; }
std::string exp_avg_sq_name(const std::string& p) { return "optimizer.exp_avg_sq." + p; }

// The tensor `name` of the file, checked against the shape and dtype it must replace.
const Tensor& matching(const SafeTensors& file, const std::string& name, const Tensor& current, NonFinite nonfinite) {
  DYT_CHECK(file.contains(name), "load_checkpoint: '{}' has no tensor '{}' (the model or optimiser needs it): a "
            "checkpoint of another model?", file.path, name);
  const Tensor& t = file.at(name);
  DYT_CHECK(t.shape() == current.shape() && t.dtype() == current.dtype(),
            "load_checkpoint: '{}': tensor '{}' is {} {}, the model's is {} {}", file.path, name, shape_str(t.shape()),
            dtype_name(t.dtype()), shape_str(current.shape()), dtype_name(current.dtype()));
  DYT_CHECK(nonfinite == NonFinite::Allow || !has_nonfinite(t), "load_checkpoint: '{}': tensor '{}' holds NaN or infinite values (a diverged run?); "
            "a model or optimiser state with them cannot train or predict", file.path, name);
  return t;
}

// The training step stored as text: a whole decimal number >= 0 and nothing else.
int64_t parse_step(const SafeTensors& file, const std::string& text) {
  int64_t step = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), step);
  DYT_CHECK(error == std::errc() && end == text.data() + text.size() && step >= 0,
            "load_checkpoint: '{}': the metadata '{}' must be a step count (a whole number >= 0), got '{}'", file.path,
            kStep, text);
  return step;
}
}  // namespace

void save_checkpoint(const std::string& path, const Module& model, AdamW* optimizer, const TrainingState& state) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  auto params = model.named_parameters();
  for (const NamedParameter& p : params) tensors.emplace_back(p.name, *p.tensor);
  if (optimizer) {
    for (size_t i = 0; i < params.size(); ++i) {
      tensors.emplace_back(exp_avg_name(params[i].name), optimizer->exp_avg()[i]);
      tensors.emplace_back(exp_avg_sq_name(params[i].name), optimizer->exp_avg_sq()[i]);
    }
  }
  std::map<std::string, std::string> metadata = state.metadata;
  metadata[kStep] = std::to_string(state.step);
  nlohmann::json generators = nlohmann::json::object();
  for (const auto& [name, gen] : state.generators) generators[name] = {{"seed", gen->seed()}, {"offset", gen->offset()}};
  metadata[kGenerators] = generators.dump();
  save_safetensors(path, tensors, metadata);
}

void load_checkpoint(const SafeTensors& file, Module& model, AdamW* optimizer, TrainingState& state, NonFinite nonfinite) {
  NoGradGuard no_grad;
  auto params = model.named_parameters();
  // Check everything before changing anything.
  std::set<std::string> expected;
  for (size_t i = 0; i < params.size(); ++i) {
    matching(file, params[i].name, *params[i].tensor, nonfinite);
    expected.insert(params[i].name);
    if (optimizer) {
      matching(file, exp_avg_name(params[i].name), optimizer->exp_avg()[i], nonfinite);
      matching(file, exp_avg_sq_name(params[i].name), optimizer->exp_avg_sq()[i], nonfinite);
    }
  }
  for (const auto& [name, t] : file.tensors) {
    bool optimizer_state = name.rfind("optimizer.", 0) == 0;
    DYT_CHECK(optimizer_state || expected.count(name), "load_checkpoint: '{}' holds a tensor '{}' that the model "
              "does not have: a checkpoint of another model?", file.path, name);
  }
  int64_t step = parse_step(file, metadata_entry(file, kStep, "a dytgrad checkpoint"));
  auto generators = metadata_json<std::map<std::string, std::map<std::string, uint64_t>>>(file, kGenerators,
                                                                                          "a dytgrad checkpoint");
  for (const auto& [name, gen] : state.generators)
    DYT_CHECK(generators.count(name) && generators[name].count("seed") && generators[name].count("offset"),
              "load_checkpoint: '{}' has no seed and offset for the generator '{}' in '{}'", file.path, name, kGenerators);

  for (size_t i = 0; i < params.size(); ++i) {
    Tensor& p = *params[i].tensor;
    std::string name = p.name();
    p = file.at(params[i].name).to(p.device()).clone().requires_grad_();  // clone: never share the file's buffers
    p.set_name(name);
    if (optimizer) {
      optimizer->exp_avg()[i] = file.at(exp_avg_name(params[i].name)).to(p.device()).clone();
      optimizer->exp_avg_sq()[i] = file.at(exp_avg_sq_name(params[i].name)).to(p.device()).clone();
    }
  }
  if (optimizer) optimizer->set_steps_taken(step);
  for (auto& [name, gen] : state.generators) {
    gen->manual_seed(generators[name]["seed"]);
    gen->set_offset(generators[name]["offset"]);
  }
  state.step = step;
  state.metadata = file.metadata;
}

int64_t load_weights(const SafeTensors& file, Module& model, NonFinite nonfinite) {
  TrainingState state;
  load_checkpoint(file, model, nullptr, state, nonfinite);
  return state.step;
}

namespace detail {

std::string oversized_decimal(const nlohmann::json& json, const std::string& where) {
  if (json.is_number_float() && !(std::fabs(json.get<double>()) < 2147483648.0))
    return fmt::format("{} is {}, a decimal too large for any setting", where.empty() ? "the value" : where, json.dump());
  if (!json.is_structured()) return "";  // (items() of a number or string is the value itself)
  for (const auto& [key, value] : json.items()) {
    std::string found = oversized_decimal(value, where.empty() ? key : where + "." + key);
    if (!found.empty()) return found;
  }
  return "";
}

std::string number_changed(const nlohmann::json& given, const nlohmann::json& stored, const std::string& where) {
  std::string name = where.empty() ? "the value" : where;
  if (given.is_number() && stored.is_number() && given.get<double>() != stored.get<double>())
    return fmt::format("{} is {}, which would be read as {}", name, given.dump(), stored.dump());
  if (given.is_array() && stored.is_array() && given.size() == stored.size()) {
    for (size_t i = 0; i < given.size(); ++i) {
      std::string found = number_changed(given[i], stored[i], fmt::format("{}[{}]", where, i));
      if (!found.empty()) return found;
    }
  }
  if (given.is_object() && stored.is_object()) {
    for (const auto& [key, value] : given.items()) {
      if (!stored.contains(key)) continue;
      std::string found = number_changed(value, stored[key], where.empty() ? key : where + "." + key);
      if (!found.empty()) return found;
    }
  }
  return "";
}

}  // namespace detail

const std::string& metadata_entry(const SafeTensors& file, const std::string& key, const std::string& what) {
  auto it = file.metadata.find(key);
  DYT_CHECK(it != file.metadata.end(), "'{}' is not {} (it has no '{}' metadata)", file.path, what, key);
  return it->second;
}

}  // namespace dytgrad::nn
