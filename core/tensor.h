// Tensor: a cheap handle (shared pointer) to a TensorImpl, which holds a view (shape, strides,
// offset) into a Storage, plus what autograd needs: requires_grad, the accumulated grad, and the
// node that produced it (grad_fn). Ops are free functions in core/ops/ops.h; the most common ones
// are also methods here.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device.h"
#include "dtype.h"
#include "shape.h"
#include "storage.h"

namespace dytgrad {

class Node;
class Tensor;
class Generator;
using GradHook = std::function<Tensor(const Tensor&)>;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape, strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;

  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;      // null for leaves
  std::vector<GradHook> hooks;
  std::string name;                   // optional, shown in graph dumps
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation (core/tensor.cpp; the random ones draw from core/random.h) ----
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32,
                     Device device = Device::cpu());
  static Tensor arange(double start, double end, double step = 1, DType dtype = DType::Float32,
                       Device device = Device::cpu());
  static Tensor rand(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu(),
                     Generator* gen = nullptr);
  static Tensor randn(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu(),
                      Generator* gen = nullptr);
  static Tensor randint(int64_t low, int64_t high, const Shape& shape, Device device = Device::cpu(),
                        Generator* gen = nullptr);
  // From host values (copied), e.g. Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}).
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu());

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t offset() const { return impl().offset; }
  int64_t dim() const { return int64_t(impl().shape.size()); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return numel_of(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_contiguous() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  TensorImpl& impl() const;
  bool same_as(const Tensor& o) const { return impl_ == o.impl_; }

  // ---- raw data (pointer to element 0 of this view) ----
  void* raw_data() const;
  template <class T> T* data() const;
  // Host copies of the values, in row-major order (works from any device and layout).
  template <class T> std::vector<T> to_vector() const;
  double item() const;  // one-element tensors only

  // ---- autograd ----
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const;
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  void zero_grad() const;  // sets .grad to undefined
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  Tensor detach() const;   // same storage, no history
  void retain_grad() const;
  void register_hook(GradHook hook) const;  // hook(grad) returns a replacement or an undefined Tensor
  // Back-propagates from this tensor. gradient may be omitted only for one-element tensors.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  Tensor& set_name(const std::string& name);
  const std::string& name() const { return impl().name; }

  // ---- conversions ----
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor contiguous() const;
  Tensor clone() const;
  // Overwrites this tensor's elements with src's (same shape and dtype, any device), in place and
  // not recorded by autograd: how a new batch goes into the tensors a captured step reads
  // (nn/captured_step.h).
  void copy_from(const Tensor& src) const;

  // ---- views (no copy) ----
  Tensor reshape(const Shape& shape) const;  // copies only if the layout does not allow a view
  Tensor view(const Shape& shape) const { return reshape(shape); }
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor expand(const Shape& shape) const;

  // ---- common ops as methods ----
  Tensor sum(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor mean(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;

  std::string str() const;  // numpy-like: values, then shape, dtype, device

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// A tensor on `device` with the given layout over fresh storage; building block for ops.
Tensor make_tensor(const Shape& shape, DType dtype, Device device);
// A view sharing t's storage with another layout; no autograd (view ops wrap it).
Tensor make_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset);

}  // namespace dytgrad
