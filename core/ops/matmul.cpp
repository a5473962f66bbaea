// matmul: 2-D or batched, batch dims broadcast. Operands are handed to the GEMM kernel as they lie
// in memory when their last two dims are row- or column-major (a transposed view costs no copy,
// only a transpose flag); any other layout is copied once.
#include "core/autograd/composite.h"
#include "core/autograd/node.h"
#include "core/ops/autocast.h"
#include "core/ops/dispatch.h"
#include "core/ops/mixed_precision.h"
#include "core/ops/ops.h"
#include "kernels/matmul.h"

namespace dytgrad {

namespace {

struct MatrixOperand {
  Tensor storage_view;  // keeps the data alive
  bool transposed = false;
  int64_t ld = 0, batch_stride = 0;
};

// A view of t broadcast to batch + [rows, cols], without recording (the kernel reads it).
Tensor broadcast_view(const Tensor& t, const Shape& batch) {
  Shape shape = batch, strides(batch.size(), 0);
  size_t lead = batch.size() - (t.shape().size() - 2);
  for (size_t d = lead; d < batch.size(); ++d)
    strides[d] = t.shape()[d - lead] == 1 ? 0 : t.strides()[d - lead];
  for (size_t d = t.shape().size() - 2; d < t.shape().size(); ++d) {
    shape.push_back(t.shape()[d]);
    strides.push_back(t.strides()[d]);
  }
  return make_view(t, shape, strides, t.offset());
}

// One stride s such that batch element i (row-major over the batch dims) starts at i * s, if any.
bool uniform_batch_stride(const Tensor& t, size_t batch_dims, int64_t* stride) {
  int64_t s = -1, span = 1;
  for (int64_t d = int64_t(batch_dims) - 1; d >= 0; --d) {
    int64_t size = t.shape()[d], st = t.strides()[d];
    if (size != 1) {
      if (s < 0) s = span == 0 ? 0 : st / span;
      if (st != s * span) return false;
    }
    span *= size;
  }
  *stride = s < 0 ? 0 : s;
  return true;
}

MatrixOperand prepare(const Tensor& t, const Shape& batch) {
  Tensor v = broadcast_view(t, batch);
  size_t n = v.shape().size();
  int64_t rows = v.shape()[n - 2], cols = v.shape()[n - 1];
  int64_t rs = v.strides()[n - 2], cs = v.strides()[n - 1];
  MatrixOperand m;
  m.storage_view = v;
  bool row_major = (cols == 1 || cs == 1) && (rows == 1 || rs >= std::max<int64_t>(cols, 1));
  bool col_major = (rows == 1 || rs == 1) && (cols == 1 || cs >= std::max<int64_t>(rows, 1));
  bool uniform = uniform_batch_stride(v, batch.size(), &m.batch_stride);
  if (uniform && row_major) {
    m.ld = rows == 1 ? std::max<int64_t>(cols, 1) : rs;
  } else if (uniform && col_major) {
    m.transposed = true;
    m.ld = cols == 1 ? std::max<int64_t>(rows, 1) : cs;
  } else {
    m.storage_view = v.contiguous();  // v is a raw view: this copy is not recorded
    m.ld = std::max<int64_t>(cols, 1);
    m.batch_stride = rows * cols;
  }
  return m;
}

Tensor matmul_kernel(const Tensor& a, const Tensor& b) {
  check_same_device("matmul", {a, b});
  check_same_dtype("matmul", {a, b});
  DYT_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: expected tensors of at least 2 dims, got shapes {} and {}",
            shape_str(a.shape()), shape_str(b.shape()));
  int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  DYT_CHECK(b.size(-2) == k,
            "matmul: shapes {} and {} cannot be multiplied (the last dim of the first, {}, must equal the "
            "second-to-last dim of the second, {})",
            shape_str(a.shape()), shape_str(b.shape()), k, b.size(-2));
  Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                 Shape(b.shape().begin(), b.shape().end() - 2), "matmul");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = make_tensor(out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  if (k == 0) return Tensor::zeros(out_shape, a.dtype(), a.device());
  MatrixOperand A = prepare(a, batch), B = prepare(b, batch);
  kernels::GemmShape s;
  s.transpose_a = A.transposed;
  s.transpose_b = B.transposed;
  s.m = m, s.n = n, s.k = k;
  s.lda = A.ld, s.ldb = B.ld, s.ldc = n;
  s.stride_a = A.batch_stride, s.stride_b = B.batch_stride, s.stride_c = m * n;
  s.batch = numel_of(batch);
  dispatch_floating_or_bfloat16(a.dtype(), "matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(0, 2.0 * double(s.m) * double(s.n) * double(s.k) * double(s.batch), a.shape(), b.shape());
    DYT_CALL(a.device(), gemm_batched<T>, s, A.storage_view.data<T>(), B.storage_view.data<T>(), out.data<T>());
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  auto redo = [](const Tensors& in) { return matmul(in[0], in[1]); };
  if (auto y = in_precision(Precision::BFloat16Kernel, {a, b}, redo)) return *y;
  Tensor out = matmul_kernel(a, b);
  return record_op("matmul", {a, b}, out, {a, b}, [](const Tensor& g, const std::vector<Tensor>& s) {
    const Tensor &a = s[0], &b = s[1];
    Tensor ga = a.requires_grad() ? sum_to_shape(matmul(g, b.transpose(-1, -2)), a.shape()) : Tensor();
    Tensor gb = b.requires_grad() ? sum_to_shape(matmul(a.transpose(-1, -2), g), b.shape()) : Tensor();
    return std::vector<Tensor>{ga, gb};
  });
}

namespace {
void check_linear_shapes(const char* op, const Tensor& x, const Tensor& weight) {
  DYT_CHECK(x.dim() >= 1 && weight.dim() == 2 && x.size(-1) == weight.size(1),
            "{}: expected x [..., in] and weight [out, in], got shapes {} and {}", op, shape_str(x.shape()),
            shape_str(weight.shape()));
}
void check_linear_bias(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias) {
  DYT_CHECK(bias.shape() == Shape{weight.size(0)}, "{}: bias must have shape [{}] (the rows of weight), got {}", op,
            weight.size(0), shape_str(bias.shape()));
  check_same_device(op, {x, weight, bias});
  check_same_dtype(op, {x, weight, bias});
}
}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_linear_shapes("linear", x, weight);
  auto redo = [](const Tensors& in) { return linear(in[0], in[1], in[2]); };
  if (auto y = in_precision(Precision::BFloat16Kernel, {x, weight, bias}, redo)) return *y;
  Shape out_shape = x.shape();
  out_shape.back() = weight.size(0);
  Tensor x2 = x.reshape({-1, x.size(-1)});
  if (!bias.defined()) return matmul(x2, weight.transpose(0, 1)).reshape(out_shape);
  check_linear_bias("linear", x, weight, bias);
  // bfloat16, and CUDA until its linear_forward has run on a GPU: the matmul and the add (bfloat16:
  // two roundings, of the product and of the sum)
  if (!unverified_kernels_run_on(x.device()) || x.dtype() == DType::BFloat16 || x2.size(0) == 0 || x2.size(1) == 0)
    return add(matmul(x2, weight.transpose(0, 1)), bias).reshape(out_shape);
  Tensor xc = x2.contiguous(), wc = weight.contiguous(), bc = bias.contiguous();
  int64_t rows = xc.size(0), in = xc.size(1), out = wc.size(0);
  Tensor y = make_tensor({rows, out}, x.dtype(), x.device());
  dispatch_floating(x.dtype(), "linear", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(0, 2.0 * double(rows) * double(in) * double(out), x.shape(), weight.shape(), bias.shape());
    DYT_CALL(x.device(), linear_forward<T>, xc.data<T>(), wc.data<T>(), bc.data<T>(), y.data<T>(), rows, in, out);
  });
  // Backward with ops (so it is differentiable again): dx = g W, dW = g^T x, dbias = the rows of g summed.
  Tensor out2 = record_op("linear", {x2, weight, bias}, y, {xc, wc}, [](const Tensor& g, const std::vector<Tensor>& s) {
    const Tensor &x2 = s[0], &w = s[1];
    return std::vector<Tensor>{x2.requires_grad() ? matmul(g, w) : Tensor(),
                               w.requires_grad() ? matmul(g.transpose(0, 1), x2) : Tensor(), sum(g, {0})};
  });
  return out2.reshape(out_shape);
}

Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_linear_shapes("linear_gelu", x, weight);
  // The composite where the fused kernels do not run: no bias, autocast and bfloat16 (linear's
  // bfloat16 GEMM, then gelu in bfloat16), empty tensors, and CUDA until they have run on a GPU.
  if (!bias.defined() || Autocast::is_enabled() || x.dtype() == DType::BFloat16 ||
      !unverified_kernels_run_on(x.device()) || x.numel() == 0 || weight.numel() == 0)
    return gelu(linear(x, weight, bias));
  check_linear_bias("linear_gelu", x, weight, bias);
  Shape out_shape = x.shape();
  out_shape.back() = weight.size(0);
  Tensor x2 = x.reshape({-1, x.size(-1)});
  Tensor xc = x2.contiguous(), wc = weight.contiguous(), bc = bias.contiguous();
  int64_t rows = xc.size(0), in = xc.size(1), out = wc.size(0);
  Tensor pre = make_tensor({rows, out}, x.dtype(), x.device()), y = make_tensor({rows, out}, x.dtype(), x.device());
  dispatch_floating(x.dtype(), "linear_gelu", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(0, 2.0 * double(rows) * double(in) * double(out), x.shape(), weight.shape(), bias.shape());
    DYT_CALL(x.device(), linear_gelu_forward<T>, xc.data<T>(), wc.data<T>(), bc.data<T>(), pre.data<T>(), y.data<T>(),
             rows, in, out);
  });
  // Backward: dpre = g gelu'(pre) (gelu's backward), then linear's: dx = dpre W, dW = dpre^T x,
  // dbias = the rows of dpre summed. create_graph differentiates the composite.
  Tensor fused = record_op("linear_gelu", {x2, weight, bias}, y, {xc, wc, bc, pre},
                           [](const Tensor& g, const std::vector<Tensor>& s) {
    const Tensor &x2 = s[0], &w = s[1], &pre = s[3];
    if (gradient_needs_graph())
      return differentiate_composite(
          [](const std::vector<Tensor>& in) { return gelu(linear(in[0], in[1], in[2])); }, {s[0], s[1], s[2]}, g);
    Tensor dpre = gelu_backward(pre, g);
    return std::vector<Tensor>{x2.requires_grad() ? matmul(dpre, w) : Tensor(),
                               w.requires_grad() ? matmul(dpre.transpose(0, 1), x2) : Tensor(), sum(dpre, {0})};
  });
  return fused.reshape(out_shape);
}

}  // namespace dytgrad
