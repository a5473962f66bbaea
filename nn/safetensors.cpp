#include "nn/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

#include "core/autograd/grad_mode.h"
#include "core/error.h"

namespace dytgrad::nn {

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors stores little-endian bytes; this host is not");

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
    case DType::BFloat16: return "BF16";
  }
  return "?";
}

DType parse_dtype(const std::string& name, const std::string& path, const std::string& tensor) {
  for (DType t : {DType::Float32, DType::Float64, DType::Int64, DType::Bool, DType::BFloat16})
    if (name == safetensors_dtype(t)) return t;
  DYT_FAIL("load_safetensors: '{}': tensor '{}' has dtype '{}'; dytgrad reads F32, F64, I64, BOOL and BF16", path, tensor,
           name);
}

// Writes all of `bytes` or fails with the file's name.
void write_all(int fd, const void* bytes, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(bytes);
  while (n > 0) {
    ssize_t written = ::write(fd, p, n);
    DYT_CHECK(written > 0, "save_safetensors: writing '{}' failed: {}", path, std::strerror(errno));
    p += written;
    n -= size_t(written);
  }
}

}  // namespace

bool SafeTensors::contains(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

const Tensor& SafeTensors::at(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  DYT_FAIL("'{}' holds no tensor named '{}'", path, name);
}

namespace {
// A write killed before its rename leaves <file>.tmp-<pid> behind; the next write of that file
// removes such leftovers (they are never a valid file: the rename is what publishes one).
void remove_stale_temporaries(const std::filesystem::path& target) {
  std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string prefix = target.filename().string() + ".tmp-";
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) std::filesystem::remove(entry.path(), error);
  }
}

}  // namespace

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  NoGradGuard no_grad;
  std::vector<Tensor> host;
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    DYT_CHECK(t.defined(), "save_safetensors: tensor '{}' is undefined", name);
    DYT_CHECK(!header.contains(name) && name != "__metadata__", "save_safetensors: the name '{}' is used twice",
              name);
    host.push_back(t.detach().to(Device::cpu()).contiguous());
    uint64_t bytes = uint64_t(t.numel() * element_size(t.dtype()));
    header[name] = {{"dtype", safetensors_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the format allows padding; aligns the data to 8 bytes
  uint64_t header_size = text.size();

  std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  remove_stale_temporaries(target);
  std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  DYT_CHECK(fd >= 0, "save_safetensors: cannot create '{}': {}", temporary, std::strerror(errno));
  try {
    write_all(fd, &header_size, 8, temporary);
    write_all(fd, text.data(), text.size(), temporary);
    for (const Tensor& t : host) write_all(fd, t.raw_data(), size_t(t.numel() * element_size(t.dtype())), temporary);
    DYT_CHECK(::fsync(fd) == 0, "save_safetensors: flushing '{}' failed: {}", temporary, std::strerror(errno));
  } catch (...) {
    ::close(fd);
    std::remove(temporary.c_str());
    throw;
  }
  ::close(fd);
  std::error_code error;
  std::filesystem::rename(temporary, target, error);
  if (error) {
    std::remove(temporary.c_str());
    DYT_FAIL("save_safetensors: cannot rename '{}' to '{}': {}", temporary, path, error.message());
  }
}

SafeTensors load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DYT_CHECK(in.good(), "load_safetensors: cannot open '{}'", path);
  in.seekg(0, std::ios::end);
  uint64_t file_size = uint64_t(in.tellg());
  in.seekg(0);
  DYT_CHECK(file_size >= 8, "load_safetensors: '{}' is {} bytes long, too short for a safetensors header", path,
            file_size);
  uint64_t header_size = 0;
  in.read(reinterpret_cast<char*>(&header_size), 8);
  DYT_CHECK(header_size <= file_size - 8, "load_safetensors: '{}' says its header is {} bytes but the file has only {} "
            "after the length: truncated, or not a safetensors file", path, header_size, file_size - 8);
  std::string text(header_size, '\0');
  in.read(text.data(), std::streamsize(header_size));
  nlohmann::json header;
  std::set<std::string> names;  // a JSON object may repeat a name, and the parser would keep the last
  std::string repeated;
  auto note_name = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && !names.insert(parsed.get<std::string>()).second &&
        repeated.empty())
      repeated = parsed.get<std::string>();
    return true;
  };
  try {
    header = nlohmann::json::parse(text, note_name);
  } catch (const nlohmann::json::exception& e) {
    DYT_FAIL("load_safetensors: '{}': the header is not valid JSON ({})", path, e.what());
  }
  DYT_CHECK(repeated.empty(), "load_safetensors: '{}': the header names '{}' twice", path, repeated);
  DYT_CHECK(header.is_object(), "load_safetensors: '{}': the header is not a JSON object", path);

  SafeTensors out;
  out.path = path;
  uint64_t data_size = file_size - 8 - header_size;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> spans;  // begin, end, tensor
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [key, value] : entry.items()) {
        DYT_CHECK(value.is_string(), "load_safetensors: '{}': metadata '{}' is not a string", path, key);
        out.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    DYT_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") && entry.contains("data_offsets"),
              "load_safetensors: '{}': entry '{}' lacks dtype, shape or data_offsets", path, name);
    auto all_unsigned = [](const nlohmann::json& a) {
      return a.is_array() && std::all_of(a.begin(), a.end(), [](const nlohmann::json& v) { return v.is_number_unsigned(); });
    };
    DYT_CHECK(entry["dtype"].is_string() && all_unsigned(entry["shape"]) && all_unsigned(entry["data_offsets"]) &&
                  entry["data_offsets"].size() == 2,
              "load_safetensors: '{}': entry '{}' must have a dtype string, a shape of sizes >= 0 and two "
              "data_offsets, got {}", path, name, entry.dump());
    DType dtype = parse_dtype(entry["dtype"].get<std::string>(), path, name);
    Shape shape = entry["shape"].get<Shape>();
    auto offsets = entry["data_offsets"].get<std::vector<uint64_t>>();
    int64_t numel = 1;
    for (int64_t s : shape) {  // checked before multiplying, so that the product cannot wrap around
      DYT_CHECK(s == 0 || numel <= int64_t(data_size) / s, "load_safetensors: '{}': tensor '{}' of shape {} is larger "
                "than the file's {} bytes of data", path, name, shape_str(shape), data_size);
      numel *= s;
    }
    uint64_t bytes = uint64_t(numel * element_size(dtype));
    DYT_CHECK(offsets.size() == 2 && offsets[0] <= offsets[1] && offsets[1] - offsets[0] == bytes,
              "load_safetensors: '{}': tensor '{}' of shape {} and dtype {} needs {} bytes, its data_offsets say otherwise",
              path, name, shape_str(shape), entry["dtype"].get<std::string>(), bytes);
    DYT_CHECK(offsets[1] <= data_size, "load_safetensors: '{}': tensor '{}' ends at byte {} of the data but the file "
              "holds only {} bytes of data: truncated", path, name, offsets[1], data_size);
    spans.emplace_back(offsets[0], offsets[1], name);
    Tensor t = Tensor::empty(shape, dtype, Device::cpu());
    in.seekg(std::streamoff(8 + header_size + offsets[0]));
    in.read(static_cast<char*>(t.raw_data()), std::streamsize(bytes));
    DYT_CHECK(in.good(), "load_safetensors: '{}': reading tensor '{}' failed", path, name);
    out.tensors.emplace_back(name, t);
  }
  // The format's rule: the tensors' byte spans, in order, tile the data section exactly (no
  // overlap, no hole, nothing after the last); shifted offsets or a header length that is off by
  // one would otherwise read weights from the wrong bytes.
  std::sort(spans.begin(), spans.end());
  uint64_t next = 0;
  for (const auto& [begin, end, name] : spans) {
    DYT_CHECK(begin == next, "load_safetensors: '{}': tensor '{}' starts at byte {} of the data, expected {} (the "
              "spans must follow each other without gaps or overlaps)", path, name, begin, next);
    next = end;
  }
  DYT_CHECK(next == data_size, "load_safetensors: '{}': the tensors cover {} bytes of data but the file holds {} after "
            "its header", path, next, data_size);
  return out;
}

}  // namespace dytgrad::nn
