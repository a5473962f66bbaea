// embedding (row lookup) and its backward (deterministic scatter-add of rows). The backward is an
// op of its own whose backward is embedding again, so the pair is differentiable to any order.
#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/mixed_precision.h"
#include "core/ops/ops.h"
#include "kernels/embedding.h"

namespace dytgrad {

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  if (auto y = in_precision(Precision::AsGiven, {weight, indices}, [](const Tensors& in) { return embedding(in[0], in[1]); }))
    return *y;
  check_same_device("embedding", {weight, indices});
  check_dtype("embedding", "indices", indices, DType::Int64);
  DYT_CHECK(weight.dim() == 2, "embedding: weight must be [vocab, dim], got shape {}", shape_str(weight.shape()));
  int64_t vocab = weight.shape()[0], dim = weight.shape()[1];
  Tensor w = weight.contiguous(), idx = indices.contiguous();
  Shape out_shape = indices.shape();
  out_shape.push_back(dim);
  Tensor out = make_tensor(out_shape, weight.dtype(), weight.device());
  int64_t bad = -1;
  if (idx.numel() > 0) {
    dispatch_floating(weight.dtype(), "embedding", [&](auto tag) {
      using T = typename decltype(tag)::type;
      // read the indices and their rows, write out
      profiler::note_work(double(idx.numel()) * 8 + 2.0 * double(out.numel() * sizeof(T)), 0, weight.shape(),
                          indices.shape());
      bad = DYT_CALL(weight.device(), embedding_forward<T>, w.data<T>(), idx.data<int64_t>(), out.data<T>(),
                                                            idx.numel(), vocab, dim);
    });
  }
  if (bad >= 0) {
    int64_t value = idx.reshape({-1}).narrow(0, bad, 1).to_vector<int64_t>()[0];
    throw Error(fmt::format("embedding: index {} at position {} is out of range for a table of {} rows", value,
                            bad, vocab));
  }
  return record_op("embedding", {weight}, out, {idx}, [vocab](const Tensor& g, const std::vector<Tensor>& s) {
    return std::vector<Tensor>{embedding_backward(g, s[0], vocab)};
  });
}

Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t vocab) {
  int64_t dim = grad.shape().back();
  Tensor g = grad.contiguous(), idx = indices.contiguous();
  Tensor dweight = make_tensor({vocab, dim}, grad.dtype(), grad.device());
  dispatch_floating(grad.dtype(), "embedding_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // read the indices and g, write the table
    profiler::note_work(double(idx.numel()) * 8 + double((g.numel() + dweight.numel()) * sizeof(T)), 0, grad.shape(),
                        indices.shape());
    DYT_CALL(grad.device(), embedding_backward<T>, g.data<T>(), idx.data<int64_t>(), dweight.data<T>(),
                                                   idx.numel(), vocab, dim);
  });
  return record_op("embedding_backward", {grad}, dweight, {idx}, [](const Tensor& gg, const std::vector<Tensor>& s) {
    return std::vector<Tensor>{embedding(gg, s[0])};
  });
}

}  // namespace dytgrad
