// Where a tensor's memory lives. The CPU backend is always there; the CUDA backend exists when the
// project was built with CUDA (DYTGRAD_CUDA) and a GPU is visible at run time.
#pragma once
#include <string>

namespace dytgrad {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// True when this build has the CUDA backend and a GPU is visible.
bool cuda_is_available();

}  // namespace dytgrad
