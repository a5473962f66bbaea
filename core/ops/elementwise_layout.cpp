#include "core/ops/elementwise_layout.h"

#include "core/error.h"
#include "core/ops/dispatch.h"
#include "kernels/elementwise.h"

namespace dytgrad {

kernels::ElementwiseLayout make_layout(const char* op, const Shape& shape,
                                       const std::vector<Tensor>& operands) {
  kernels::ElementwiseLayout L;
  DYT_CHECK(int(shape.size()) <= kernels::kMaxDims, "{}: tensors of {} dims are not supported (at most {})",
            op, shape.size(), kernels::kMaxDims);
  L.ndim = int(shape.size());
  L.num_operands = int(operands.size());
  L.numel = numel_of(shape);
  for (int d = 0; d < L.ndim; ++d) L.shape[d] = shape[d];
  Shape contiguous = contiguous_strides(shape);
  L.all_contiguous = true;
  for (size_t k = 0; k < operands.size(); ++k) {
    const Tensor& t = operands[k];
    size_t lead = shape.size() - t.shape().size();
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t stride = 0;
      if (d >= lead) {
        int64_t size = t.shape()[d - lead];
        DYT_CHECK(size == shape[d] || size == 1, "{}: operand of shape {} does not broadcast to {}", op,
                  shape_str(t.shape()), shape_str(shape));
        stride = size == 1 ? 0 : t.strides()[d - lead];
      }
      L.strides[k][d] = stride;
      if (shape[d] != 1 && stride != contiguous[d]) L.all_contiguous = false;
    }
  }
  return L;
}

void copy_into(const Tensor& dst, const Tensor& src) {
  DYT_CHECK(dst.device() == src.device(), "copy: source on {} but destination on {}", src.device().str(),
            dst.device().str());
  auto L = make_layout("copy", dst.shape(), {dst, src});
  if (L.numel == 0) return;
  dispatch_storage(src.dtype(), "copy", [&](auto s) {
    using S = typename decltype(s)::type;
    dispatch_storage(dst.dtype(), "copy", [&](auto d) {
      using D = typename decltype(d)::type;
      using Types = kernels::CopyTypes<S, D>;
      profiler::note_work(double(L.numel * int64_t(sizeof(S) + sizeof(D))), 0, src.shape());  // read src, write dst
      DYT_CALL(dst.device(), strided_copy<Types>, L, dst.data<D>(), src.data<S>());
    });
  });
}

}  // namespace dytgrad
