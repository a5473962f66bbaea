// Scaled dot-product attention as one op: softmax(q k^T / sqrt(d) [+ causal mask]) v.
// Forward keeps only q, k, v, the output and one logsumexp per query row; backward recomputes
// the probabilities from them (flash-attention style), so no tq x tk matrix is ever kept.
#include <cmath>
#include <limits>

#include "core/autograd/composite.h"
#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/mixed_precision.h"
#include "core/ops/ops.h"
#include "kernels/attention.h"

namespace dytgrad {

namespace {

Tensor attention_composite(const std::vector<Tensor>& in, bool causal, double scale) {  // q, k, v
  Tensor scores = mul(matmul(in[0], in[1].transpose(-1, -2)), scale);
  if (causal) {
    int64_t tq = in[0].size(-2), tk = in[1].size(-2);
    Device dev = in[0].device();
    Tensor rows = Tensor::arange(0, double(tq), 1, DType::Int64, dev).reshape({tq, 1});
    Tensor cols = Tensor::arange(0, double(tk), 1, DType::Int64, dev).reshape({1, tk});
    scores = masked_fill(scores, gt(cols, rows), -std::numeric_limits<double>::infinity());
  }
  return matmul(softmax(scores, -1), in[2]);
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  auto redo = [causal](const Tensors& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal); };
  // bfloat16 kernels where they run (on CUDA once they have run on a GPU), else float32 between casts
  bool bfloat16_kernels = unverified_kernels_run_on(q.device());
  if (auto y = in_precision(bfloat16_kernels ? Precision::BFloat16Kernel : Precision::BFloat16, {q, k, v}, redo))
    return *y;
  const char* op = "scaled_dot_product_attention";
  check_same_device(op, {q, k, v});
  check_same_dtype(op, {q, k, v});
  DYT_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(),
            "{}: q, k, v must have the same number of dims (at least 2), got shapes {}, {}, {}", op,
            shape_str(q.shape()), shape_str(k.shape()), shape_str(v.shape()));
  Shape batch(q.shape().begin(), q.shape().end() - 2);
  int64_t tq = q.size(-2), tk = k.size(-2), d = q.size(-1);
  DYT_CHECK(Shape(k.shape().begin(), k.shape().end() - 2) == batch && k.shape() == v.shape() && k.size(-1) == d,
            "{}: expected q [..., tq, d] and k, v [..., tk, d] with the same leading dims, got {}, {}, {}", op,
            shape_str(q.shape()), shape_str(k.shape()), shape_str(v.shape()));
  DYT_CHECK(!causal || tk >= tq || tq == 0, "{}: causal attention needs tk >= tq, got tq {} and tk {}", op, tq, tk);
  kernels::AttentionShape s;
  s.heads = numel_of(batch);
  s.tq = tq, s.tk = tk, s.d = d, s.causal = causal;
  s.scale = d > 0 ? 1.0 / std::sqrt(double(d)) : 1.0;
  Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
  Tensor out = make_tensor(q.shape(), q.dtype(), q.device());
  Shape lse_shape = batch;
  lse_shape.push_back(tq);
  // bfloat16 q, k, v: float32 logsumexps
  Tensor lse = make_tensor(lse_shape, q.dtype() == DType::BFloat16 ? DType::Float32 : q.dtype(), q.device());
  if (out.numel() > 0) {
    dispatch_floating_or_bfloat16(q.dtype(), op, [&](auto tag) {
      using X = typename decltype(tag)::type;
      using T = StatsOf<X>;
      profiler::note_work(0, kernels::attention_flops(s, false), q.shape(), k.shape(), v.shape());
      DYT_CALL(q.device(), attention_forward, s, qc.data<X>(), kc.data<X>(), vc.data<X>(), out.data<X>(),
               lse.data<T>());
    });
  }
  Tensor out_data = out.detach();  // saved as data; the output itself carries the node
  return record_op(op, {q, k, v}, out, {qc, kc, vc, out_data, lse}, [s](const Tensor& g, const std::vector<Tensor>& saved) {
    if (gradient_needs_graph())
      return differentiate_composite(
          [s](const std::vector<Tensor>& in) { return attention_composite(in, s.causal, s.scale); },
          {saved[0], saved[1], saved[2]}, g);
    const Tensor &q = saved[0], &k = saved[1], &v = saved[2], &out = saved[3], &lse = saved[4];
    Tensor gc = g.to(q.dtype()).contiguous();  // (a float32 gradient of a bfloat16 output is rounded)
    Tensor dq = make_tensor(q.shape(), q.dtype(), q.device());
    Tensor dk = make_tensor(k.shape(), k.dtype(), k.device());
    Tensor dv = make_tensor(v.shape(), v.dtype(), v.device());
    dispatch_floating_or_bfloat16(q.dtype(), "scaled_dot_product_attention", [&](auto tag) {
      using X = typename decltype(tag)::type;
      using T = StatsOf<X>;
      profiler::note_work(0, kernels::attention_flops(s, true), q.shape(), k.shape(), v.shape(), g.shape());
      DYT_CALL(q.device(), attention_backward, s, q.data<X>(), k.data<X>(), v.data<X>(), out.data<X>(),
               lse.data<T>(), gc.data<X>(), dq.data<X>(), dk.data<X>(), dv.data<X>());
    });
    return std::vector<Tensor>{dq, dk, dv};
  });
}

