// Dropout: y = x * mask, mask[i] = 0 with probability p else 1 / (1 - p), drawn from the
// counter-based generator (the same mask on CPU and GPU for the same seed). Saving the mask makes
// backward g * mask, differentiable through mul.
#include "core/capture.h"
#include "core/ops/dispatch.h"
#include "core/ops/mixed_precision.h"
#include "core/ops/ops.h"
#include "core/random.h"
#include "kernels/random.h"

namespace dytgrad {

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  DYT_CHECK(p >= 0 && p <= 1, "dropout: probability must be in [0, 1], got {}", p);
  if (!training || p == 0) return x;  // before the bfloat16 rule, whose casts would be all it did
  auto redo = [&](const Tensors& in) { return dropout(in[0], p, training, gen); };
  if (auto y = in_precision(Precision::AsGiven, {x}, redo)) return *y;
  if (p == 1) return mul(x, 0.0);
  check_not_capturing("dropout", "its generator's state lives on the host, so every replay would draw this mask "
                      "again; train with dropout 0 or without capturing");
  Generator& g = gen ? *gen : Generator::default_generator();
  Tensor mask = make_tensor(x.shape(), x.dtype(), x.device());
  uint64_t offset = g.take(uint64_t(mask.numel()));
  dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(double(mask.numel() * sizeof(T)), 0, x.shape());  // write the mask
    DYT_CALL(x.device(), dropout_mask<T>, mask.data<T>(), mask.numel(), g.seed(), offset, p);
  });
  return mul(x, mask);
}

}  // namespace dytgrad
