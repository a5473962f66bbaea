// Elementwise ops. Unary ops run on a contiguous copy of their input; binary ops, comparisons and
// where broadcast inside the kernel. Every backward is written with ops, so it is differentiable.
#include "core/autograd/composite.h"
#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/capture.h"
#include "core/ops/dispatch.h"
#include "core/ops/elementwise_layout.h"
#include "core/ops/ops.h"
#include "kernels/elementwise.h"

namespace dytgrad {

using kernels::BinaryOp;
using kernels::CompareOp;
using kernels::UnaryOp;
using Saved = std::vector<Tensor>;
using Grads = std::vector<Tensor>;

namespace {

// bfloat16 unary and binary ops run bfloat16 kernels (float32 math, one rounding, one pass) where
// unverified_kernels_run_on(device) (on CUDA once those kernels have run on a GPU) and in_float32
// otherwise, which gives the same values in three passes.

// bfloat16 elementwise math in float32 (core/ops/mixed_precision.h): the kernel on float32 copies,
// its result rounded back to bfloat16. Not recorded; the callers record the op on their tensors.
template <class Kernel> Tensor in_float32(Kernel kernel, const Tensor& a, const Tensor& b = Tensor()) {
  NoGradGuard no_grad;
  Tensor y = kernel(a.to(DType::Float32), b.defined() ? b.to(DType::Float32) : b);
  return is_floating(y.dtype()) ? y.to(DType::BFloat16) : y;
}

// y = op(x) without recording; the callers record.
Tensor unary_kernel(const char* name, UnaryOp op, const Tensor& x, double scalar = 0) {
  if (x.dtype() == DType::BFloat16 && !unverified_kernels_run_on(x.device()))
    return in_float32([&](const Tensor& x32, const Tensor&) { return unary_kernel(name, op, x32, scalar); }, x);
  Tensor xc = x.contiguous();
  Tensor y = make_tensor(x.shape(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  dispatch_floating_or_bfloat16(x.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(2.0 * double(y.numel() * sizeof(T)), 0, x.shape());  // read x, write y
    DYT_CALL(x.device(), unary<T>, op, xc.data<T>(), y.data<T>(), y.numel(), scalar);
  });
  return y;
}

Tensor binary_kernel(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same_device(name, {a, b});
  check_same_dtype(name, {a, b});
  if (a.dtype() == DType::BFloat16 && !unverified_kernels_run_on(a.device()))
    return in_float32([&](const Tensor& a32, const Tensor& b32) { return binary_kernel(name, op, a32, b32); }, a, b);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = make_tensor(shape, a.dtype(), a.device());
  auto L = make_layout(name, shape, {out, a, b});
  if (L.numel == 0) return out;
  dispatch_floating_or_bfloat16(a.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    // read a and b, write out
    profiler::note_work(double((a.numel() + b.numel() + out.numel()) * sizeof(T)), 0, a.shape(), b.shape());
    DYT_CALL(a.device(), binary<T>, op, L, out.data<T>(), a.data<T>(), b.data<T>());
  });
  return out;
}

Tensor compare_kernel(const char* name, CompareOp op, const Tensor& a, const Tensor& b) {
  check_same_device(name, {a, b});
  check_same_dtype(name, {a, b});
  if (a.dtype() == DType::BFloat16)
    return in_float32([&](const Tensor& a32, const Tensor& b32) { return compare_kernel(name, op, a32, b32); }, a, b);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = make_tensor(shape, DType::Bool, a.device());
  auto L = make_layout(name, shape, {out, a, b});
  if (L.numel == 0) return out;
  dispatch_all(a.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) throw Error(fmt::format("{}: cannot compare bool tensors", name));
    else {
      // read a and b, write out (one byte each)
      profiler::note_work(double((a.numel() + b.numel()) * sizeof(T) + out.numel()), 0, a.shape(), b.shape());
      DYT_CALL(a.device(), compare<T>, op, L, out.data<bool>(), a.data<T>(), b.data<T>());
    }
  });
  return out;
}

