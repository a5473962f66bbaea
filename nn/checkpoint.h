// Training checkpoints: everything needed to resume a run exactly where it stopped, in one
// safetensors file that other tools can read.
//   tensors   the model's parameters under their dotted names ("blocks.0.attention.qkv.weight"), and the
//             optimiser's moments as "optimizer.exp_avg.<name>" / "optimizer.exp_avg_sq.<name>"
//   metadata  "dytgrad.step" (optimiser steps taken), "dytgrad.generators" (JSON: the seed and
//             offset of every named random generator: batches, dropout), and whatever the program
//             adds (the model's config, the vocabulary), as strings
// Resuming restores parameters, moments, step and generator offsets, so that the remaining steps
// draw the same batches and dropout masks and compute the same numbers as an uninterrupted run.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "../core/error.h"
#include "../core/random.h"
#include "module.h"
#include "optim.h"
#include "safetensors.h"

namespace dytgrad::nn {

struct TrainingState {
  int64_t step = 0;                               // optimiser steps taken
  std::map<std::string, Generator*> generators;  // named generators to save / restore in place
  std::map<std::string, std::string> metadata;   // the program's own entries
};

// Writes the model, the optimiser (may be null: weights only) and the state to `path`, atomically.
void save_checkpoint(const std::string& path, const Module& model, AdamW* optimizer, const TrainingState& state);

// Restores a checkpoint read by load_safetensors (whose metadata a program may read first, to build
// the model) into the model's parameters (on the model's device), the optimiser's moments and step
// (if optimizer is not null) and the state's generators; fills state.step and state.metadata.
// Every parameter must be present with its shape; a missing, extra or misshapen tensor is an error
// naming it, and nothing is changed unless the whole file fits.
// Weights or optimiser state holding NaN or Inf are refused (naming the tensor) unless Allow: only
// for tools that look inside a diverged run.
enum class NonFinite { Refuse, Allow };
void load_checkpoint(const SafeTensors& file, Module& model, AdamW* optimizer, TrainingState& state,
                     NonFinite nonfinite = NonFinite::Refuse);

// The weights alone, for a model that is used rather than trained further; returns the step they
// were saved at.
int64_t load_weights(const SafeTensors& file, Module& model, NonFinite nonfinite = NonFinite::Refuse);

// The metadata entry `key`, or an error naming the file and what it is not (`what`, e.g. "a GPT
// checkpoint of train-gpt").
const std::string& metadata_entry(const SafeTensors& file, const std::string& key, const std::string& what);

// For metadata_json: the first decimal in `json` of magnitude 2^31 or more, described ("" if none);
// the first number of `given` that `stored` (given read into a struct and written back) holds as
// another value ("" if none). Keys that `stored` lacks are not compared.
namespace detail {
std::string oversized_decimal(const nlohmann::json& json, const std::string& where = "");
std::string number_changed(const nlohmann::json& given, const nlohmann::json& stored, const std::string& where = "");
}  // namespace detail

// The metadata entry `key` read as JSON into a T; malformed JSON, or JSON that is not a T, is an
// error naming the file, the key and what was wrong. Strict about numbers: a number that T would
// store as another value (5.5 or 1e12 for an int) is refused, and so is a decimal of magnitude 2^31
// or more (converting it to an integer field would be undefined; no setting is that large).
template <class T> T metadata_json(const SafeTensors& file, const std::string& key, const std::string& what) {
  const std::string& text = metadata_entry(file, key, what);
  std::string problem;
  try {
    nlohmann::json parsed = nlohmann::json::parse(text);
    problem = detail::oversized_decimal(parsed);
    if (problem.empty()) {
      T value = parsed.get<T>();
      problem = detail::number_changed(parsed, nlohmann::json(value));
      if (problem.empty()) return value;
    }
  } catch (const nlohmann::json::exception& e) {
    problem = e.what();
  }
  DYT_FAIL("'{}': the metadata '{}' is not what {} holds there: {}", file.path, key, what, problem);
}

}  // namespace dytgrad::nn
