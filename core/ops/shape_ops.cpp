// concat, stack, split, and the backward of narrow. Copies go through copy_into (the strided copy
// kernel), so inputs of any layout work.
#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/elementwise_layout.h"
#include "core/ops/ops.h"

namespace dytgrad {

using Saved = std::vector<Tensor>;
using Grads = std::vector<Tensor>;

namespace {
// The slice [start, start + length) along dim of t as a raw (unrecorded) view.
Tensor raw_narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  Shape shape = t.shape();
  shape[dim] = length;
  return make_view(t, shape, t.strides(), t.offset() + start * t.strides()[dim]);
}
}  // namespace

Tensor concat(const std::vector<Tensor>& tensors, int64_t dim) {
  DYT_CHECK(!tensors.empty(), "concat: expected at least one tensor");
  check_same_device("concat", tensors);
  check_same_dtype("concat", tensors);
  const Tensor& first = tensors[0];
  int64_t d = wrap_dim(dim, first.dim(), "concat");
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    DYT_CHECK(t.dim() == first.dim(), "concat: tensor {} has {} dims but tensor 0 has {}", i, t.dim(), first.dim());
    for (int64_t j = 0; j < t.dim(); ++j)
      DYT_CHECK(j == d || t.shape()[j] == first.shape()[j],
                "concat: along dim {}, tensor {} has shape {} but tensor 0 has shape {} (they may differ in dim {} only)",
                d, i, shape_str(t.shape()), shape_str(first.shape()), d);
    shape[d] += t.shape()[d];
  }
  Tensor out = make_tensor(shape, first.dtype(), first.device());
  std::vector<int64_t> starts;
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    starts.push_back(start);
    copy_into(raw_narrow(out, d, start, t.shape()[d]), t);
    start += t.shape()[d];
  }
  std::vector<int64_t> sizes;
  for (const Tensor& t : tensors) sizes.push_back(t.shape()[d]);
  return record_op("concat", tensors, out, {}, [d, starts, sizes](const Tensor& g, const Saved&) {
    Grads grads;
    for (size_t i = 0; i < starts.size(); ++i) grads.push_back(g.narrow(d, starts[i], sizes[i]));
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  DYT_CHECK(!tensors.empty(), "stack: expected at least one tensor");
  int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (size_t i = 0; i < tensors.size(); ++i) {
    DYT_CHECK(tensors[i].shape() == tensors[0].shape(), "stack: tensor {} has shape {} but tensor 0 has shape {}",
              i, shape_str(tensors[i].shape()), shape_str(tensors[0].shape()));
    expanded.push_back(tensors[i].unsqueeze(d));
  }
  return concat(expanded, d);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim(), "split");
  DYT_CHECK(split_size > 0, "split: split_size must be positive, got {}", split_size);
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < x.shape()[d]; start += split_size)
    parts.push_back(x.narrow(d, start, std::min(split_size, x.shape()[d] - start)));
  return parts;
}

Tensor narrow_backward(const Tensor& x, const Shape& shape, int64_t dim, int64_t start) {
  Tensor out = Tensor::zeros(shape, x.dtype(), x.device());
  copy_into(raw_narrow(out, dim, start, x.shape()[dim]), x);
  int64_t length = x.shape()[dim];
  return record_op("narrow_backward", {x}, out, {}, [dim, start, length](const Tensor& g, const Saved&) {
    return Grads{g.narrow(dim, start, length)};
  });
}

}  // namespace dytgrad
