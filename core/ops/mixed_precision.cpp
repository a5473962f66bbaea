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

FloatingInputs floating_inputs(const std::vector<Tensor>& inputs) {
  FloatingInputs f;
  for (const Tensor& t : inputs) {
    if (!t.defined() || !is_floating(t.dtype())) continue;
    f.any = true;
    f.all_bfloat16 &= t.dtype() == DType::BFloat16;
  }
  return f;
}

bool wants_bfloat16_result(const std::vector<Tensor>& inputs) {
  FloatingInputs f = floating_inputs(inputs);
  return f.any && (Autocast::is_enabled() || f.all_bfloat16);
}

}  // namespace dytgrad
