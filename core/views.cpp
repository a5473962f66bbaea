// View ops: new shapes and strides over the same storage, no copy. Each records a backward that
// maps the gradient back to the input's shape.
#include <algorithm>
#include <numeric>

#include "core/autograd/node.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "core/tensor.h"

namespace dytgrad {

namespace {
Tensor reshape_backward_to(const Shape& shape, const Tensor& g) { return g.reshape(shape); }

Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from) {
  Shape shape = requested;
  int64_t known = 1, infer_at = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      DYT_CHECK(infer_at < 0, "reshape: only one dim can be -1, got {}", shape_str(requested));
      infer_at = int64_t(d);
    } else {
      DYT_CHECK(shape[d] >= 0, "reshape: invalid size {} in {}", shape[d], shape_str(requested));
      known *= shape[d];
    }
  }
  if (infer_at >= 0) {
    DYT_CHECK(known != 0 && numel % known == 0, "reshape: cannot reshape {} ({} elements) into {}",
              shape_str(from), numel, shape_str(requested));
    shape[infer_at] = numel / known;
  }
  DYT_CHECK(numel_of(shape) == numel, "reshape: cannot reshape {} ({} elements) into {} ({} elements)",
            shape_str(from), numel, shape_str(shape), numel_of(shape));
  return shape;
}
}  // namespace

Tensor Tensor::reshape(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), this->shape());
  Tensor src = contiguous();  // a copy (recorded) only when this view is not contiguous
  Tensor out = make_view(src, shape, contiguous_strides(shape), src.offset());
  Shape in_shape = this->shape();
  return record_op("reshape", {src}, out, {}, [in_shape](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{reshape_backward_to(in_shape, g)};
  });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int64_t s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  DYT_CHECK(s <= e, "flatten: start_dim {} is after end_dim {}", start_dim, end_dim);
  Shape shape(this->shape().begin(), this->shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= this->shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), this->shape().begin() + e + 1, this->shape().end());
  return reshape(shape);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  DYT_CHECK(int64_t(dims.size()) == dim(), "permute: got {} dims for a tensor of {} dims", dims.size(), dim());
  Shape shape(dims.size()), strides(dims.size());
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    DYT_CHECK(inverse[d] < 0, "permute: dim {} appears twice in ({})", d, fmt::join(dims, ", "));
    inverse[d] = int64_t(i);
    shape[i] = this->shape()[d];
    strides[i] = this->strides()[d];
  }
  Tensor out = make_view(*this, shape, strides, offset());
  return record_op("permute", {*this}, out, {}, [inverse](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{g.permute(inverse)};
  });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  std::vector<int64_t> dims(dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(dim0, dim(), "transpose")], dims[wrap_dim(dim1, dim(), "transpose")]);
  return permute(dims);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d, dim(), "narrow");
  DYT_CHECK(start >= 0 && length >= 0 && start + length <= shape()[d],
            "narrow: range [{}, {}) is out of bounds for dim {} of size {} (shape {})", start, start + length,
            d, shape()[d], shape_str(shape()));
  Shape shape = this->shape();
  shape[d] = length;
  Tensor out = make_view(*this, shape, strides(), offset() + start * strides()[d]);
  Shape in_shape = this->shape();
  return record_op("narrow", {*this}, out, {}, [in_shape, d, start](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{narrow_backward(g, in_shape, d, start)};
  });
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape shape = this->shape(), strides = this->strides();
  int64_t stride = d < dim() ? strides[d] * shape[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  Tensor out = make_view(*this, shape, strides, offset());
  Shape in_shape = this->shape();
  return record_op("unsqueeze", {*this}, out, {}, [in_shape](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{g.reshape(in_shape)};
  });
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim(), "squeeze");
  DYT_CHECK(shape()[d] == 1, "squeeze: dim {} has size {}, expected 1 (shape {})", d, shape()[d],
            shape_str(shape()));
  Shape shape = this->shape(), strides = this->strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor out = make_view(*this, shape, strides, offset());
  Shape in_shape = this->shape();
  return record_op("squeeze", {*this}, out, {}, [in_shape](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{g.reshape(in_shape)};
  });
}

Tensor Tensor::expand(const Shape& target) const {
  DYT_CHECK(target.size() >= shape().size(), "expand: cannot expand shape {} to fewer dims {}",
            shape_str(shape()), shape_str(target));
  size_t lead = target.size() - shape().size();
  Shape shape(target.size()), strides(target.size(), 0);
  for (size_t d = 0; d < target.size(); ++d) {
    if (d < lead) {
      DYT_CHECK(target[d] >= 0, "expand: invalid size {} in {}", target[d], shape_str(target));
      shape[d] = target[d];
      continue;
    }
    int64_t have = this->shape()[d - lead];
    int64_t want = target[d] == -1 ? have : target[d];
    DYT_CHECK(have == want || have == 1, "expand: cannot expand shape {} to {} (dim {} is {}, not 1)",
              shape_str(this->shape()), shape_str(target), d, have);
    shape[d] = want;
    strides[d] = have == want ? this->strides()[d - lead] : 0;
  }
  Tensor out = make_view(*this, shape, strides, offset());
  Shape in_shape = this->shape();
  return record_op("expand", {*this}, out, {}, [in_shape](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{sum_to_shape(g, in_shape)};
  });
}

}  // namespace dytgrad