namespace {

// self_attention as other ops: split, heads apart, scaled_dot_product_attention, heads merged.
Tensor self_attention_composite(const Tensor& qkv, int64_t heads, bool causal) {
  int64_t batch = qkv.size(0), time = qkv.size(1), width = qkv.size(2) / 3;
  auto parts = split(qkv, width, 2);
  auto apart = [&](const Tensor& t) { return t.reshape({batch, time, heads, width / heads}).transpose(1, 2); };
  Tensor y = scaled_dot_product_attention(apart(parts[0]), apart(parts[1]), apart(parts[2]), causal);
  return y.transpose(1, 2).reshape({batch, time, width});
}

}  // namespace

Tensor self_attention(const Tensor& qkv, int64_t heads, bool causal) {
  auto redo = [heads, causal](const Tensors& in) { return self_attention(in[0], heads, causal); };
  // bfloat16: on CUDA, where scaled_dot_product_attention's bfloat16 kernels run, the composite in
  // bfloat16 (its split and merge copies at 2 bytes an element, no float32 round trip); on the CPU,
  // whose strided kernel reads float32, float32 math between casts.
  bool bfloat16_kernels = qkv.device().is_cuda() && unverified_kernels_run_on(qkv.device());
  if (auto y = in_precision(bfloat16_kernels ? Precision::BFloat16Kernel : Precision::BFloat16, {qkv}, redo)) return *y;
  const char* op = "self_attention";
  DYT_CHECK(qkv.dim() == 3, "{}: expected qkv [batch, time, 3 width], got shape {}", op, shape_str(qkv.shape()));
  DYT_CHECK(heads > 0 && qkv.size(2) % (3 * heads) == 0,
            "{}: the last dim of qkv (shape {}) must be 3 x width with width a multiple of heads {}", op,
            shape_str(qkv.shape()), heads);
  // CUDA runs the composite (its kernels want contiguous heads); so does the CPU under create_graph.
  if (!qkv.device().is_cpu() || qkv.numel() == 0) return self_attention_composite(qkv, heads, causal);
  int64_t batch = qkv.size(0), time = qkv.size(1), width = qkv.size(2) / 3, d = width / heads;
  kernels::AttentionShape s;
  s.heads = batch * heads, s.tq = s.tk = time, s.d = d, s.causal = causal;
  s.scale = 1.0 / std::sqrt(double(d));
  // q of head (b, h) at qkv[b, 0, h d], rows 3 width apart; k and v width and 2 width further on.
  kernels::AttentionLayouts layouts;
  layouts.q = layouts.kv = {heads, time * 3 * width, d, 3 * width};
  layouts.out = {heads, time * width, d, width};
  Tensor qkvc = qkv.contiguous();
  Tensor out = make_tensor({batch, time, width}, qkv.dtype(), qkv.device());
  Tensor lse = make_tensor({batch * heads, time}, qkv.dtype(), qkv.device());
  dispatch_floating(qkv.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* base = qkvc.data<T>();
    profiler::note_work(0, kernels::attention_flops(s, false), qkv.shape());
    DYT_CPU_CALL(attention_forward_strided<T>, s, layouts, base, base + width, base + 2 * width, out.data<T>(),
                 lse.data<T>());
  });
  Tensor out_data = out.detach();
  return record_op(op, {qkv}, out, {qkvc, out_data, lse},
                   [s, layouts, heads, causal, width](const Tensor& g, const std::vector<Tensor>& saved) {
    if (gradient_needs_graph())
      return differentiate_composite(
          [heads, causal](const std::vector<Tensor>& in) { return self_attention_composite(in[0], heads, causal); },
          {saved[0]}, g);
    const Tensor &qkv = saved[0], &out = saved[1], &lse = saved[2];
    Tensor gc = g.contiguous();
    Tensor dqkv = make_tensor(qkv.shape(), qkv.dtype(), qkv.device());
    dispatch_floating(qkv.dtype(), "self_attention", [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* base = qkv.data<T>();
      T* dbase = dqkv.data<T>();
      profiler::note_work(0, kernels::attention_flops(s, true), qkv.shape(), g.shape());
      DYT_CPU_CALL(attention_backward_strided<T>, s, layouts, base, base + width, base + 2 * width, out.data<T>(),
                   lse.data<T>(), gc.data<T>(), dbase, dbase + width, dbase + 2 * width);
    });
    return std::vector<Tensor>{dqkv};
  });
}

}  // namespace dytgrad
