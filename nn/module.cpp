#include "nn/module.h"

#include "core/autograd/grad_mode.h"
#include "core/error.h"

namespace dytgrad::nn {

Tensor& Module::register_parameter(const std::string& name, Tensor& slot, Tensor value, bool weight_decay) {
  for (const NamedParameter& p : own_)
    DYT_CHECK(p.name != name, "register_parameter: a parameter named '{}' already exists", name);
  slot = value.detach().requires_grad_();
  slot.set_name(name);
  own_.push_back({name, &slot, weight_decay});
  return slot;
}

void Module::collect(const std::string& prefix, std::vector<NamedParameter>& out) const {
  for (const NamedParameter& p : own_) out.push_back({prefix + p.name, p.tensor, p.weight_decay});
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<NamedParameter> Module::named_parameters() const {
  std::vector<NamedParameter> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (const NamedParameter& p : named_parameters()) out.push_back(*p.tensor);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const NamedParameter& p : named_parameters()) n += p.tensor->numel();
  return n;
}

void Module::zero_grad() {
  for (const NamedParameter& p : named_parameters()) p.tensor->zero_grad();
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for (const NamedParameter& p : named_parameters()) {
    if (p.tensor->device() == device) continue;
    std::string name = p.tensor->name();
    *p.tensor = p.tensor->to(device).detach().requires_grad_();
    p.tensor->set_name(name);
  }
}

Device Module::device() const {
  auto params = named_parameters();
  return params.empty() ? Device::cpu() : params[0].tensor->device();
}

}  // namespace dytgrad::nn
