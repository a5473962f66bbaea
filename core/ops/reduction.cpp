// sum, mean and max over dims. The kernels reduce one dim of a contiguous tensor seen as
// [outer, reduce, inner]; runs of adjacent reduced dims are merged into one such pass (a whole
// tensor summed is one row: sum_long_rows cuts it into chunks that run in parallel).
#include <algorithm>

#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/mixed_precision.h"
#include "core/ops/ops.h"
#include "kernels/reduction.h"

namespace dytgrad {

using Saved = std::vector<Tensor>;
using Grads = std::vector<Tensor>;

namespace {

std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(wrap_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  DYT_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), "{}: a dim appears twice in ({})", op,
            fmt::join(dims, ", "));
  return out;
}

Shape keepdim_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape out = shape;
  for (int64_t d : dims) out[d] = 1;
  return out;
}

Shape dropped_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape out;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) out.push_back(shape[d]);
  return out;
}

// scale * sum over dims, keepdim shape, no recording.
Tensor sum_kernel(const Tensor& x, const std::vector<int64_t>& dims, double scale) {
  Tensor cur = x.contiguous();
  Shape shape = x.shape();
  // Walk runs of adjacent reduced dims from the last run to the first.
  for (int64_t end = int64_t(dims.size()) - 1; end >= 0;) {
    int64_t start = end;
    while (start > 0 && dims[start - 1] == dims[start] - 1) --start;
    int64_t first = dims[start], last = dims[end];
    int64_t outer = 1, reduce = 1, inner = 1;
    for (int64_t d = 0; d < first; ++d) outer *= shape[d];
    for (int64_t d = first; d <= last; ++d) reduce *= shape[d];
    for (int64_t d = last + 1; d < int64_t(shape.size()); ++d) inner *= shape[d];
    for (int64_t d = first; d <= last; ++d) shape[d] = 1;
    Tensor next = make_tensor(shape, x.dtype(), x.device());
    double s = start == 0 ? scale : 1.0;  // apply the scale once, on the last pass
    // a few long rows: cut into chunks summed in parallel (on CUDA once that kernel has run on a GPU)
    bool long_rows = inner == 1 && kernels::splits_long_rows(outer, reduce) && unverified_kernels_run_on(x.device());
    Tensor partials = long_rows ? make_tensor({outer * kernels::long_row_chunks(reduce)}, DType::Float64, x.device())
                                : Tensor();
    if (next.numel() > 0) {
      dispatch_floating_or_bfloat16(x.dtype(), "sum", [&](auto tag) {
        using T = typename decltype(tag)::type;
        // read cur, write next
        profiler::note_work(double((cur.numel() + next.numel()) * sizeof(T)), 0, cur.shape());
        if (long_rows)
          DYT_CALL(x.device(), sum_long_rows<T>, cur.data<T>(), next.data<T>(), outer, reduce, s,
                   partials.data<double>());
        else
          DYT_CALL(x.device(), sum_dim<T>, cur.data<T>(), next.data<T>(), outer, reduce, inner, s);
      });
    }
    cur = next;
    end = start - 1;
  }
  return cur;  // with no dims to reduce (a 0-d input) the count is 1 and the scale 1
}

Tensor reduce_with_scale(const char* name, const Tensor& x, const std::vector<int64_t>& dims_in,
                         bool keepdim, bool average) {
  std::vector<int64_t> dims = normalize_dims(dims_in, x.dim(), name);
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[d];
  double scale = average ? 1.0 / double(count) : 1.0;
  Tensor kept = sum_kernel(x, dims, scale);
  Shape dropped = dropped_shape(x.shape(), dims);
  Tensor out = keepdim ? kept : make_view(kept, dropped, contiguous_strides(dropped), kept.offset());
  Shape in_shape = x.shape(), kshape = keepdim_shape(x.shape(), dims);
  return record_op(name, {x}, out, {}, [in_shape, kshape, scale](const Tensor& g, const Saved&) {
    Tensor expanded = g.reshape(kshape).expand(in_shape);
    return Grads{scale == 1.0 ? expanded : mul(expanded, scale)};
  });
}