Tensor scalar_like(double value, const Tensor& t) { return Tensor::full({}, value, t.dtype(), t.device()); }

// d gelu/dx as an op of its own, so that gelu is twice differentiable.
Tensor gelu_grad2(const Tensor& x) {
  Tensor y = unary_kernel("gelu_grad2", UnaryOp::GeluGrad2, x);
  return record_op("gelu_grad2", {x}, y, {}, [](const Tensor&, const Saved&) -> Grads {
    throw Error("gelu: derivatives beyond the second are not implemented");
  });
}

Tensor gelu_grad(const Tensor& x) {
  Tensor y = unary_kernel("gelu_grad", UnaryOp::GeluGrad, x);
  return record_op("gelu_grad", {x}, y, {x}, [](const Tensor& g, const Saved& s) {
    return Grads{mul(g, gelu_grad2(s[0]))};
  });
}

// bfloat16 meeting float32 (a bfloat16 branch added to the float32 residual stream in mixed
// precision): the bfloat16 input is cast up, differentiably, and the op computes in the wider
// dtype. float32 and float64 do not mix silently: that stays an error.
bool mixes_bfloat16(const Tensor& a, const Tensor& b) {
  return a.dtype() != b.dtype() && is_floating(a.dtype()) && is_floating(b.dtype()) &&
         (a.dtype() == DType::BFloat16 || b.dtype() == DType::BFloat16);
}
Tensor widened(const Tensor& t, const Tensor& other) {
  return t.dtype() == DType::BFloat16 ? t.to(other.dtype()) : t;
}

}  // namespace

// ---- binary ----

