// The safetensors file format (https://huggingface.co/docs/safetensors), which other tools read:
//   8 bytes   N, the header's length, little-endian uint64
//   N bytes   a JSON object: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//             "__metadata__": {"key": "string value", ...}}
//   the rest  the tensors' bytes, row-major, little-endian; offsets count from the end of the header.
// Writing goes to a temporary file in the same folder, flushed to disk, then renamed over the
// target: a crash leaves the old file or the new one, never half of one.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.h"

namespace dytgrad::nn {

struct SafeTensors {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file order
  std::map<std::string, std::string> metadata;
  // The tensor called `name`; an error naming the file and the name if there is none.
  const Tensor& at(const std::string& name) const;
  bool contains(const std::string& name) const;
  std::string path;  // where it was read from, for error messages
};

// Writes tensors (any device or layout; copied to the host) and metadata to `path`, atomically.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads a whole file into CPU tensors. Missing, truncated or malformed files are errors that name
// the file and what was wrong.
SafeTensors load_safetensors(const std::string& path);

}  // namespace dytgrad::nn