// bfloat16 outside autocast (the backward's sums: a bias gradient): the bfloat16 kernels, one pass
// reading 2 bytes an element, where the bfloat16 rule would cast to float32, sum and round (the
// same bits). For dims next to each other (one pass; more would round in between), and on CUDA once
// those kernels have run on a GPU.
bool sums_bfloat16_directly(const Tensor& x, const std::vector<int64_t>& dims_in, const char* op) {
  if (x.dtype() != DType::BFloat16 || Autocast::is_enabled() || !unverified_kernels_run_on(x.device())) return false;
  std::vector<int64_t> dims = normalize_dims(dims_in, x.dim(), op);
  return std::adjacent_find(dims.begin(), dims.end(), [](int64_t a, int64_t b) { return b != a + 1; }) == dims.end();
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  if (sums_bfloat16_directly(x, dims, "sum")) return reduce_with_scale("sum", x, dims, keepdim, false);
  auto redo = [&](const Tensors& in) { return sum(in[0], dims, keepdim); };
  if (auto y = in_precision(Precision::Float32, {x}, redo)) return *y;
  return reduce_with_scale("sum", x, dims, keepdim, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  if (sums_bfloat16_directly(x, dims, "mean")) return reduce_with_scale("mean", x, dims, keepdim, true);
  auto redo = [&](const Tensors& in) { return mean(in[0], dims, keepdim); };
  if (auto y = in_precision(Precision::Float32, {x}, redo)) return *y;
  return reduce_with_scale("mean", x, dims, keepdim, true);
}

MaxResult max(const Tensor& x, int64_t dim, bool keepdim) {
  int64_t d = wrap_dim(dim, x.dim(), "max");
  Shape shape = x.dim() == 0 ? Shape{} : x.shape();
  int64_t reduce = x.dim() == 0 ? 1 : shape[d];
  DYT_CHECK(reduce > 0, "max: cannot reduce over dim {} of size 0 (shape {})", d, shape_str(x.shape()));
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= shape[i];
  for (int64_t i = d + 1; i < int64_t(shape.size()); ++i) inner *= shape[i];
  Shape kshape = shape;
  if (!kshape.empty()) kshape[d] = 1;
  Tensor xc = x.contiguous();
  Tensor values = make_tensor(kshape, x.dtype(), x.device());
  Tensor indices = make_tensor(kshape, DType::Int64, x.device());
  if (values.numel() > 0) {
    dispatch_floating(x.dtype(), "max", [&](auto tag) {
      using T = typename decltype(tag)::type;
      // read x, write the values and their indices
      profiler::note_work(double((xc.numel() + values.numel()) * sizeof(T) + indices.numel() * 8), 0, x.shape());
      DYT_CALL(x.device(), max_dim<T>, xc.data<T>(), values.data<T>(), indices.data<int64_t>(), outer, reduce, inner);
    });
  }
  Tensor kept_indices = indices;
  if (!keepdim && x.dim() > 0) {
    values = values.squeeze(d);
    indices = indices.squeeze(d);
  }
  Shape in_shape = x.shape();
  values = record_op("max", {x}, values, {kept_indices}, [in_shape, d, kshape](const Tensor& g, const Saved& s) {
    // The gradient goes to the position of the max: a one-hot mask along d from the saved indices.
    Shape position_shape(in_shape.size(), 1);
    if (!in_shape.empty()) position_shape[d] = in_shape[d];
    Tensor positions = Tensor::arange(0, double(in_shape.empty() ? 1 : in_shape[d]), 1, DType::Int64, g.device())
                           .reshape(position_shape);
    Tensor onehot = eq(positions, s[0]);
    Tensor zero = Tensor::zeros({}, g.dtype(), g.device());
    return Grads{where(onehot, g.reshape(kshape), zero).reshape(in_shape)};
  });
  return {values, indices};
}

Tensor sum_to_shape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  DYT_CHECK(x.dim() >= int64_t(shape.size()), "sum_to_shape: cannot reduce shape {} to {}", shape_str(x.shape()),
            shape_str(shape));
  size_t lead = x.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t d = 0; d < x.shape().size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) dims.push_back(int64_t(d));
  if (dims.empty()) return x.reshape(shape);
  return sum(x, dims, true).reshape(shape);
}

}  // namespace dytgrad