Tensor add(const Tensor& a, const Tensor& b) {
  if (mixes_bfloat16(a, b)) return add(widened(a, b), widened(b, a));
  Tensor out = binary_kernel("add", BinaryOp::Add, a, b);
  Shape sa = a.shape(), sb = b.shape();
  return record_op("add", {a, b}, out, {}, [sa, sb](const Tensor& g, const Saved&) {
    return Grads{sum_to_shape(g, sa), sum_to_shape(g, sb)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  if (mixes_bfloat16(a, b)) return sub(widened(a, b), widened(b, a));
  Tensor out = binary_kernel("sub", BinaryOp::Sub, a, b);
  Shape sa = a.shape(), sb = b.shape();
  return record_op("sub", {a, b}, out, {}, [sa, sb](const Tensor& g, const Saved&) {
    return Grads{sum_to_shape(g, sa), sum_to_shape(neg(g), sb)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  if (mixes_bfloat16(a, b)) return mul(widened(a, b), widened(b, a));
  Tensor out = binary_kernel("mul", BinaryOp::Mul, a, b);
  return record_op("mul", {a, b}, out, {a, b}, [](const Tensor& g, const Saved& s) {
    const Tensor &a = s[0], &b = s[1];
    return Grads{a.requires_grad() ? sum_to_shape(mul(g, b), a.shape()) : Tensor(),
                 b.requires_grad() ? sum_to_shape(mul(g, a), b.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  if (mixes_bfloat16(a, b)) return div(widened(a, b), widened(b, a));
  Tensor out = binary_kernel("div", BinaryOp::Div, a, b);
  return record_op("div", {a, b}, out, {a, b}, [](const Tensor& g, const Saved& s) {
    const Tensor &a = s[0], &b = s[1];
    Tensor ga = a.requires_grad() ? sum_to_shape(div(g, b), a.shape()) : Tensor();
    Tensor gb = b.requires_grad() ? sum_to_shape(neg(div(mul(g, a), mul(b, b))), b.shape()) : Tensor();
    return Grads{ga, gb};
  });
}

// ---- with a scalar ----

Tensor add(const Tensor& a, double b) {
  Tensor out = unary_kernel("add", UnaryOp::AddScalar, a, b);
  return record_op("add_scalar", {a}, out, {}, [](const Tensor& g, const Saved&) { return Grads{g}; });
}

Tensor mul(const Tensor& a, double b) {
  Tensor out = unary_kernel("mul", UnaryOp::MulScalar, a, b);
  return record_op("mul_scalar", {a}, out, {}, [b](const Tensor& g, const Saved&) { return Grads{mul(g, b)}; });
}

Tensor pow(const Tensor& x, double p) {
  Tensor out = unary_kernel("pow", UnaryOp::PowScalar, x, p);
  return record_op("pow", {x}, out, {x}, [p](const Tensor& g, const Saved& s) {
    // x^0 is constant: its gradient is 0 everywhere, also at x = 0, where p x^(p-1) would be
    // 0 * inf = NaN (as PyTorch, which gives 0). The second derivative of x^1 goes through here too.
    if (p == 0) return Grads{Tensor::zeros(g.shape(), g.dtype(), g.device())};
    return Grads{mul(g, mul(pow(s[0], p - 1), p))};
  });
}

// ---- unary ----

Tensor neg(const Tensor& x) {
  Tensor out = unary_kernel("neg", UnaryOp::Neg, x);
  return record_op("neg", {x}, out, {}, [](const Tensor& g, const Saved&) { return Grads{neg(g)}; });
}

Tensor exp(const Tensor& x) {
  Tensor y = unary_kernel("exp", UnaryOp::Exp, x);
  return record_op("exp", {x}, y, {y}, [](const Tensor& g, const Saved& s) { return Grads{mul(g, s[0])}; });
}

Tensor log(const Tensor& x) {
  Tensor y = unary_kernel("log", UnaryOp::Log, x);
  return record_op("log", {x}, y, {x}, [](const Tensor& g, const Saved& s) { return Grads{div(g, s[0])}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = unary_kernel("sqrt", UnaryOp::Sqrt, x);
  return record_op("sqrt", {x}, y, {y}, [](const Tensor& g, const Saved& s) {
    return Grads{mul(div(g, s[0]), 0.5)};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = unary_kernel("tanh", UnaryOp::Tanh, x);
  return record_op("tanh", {x}, y, {y}, [](const Tensor& g, const Saved& s) {
    const Tensor& y = s[0];
    return Grads{mul(g, add(neg(mul(y, y)), 1.0))};  // g * (1 - y^2)
  });
}

Tensor erf(const Tensor& x) {
  Tensor y = unary_kernel("erf", UnaryOp::Erf, x);
  return record_op("erf", {x}, y, {x}, [](const Tensor& g, const Saved& s) {
    const Tensor& x = s[0];
    return Grads{mul(g, mul(exp(neg(mul(x, x))), 1.1283791670955126))};  // g * 2 / sqrt(pi) * exp(-x^2)
  });
}

Tensor relu(const Tensor& x) {
  Tensor y = unary_kernel("relu", UnaryOp::Relu, x);
  return record_op("relu", {x}, y, {x}, [](const Tensor& g, const Saved& s) {
    return Grads{mul(g, unary_kernel("relu", UnaryOp::Step, s[0]))};  // the step is constant
  });
}

Tensor gelu_backward(const Tensor& x, const Tensor& g) {
  // The ops where create_graph wants them; else one pass computes dx = g gelu'(x) (a gelu_grad
  // and a mul apart: two passes and a temporary; on CUDA once that kernel has run on a GPU).
  if (gradient_needs_graph() || !unverified_kernels_run_on(x.device()) || g.shape() != x.shape() ||
      x.dtype() == DType::BFloat16 || g.dtype() != x.dtype())
    return mul(g, gelu_grad(x));
  Tensor xc = x.contiguous(), gc = g.contiguous(), dx = make_tensor(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "gelu", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(3.0 * double(dx.numel() * sizeof(T)), 0, x.shape(), g.shape());  // read x and g, write dx
    DYT_CALL(x.device(), gelu_backward<T>, xc.data<T>(), gc.data<T>(), dx.data<T>(), x.numel());
  });
  return dx;
}

Tensor gelu(const Tensor& x) {
  Tensor y = unary_kernel("gelu", UnaryOp::Gelu, x);
  return record_op("gelu", {x}, y, {x}, [](const Tensor& g, const Saved& s) { return Grads{gelu_backward(s[0], g)}; });
}

// silu(x) = x s, s = sigmoid(x) = 1 / (1 + exp(-x)); silu'(x) = s (1 + x (1 - s)). The forward is
// one kernel pass; the backward is written with ops (five passes), so it is differentiable again.
Tensor silu(const Tensor& x) {
  require_verified_cuda("silu", x.device());
  Tensor y = unary_kernel("silu", UnaryOp::Silu, x);
  return record_op("silu", {x}, y, {x}, [](const Tensor& g, const Saved& s) {
    const Tensor& x = s[0];
    Tensor sigmoid = 1.0 / (exp(neg(x)) + 1.0);
    return Grads{mul(g, mul(sigmoid, add(mul(x, 1.0 - sigmoid), 1.0)))};
  });
}

// ---- comparisons, where ----

Tensor eq(const Tensor& a, const Tensor& b) { return compare_kernel("eq", CompareOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare_kernel("ne", CompareOp::Ne, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare_kernel("gt", CompareOp::Gt, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare_kernel("lt", CompareOp::Lt, a, b); }

namespace {
Tensor where_kernel(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (a.dtype() == DType::BFloat16)
    return in_float32([&](const Tensor& a32, const Tensor& b32) { return where_kernel(cond, a32, b32); }, a, b);
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = make_tensor(shape, a.dtype(), a.device());
  auto L = make_layout("where", shape, {out, cond, a, b});
  if (L.numel > 0) {
    dispatch_all(a.dtype(), "where", [&](auto tag) {
      using T = typename decltype(tag)::type;
      // read the condition (one byte each), a and b, write out
      profiler::note_work(double(cond.numel() + (a.numel() + b.numel() + out.numel()) * int64_t(sizeof(T))), 0,
                          cond.shape(), a.shape(), b.shape());
      DYT_CALL(a.device(), where<T>, L, out.data<T>(), cond.data<bool>(), a.data<T>(), b.data<T>());
    });
  }
  return out;
}
}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_dtype("where", "the condition", cond, DType::Bool);
  check_same_device("where", {cond, a, b});
  if (mixes_bfloat16(a, b)) return where(cond, widened(a, b), widened(b, a));
  check_same_dtype("where", {a, b});
  Tensor out = where_kernel(cond, a, b);
  if (!is_floating(a.dtype())) return out;
  return record_op("where", {a, b}, out, {cond}, [sa = a.shape(), sb = b.shape()](const Tensor& g, const Saved& s) {
    Tensor zero = scalar_like(0, g);
    return Grads{sum_to_shape(where(s[0], g, zero), sa), sum_to_shape(where(s[0], zero, g), sb)};
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return where(mask, scalar_like(value, x), x);
}

bool has_nonfinite(const Tensor& x) {
  if (!is_floating(x.dtype()) || x.numel() == 0) return false;
  check_not_capturing("has_nonfinite (anomaly detection checks every gradient with it)",
                      "its answer is read on the host, and the step has not run");
  if (x.dtype() == DType::BFloat16) {
    NoGradGuard no_grad;
    return has_nonfinite(x.to(DType::Float32));  // exact: the cast keeps NaN and Inf
  }
  Tensor xc = x.contiguous();
  bool found = false;
  dispatch_floating(x.dtype(), "has_nonfinite", [&](auto tag) {
    using T = typename decltype(tag)::type;
    profiler::note_work(double(xc.numel() * sizeof(T)), 0, x.shape());  // read x
    found = DYT_CALL(x.device(), any_nonfinite<T>, xc.data<T>(), xc.numel());
  });
  return found;
}

}  // namespace dytgrad
