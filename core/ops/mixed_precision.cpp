#include "core/ops/mixed_precision.h"

namespace dytgrad {

namespace {
thread_local bool autocast_enabled = false;
}  // namespace

bool Autocast::is_enabled() { return autocast_enabled; }
void Autocast::set_enabled(bool enabled) { autocast_enabled = enabled; }

std::vector<Tensor> floating_as(const std::vector<Tensor>& inputs, DType dtype) {
  std::vector<Tensor> out;
  out.reserve(inputs.size());
  for (const Tensor& t : inputs) out.push_back(t.defined() && is_floating(t.dtype()) ? t.to(dtype) : t);
  return out;
}

}  // namespace dytgrad
