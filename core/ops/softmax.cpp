// softmax and log_softmax over any dim (a fused kernel over the last dim; other dims are moved
// last by a transposed view). Backward uses the saved output y:
//   softmax:     dx = y * (g - sum(g * y))        log_softmax: dx = g - exp(y) * sum(g)
// With create_graph the same formulas run as ops (y stays attached to its node), else a kernel
// (core/autograd/composite.h).
#include "core/autograd/composite.h"
#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/mixed_precision.h"
#include "core/ops/ops.h"
#include "kernels/softmax.h"

namespace dytgrad {

namespace {

Tensor softmax_backward_kernel(const Tensor& y, const Tensor& g, bool log) {
  Tensor gc = g.contiguous();
  Tensor dx = make_tensor(y.shape(), y.dtype(), y.device());
  int64_t cols = y.shape().back(), rows = cols == 0 ? 0 : y.numel() / cols;
  if (dx.numel() == 0) return dx;
  dispatch_floating(y.dtype(), "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(3.0 * double(dx.numel() * sizeof(T)), 0, y.shape(), g.shape());  // read y and g, write dx
    DYT_CALL(y.device(), softmax_backward<T>, y.data<T>(), gc.data<T>(), dx.data<T>(), rows, cols, log);
  });
  return dx;
}

Tensor softmax_last_dim(const Tensor& x, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  Tensor xc = x.contiguous();
  Tensor y = make_tensor(x.shape(), x.dtype(), x.device());
  int64_t cols = x.shape().back(), rows = cols == 0 ? 0 : x.numel() / cols;
  if (y.numel() > 0) {
    dispatch_floating(x.dtype(), name, [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(2.0 * double(y.numel() * sizeof(T)), 0, x.shape());  // read x, write y
      DYT_CALL(x.device(), softmax_forward<T>, xc.data<T>(), y.data<T>(), rows, cols, log);
    });
  }
  return record_op(name, {x}, y, {y}, [log](const Tensor& g, const std::vector<Tensor>& s) {
    const Tensor& y = s[0];
    if (gradient_needs_graph()) {
      if (log) return std::vector<Tensor>{sub(g, mul(exp(y), sum(g, {-1}, true)))};
      return std::vector<Tensor>{mul(y, sub(g, sum(mul(g, y), {-1}, true)))};
    }
    return std::vector<Tensor>{softmax_backward_kernel(y, g, log)};
  });
}

Tensor softmax_any_dim(const Tensor& x, int64_t dim, bool log) {
  auto redo = [dim, log](const Tensors& in) { return softmax_any_dim(in[0], dim, log); };
  if (auto y = in_precision(Precision::Float32, {x}, redo)) return *y;
  const char* name = log ? "log_softmax" : "softmax";
  DYT_CHECK(x.dim() >= 1, "{}: expected a tensor of at least 1 dim, got a scalar", name);
  int64_t d = wrap_dim(dim, x.dim(), name);
  if (d == x.dim() - 1) return softmax_last_dim(x, log);
  return softmax_last_dim(x.transpose(d, -1), log).transpose(d, -1);
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_any_dim(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_any_dim(x, dim, true); }

}  // namespace dytgrad
