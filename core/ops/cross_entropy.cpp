// Mean cross-entropy from logits and integer targets, fused: one kernel gives each row's loss and
// logsumexp; backward is one kernel writing dlogits = (softmax - onehot) * g / count.
#include "core/autograd/composite.h"
#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/mixed_precision.h"
#include "core/ops/ops.h"
#include "kernels/cross_entropy.h"

namespace dytgrad {

namespace {

// The type of the losses, logsumexps and math for logits of type X (bfloat16 logits: float).

// The same gradient written with ops, for create_graph.
Tensor cross_entropy_grad_composite(const Tensor& logits, const Tensor& targets, const Tensor& scale,
                                    int64_t ignore_index) {
  int64_t classes = logits.shape().back();
  Tensor cls = Tensor::arange(0, double(classes), 1, DType::Int64, logits.device());
  Tensor t = targets.unsqueeze(-1);
  Tensor onehot = eq(cls, t).to(logits.dtype());
  Tensor valid = ne(t, Tensor::full({}, double(ignore_index), DType::Int64, logits.device())).to(logits.dtype());
  return mul(mul(sub(softmax(logits, -1), onehot), valid), scale);
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  // bfloat16 logits have kernels of their own (float32 math and statistics, no casts of the logits);
  // anything else handed bfloat16, or under autocast, runs in float32 (Precision::Float32).
  bool bfloat16_logits = logits.dtype() == DType::BFloat16 && unverified_kernels_run_on(logits.device());
  auto redo = [ignore_index](const Tensors& in) { return cross_entropy(in[0], in[1], ignore_index); };
  if (!bfloat16_logits)
    if (auto y = in_precision(Precision::Float32, {logits, targets}, redo)) return *y;
  check_same_device("cross_entropy", {logits, targets});
  check_dtype("cross_entropy", "targets", targets, DType::Int64);
  DYT_CHECK(logits.dim() >= 1, "cross_entropy: logits must have a class dim, got a scalar");
  Shape row_shape(logits.shape().begin(), logits.shape().end() - 1);
  DYT_CHECK(targets.shape() == row_shape,
            "cross_entropy: logits of shape {} (classes last) need targets of shape {}, got {}",
            shape_str(logits.shape()), shape_str(row_shape), shape_str(targets.shape()));
  int64_t classes = logits.shape().back(), rows = numel_of(row_shape);
  DYT_CHECK(classes > 0, "cross_entropy: logits have 0 classes");
  Tensor x = logits.contiguous().reshape({rows, classes});
  Tensor t = targets.contiguous().reshape({rows});
  DType math = bfloat16_logits ? DType::Float32 : logits.dtype();  // of the losses and logsumexps
  Tensor row_loss = make_tensor({rows}, math, logits.device());
  Tensor lse = make_tensor({rows}, math, logits.device());
  int64_t bad = -1;
  dispatch_floating_or_bfloat16(logits.dtype(), "cross_entropy", [&](auto tag) {
    using X = typename decltype(tag)::type;
    using T = StatsOf<X>;
    // read the logits and targets, write each row's loss and logsumexp
    profiler::note_work(double(x.numel() * int64_t(sizeof(X)) + 2 * rows * int64_t(sizeof(T)) + rows * 8), 0,
                        logits.shape(), targets.shape());
    bad = DYT_CALL(logits.device(), cross_entropy_forward, x.data<X>(), t.data<int64_t>(), row_loss.data<T>(),
                   lse.data<T>(), rows, classes, ignore_index);
  });
  if (bad >= 0) {
    int64_t value = t.narrow(0, bad, 1).to_vector<int64_t>()[0];
    throw Error(fmt::format("cross_entropy: target {} at position {} is out of range for {} classes "
                            "(expected 0..{} or ignore_index {})",
                            value, bad, classes, classes - 1, ignore_index));
  }
  Tensor count, loss;
  {
    NoGradGuard no_grad;
    count = sum(ne(t, Tensor::full({}, double(ignore_index), DType::Int64, t.device())).to(math));
    loss = div(sum(row_loss), count);
  }
  loss = record_op("cross_entropy", {logits}, loss, {logits, t, lse, count},
                   [ignore_index](const Tensor& g, const std::vector<Tensor>& s) {
    const Tensor &logits = s[0], &t = s[1], &lse = s[2], &count = s[3];
    int64_t classes = logits.shape().back(), rows = t.numel();
    Tensor scale = div(g, count);  // one element on the device: no host sync
    if (gradient_needs_graph())
      return std::vector<Tensor>{cross_entropy_grad_composite(logits.to(count.dtype()).reshape({rows, classes}), t,
                                                              scale, ignore_index)
                                     .reshape(logits.shape())
                                     .to(logits.dtype())};
    Tensor x = logits.contiguous();
    Tensor dx = make_tensor(logits.shape(), logits.dtype(), logits.device());
    dispatch_floating_or_bfloat16(logits.dtype(), "cross_entropy", [&](auto tag) {
      using X = typename decltype(tag)::type;
      using T = StatsOf<X>;
      // read the logits, targets and logsumexps, write dlogits
      profiler::note_work(double(2 * x.numel() * int64_t(sizeof(X)) + rows * int64_t(sizeof(T)) + rows * 8), 0,
                          logits.shape(), t.shape());
      DYT_CALL(logits.device(), cross_entropy_backward, x.data<X>(), t.data<int64_t>(), lse.data<T>(),
               scale.data<T>(), 1.0, dx.data<X>(), rows, classes, ignore_index);
    });
    return std::vector<Tensor>{dx};
  });
  // bfloat16 logits outside autocast give a bfloat16 loss, as every op handed only bfloat16 does
  return bfloat16_logits && !Autocast::is_enabled() ? loss.to(DType::BFloat16) : loss;
}

}  // namespace dytgrad
