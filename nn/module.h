// Module: a node of a tree of named parameters (and child modules), with train/eval mode and a
// move to a device. Modules own their parameters as Tensor members and register their addresses,
// so that to(device) can replace them in place. Not copyable: the registry holds pointers.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../core/tensor.h"

namespace dytgrad::nn {

struct NamedParameter {
  std::string name;   // dotted path, e.g. "blocks.0.attention.qkv.weight"
  Tensor* tensor;
  bool weight_decay;  // false for biases, norm and DyT parameters, embeddings
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  std::vector<NamedParameter> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;
  void zero_grad();
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves every parameter to `device` (new leaves that require grad; gradients are dropped).
  void to(Device device);
  Device device() const;

 protected:
  Tensor& register_parameter(const std::string& name, Tensor& slot, Tensor value, bool weight_decay);
  template <class M> std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.push_back({name, module});
    return module;
  }

 private:
  void collect(const std::string& prefix, std::vector<NamedParameter>& out) const;
  std::vector<NamedParameter> own_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// A module with one input and one output: layers that can stand in for one another (the norms).
class UnaryModule : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

}  // namespace dytgrad::nn
