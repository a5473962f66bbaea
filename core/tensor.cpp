// Tensor basics: metadata, data access, autograd accessors, conversions and creation.
#include "core/tensor.h"

#include <cmath>
#include <cstring>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/capture.h"
#include "core/error.h"
#include "core/ops/dispatch.h"
#include "core/ops/elementwise_layout.h"
#include "core/ops/ops.h"
#include "core/random.h"
#include "kernels/elementwise.h"
#include "kernels/memory.h"
#include "kernels/random.h"

namespace dytgrad {

Tensor make_tensor(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) DYT_CHECK(s >= 0, "cannot create a tensor of shape {}: negative size", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(numel_of(shape) * element_size(dtype)), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor make_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl().storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(impl);
}

TensorImpl& Tensor::impl() const {
  DYT_CHECK(impl_ != nullptr, "operation on an undefined tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const {
  Shape expected = contiguous_strides(shape());
  for (size_t d = 0; d < shape().size(); ++d)
    if (shape()[d] != 1 && strides()[d] != expected[d]) return false;
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + offset() * element_size(dtype());
}

template <class T> T* Tensor::data() const {
  DYT_CHECK(dtype() == dtype_of<T>::value, "data<{}>() called on a {} tensor", dtype_name(dtype_of<T>::value),
            dtype_name(dtype()));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;
template bool* Tensor::data<bool>() const;
template bfloat16* Tensor::data<bfloat16>() const;

template <class T> std::vector<T> Tensor::to_vector() const {
  NoGradGuard no_grad;
  Tensor host = to(Device::cpu()).to(dtype_of<T>::value).contiguous();
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<bool> Tensor::to_vector<bool>() const;
template std::vector<bfloat16> Tensor::to_vector<bfloat16>() const;

double Tensor::item() const {
  DYT_CHECK(numel() == 1, "item: expected a tensor with one element, got shape {}", shape_str(shape()));
  check_not_capturing("item()", "a value read on the host waits for the step, which has not run");
  return to_vector<double>()[0];
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  DYT_CHECK(int64_t(values.size()) == numel_of(shape), "from_vector: {} values do not fill shape {}",
            values.size(), shape_str(shape));
  Tensor t = make_tensor(shape, dtype_of<T>::value, Device::cpu());
  if constexpr (std::is_same_v<T, bool>) {
    for (size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i];
  } else {
    std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  }
  return t.to(device);
}
template Tensor Tensor::from_vector<float>(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector<double>(const std::vector<double>&, const Shape&, Device);
template Tensor Tensor::from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, Device);
template Tensor Tensor::from_vector<bool>(const std::vector<bool>&, const Shape&, Device);
template Tensor Tensor::from_vector<bfloat16>(const std::vector<bfloat16>&, const Shape&, Device);

// ---- autograd accessors ----

Tensor& Tensor::requires_grad_(bool on) {
  DYT_CHECK(!on || is_floating(dtype()), "requires_grad_: only floating-point tensors can require grad, got {}",
            dtype_name(dtype()));
  DYT_CHECK(is_leaf() || on, "requires_grad_: cannot turn off requires_grad of a non-leaf; use detach()");
  impl().requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return impl().grad_fn == nullptr; }
Tensor Tensor::grad() const { return Tensor(impl().grad); }
void Tensor::set_grad(const Tensor& g) const {
  DYT_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient of shape {} for a tensor of shape {}",
            g.defined() ? shape_str(g.shape()) : "?", shape_str(shape()));
  impl().grad = g.impl_ptr();
}
void Tensor::zero_grad() const { impl().grad.reset(); }

Tensor Tensor::detach() const {
  Tensor t = make_view(*this, shape(), strides(), offset());
  t.impl().name = name();
  return t;
}

void Tensor::retain_grad() const {
  DYT_CHECK(requires_grad(), "retain_grad: the tensor does not require grad");
  impl().retains_grad = true;
}

void Tensor::register_hook(GradHook hook) const {
  DYT_CHECK(requires_grad(), "register_hook: the tensor does not require grad, so no gradient will reach it");
  impl().hooks.push_back(std::move(hook));
}

Tensor& Tensor::set_name(const std::string& name) {
  impl().name = name;
  return *this;
}

// ---- conversions ----

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = make_tensor(shape(), dtype(), device());
  copy_into(out, *this);
  return record_op("clone", {*this}, out, {}, [](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{g};
  });
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = make_tensor(shape(), target, device());
  copy_into(out, *this);
  if (!is_floating(target)) return out;
  DType source = dtype();
  return record_op("to_dtype", {*this}, out, {}, [source](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{g.to(source)};
  });
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  check_not_capturing(fmt::format("copying a tensor from {} to {} (to(), to_vector())", device().str(), target.str()),
                      "the values are not there until the step runs");
  Tensor src = contiguous();
  Tensor out = make_tensor(shape(), dtype(), target);
  size_t bytes = size_t(numel() * element_size(dtype()));
  if (bytes > 0) {
    if (target.is_cuda()) kernels::cuda::copy_host_to_device(out.raw_data(), src.raw_data(), bytes);
    else kernels::cuda::copy_device_to_host(out.raw_data(), src.raw_data(), bytes);
  }
  Device source = device();
  return record_op("to_device", {*this}, out, {}, [source](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{g.to(source)};
  });
}

void Tensor::copy_from(const Tensor& src) const {
  DYT_CHECK(src.shape() == shape() && src.dtype() == dtype(), "copy_from: source {} {} but destination {} {}",
            dtype_name(src.dtype()), shape_str(src.shape()), dtype_name(dtype()), shape_str(shape()));
  NoGradGuard no_grad;
  copy_into(*this, src.to(device()));
}

// ---- creation ----

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) { return make_tensor(shape, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = make_tensor(shape, dtype, device);
  if (t.numel() == 0) return t;
  dispatch_storage(dtype, "full", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(double(t.numel() * sizeof(T)), 0, shape);  // write t
    DYT_CALL(device, fill<T>, t.data<T>(), t.numel(), element_cast<T>(value));
  });
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1, dtype, device); }

Tensor Tensor::arange(double start, double end, double step, DType dtype, Device device) {
  DYT_CHECK(step != 0, "arange: step must not be 0");
  int64_t n = std::max<int64_t>(0, int64_t(std::ceil((end - start) / step)));
  Tensor t = make_tensor({n}, dtype, device);
  if (n == 0) return t;
  DYT_CHECK(dtype != DType::Bool, "arange: bool is not a numeric dtype");
  dispatch_all(dtype, "arange", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>) {
      profiler::note_work(double(n * sizeof(T)), 0, t.shape());  // write t
      DYT_CALL(device, arange<T>, t.data<T>(), n, start, step);
    }
  });
  return t;
}

Tensor Tensor::rand(const Shape& shape, DType dtype, Device device, Generator* gen) {
  Generator& g = gen ? *gen : Generator::default_generator();
  Tensor t = make_tensor(shape, dtype, device);
  uint64_t offset = g.take(uint64_t(t.numel()));
  dispatch_floating(dtype, "rand", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(double(t.numel() * sizeof(T)), 0, shape);  // write t
    DYT_CALL(device, uniform<T>, t.data<T>(), t.numel(), g.seed(), offset, 0.0, 1.0);
  });
  return t;
}

Tensor Tensor::randn(const Shape& shape, DType dtype, Device device, Generator* gen) {
  Generator& g = gen ? *gen : Generator::default_generator();
  Tensor t = make_tensor(shape, dtype, device);
  // Normal number c uses counters 2c and 2c + 1: reserve 2n + 1 so that they start even.
  uint64_t first = (g.take(2 * uint64_t(t.numel()) + 1) + 1) / 2;
  dispatch_floating(dtype, "randn", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(double(t.numel() * sizeof(T)), 0, shape);  // write t
    DYT_CALL(device, normal<T>, t.data<T>(), t.numel(), g.seed(), first, 0.0, 1.0);
  });
  return t;
}

Tensor Tensor::randint(int64_t low, int64_t high, const Shape& shape, Device device, Generator* gen) {
  DYT_CHECK(low < high, "randint: expected low < high, got [{}, {})", low, high);
  Generator& g = gen ? *gen : Generator::default_generator();
  Tensor t = make_tensor(shape, DType::Int64, device);
  uint64_t offset = g.take(uint64_t(t.numel()));
  profiler::note_work(double(t.numel() * 8), 0, shape);  // write t
  DYT_CALL(device, randint, t.data<int64_t>(), t.numel(), g.seed(), offset, low, high);
  return t;
}

// ---- methods that forward to ops ----
Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const { return dytgrad::sum(*this, dims, keepdim); }
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const { return dytgrad::mean(*this, dims, keepdim); }
Tensor Tensor::matmul(const Tensor& other) const { return dytgrad::matmul(*this, other); }

}  // namespace dytgrad
