// dyt, derf, layer_norm and rms_norm over the last dim: one fused kernel forward, one fused kernel
// backward (all parameter gradients included), and under create_graph the composite of basic
// ops below, differentiated.
#include <optional>
#include <type_traits>

#include "core/autograd/composite.h"
#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/mixed_precision.h"
#include "core/ops/ops.h"
#include "kernels/norms.h"

namespace dytgrad {

namespace {

struct Rows {
  int64_t rows, cols;
};

// The parameters must be of x's dtype, or of param_dtype where one is given.
Rows check_norm_inputs(const char* op, const Tensor& x, const std::vector<std::pair<const char*, const Tensor*>>& params,
                       std::optional<DType> param_dtype = std::nullopt) {
  DYT_CHECK(x.dim() >= 1, "{}: expected x with a feature dim, got a scalar", op);
  int64_t cols = x.shape().back();
  for (auto& [what, t] : params) {
    check_same_device(op, {x, *t});
    if (param_dtype) check_dtype(op, what, *t, *param_dtype);
    else check_same_dtype(op, {x, *t});
    DYT_CHECK(t->shape() == Shape{cols}, "{}: {} must have shape [{}] (the last dim of x, shape {}), got {}", op, what,
              cols, shape_str(x.shape()), shape_str(t->shape()));
  }
  return {cols == 0 ? 0 : x.numel() / cols, cols};
}

Tensor dyt_composite(const std::vector<Tensor>& in) {  // x, alpha, gamma, beta
  return add(mul(tanh(mul(in[0], in[1])), in[2]), in[3]);
}

Tensor dyt_bfloat16_result_composite(const std::vector<Tensor>& in) {  // the same in float32, rounded
  return dyt_composite(floating_as(in, DType::Float32)).to(DType::BFloat16);
}

Tensor derf_composite(const std::vector<Tensor>& in) {  // x, alpha, shift, gamma, beta
  return add(mul(erf(add(mul(in[0], in[1]), in[2])), in[3]), in[4]);
}

Tensor layer_norm_composite(const std::vector<Tensor>& in, double eps) {  // x, gamma, beta
  Tensor centered = sub(in[0], mean(in[0], {-1}, true));
  Tensor var = mean(mul(centered, centered), {-1}, true);
  return add(mul(div(centered, sqrt(add(var, eps))), in[1]), in[2]);
}

Tensor rms_norm_composite(const std::vector<Tensor>& in, double eps) {  // x, gamma
  Tensor ms = mean(mul(in[0], in[0]), {-1}, true);
  return mul(div(in[0], sqrt(add(ms, eps))), in[1]);
}

}  // namespace

namespace {

Rows check_dyt_inputs(const char* op, const Tensor& x, const Tensor& alpha, const Tensor& gamma, const Tensor& beta,
                      std::optional<DType> param_dtype = std::nullopt) {
  Rows r = check_norm_inputs(op, x, {{"gamma", &gamma}, {"beta", &beta}}, param_dtype);
  check_same_device(op, {x, alpha});
  if (param_dtype) check_dtype(op, "alpha", alpha, *param_dtype);
  else check_same_dtype(op, {x, alpha});
  DYT_CHECK(alpha.numel() == 1, "{}: alpha must have one element, got shape {}", op, shape_str(alpha.shape()));
  return r;
}

// Records y = dyt(x, alpha, gamma, beta), computed already from the contiguous xc, ..., with the
// fused backward kernel (and, under create_graph, the composite differentiated). A bfloat16 y
// with float32 parameters (dyt_bfloat16_result) takes the mixed-precision kernel back: dx in x's
// dtype, float32 parameter gradients.
Tensor record_dyt(const Tensor& x, const Tensor& alpha, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                  const std::vector<Tensor>& contiguous_inputs, Rows r) {
  bool mixed = y.dtype() != alpha.dtype();
  return record_op("dyt", {x, alpha, gamma, beta}, y, contiguous_inputs, [r, mixed](const Tensor& g, const std::vector<Tensor>& s) {
    if (gradient_needs_graph())
      return differentiate_composite(mixed ? dyt_bfloat16_result_composite : dyt_composite, s, g);
    const Tensor &x = s[0], &alpha = s[1], &gamma = s[2];
    Tensor gc = g.contiguous();
    Tensor dx = make_tensor(x.shape(), x.dtype(), x.device());
    Tensor dalpha = make_tensor(alpha.shape(), alpha.dtype(), x.device());
    Tensor dgamma = make_tensor(gamma.shape(), alpha.dtype(), x.device());
    Tensor dbeta = make_tensor(gamma.shape(), alpha.dtype(), x.device());
    double bytes = double(x.numel() * (2 * element_size(x.dtype()) + element_size(g.dtype())));  // read x, dy; write dx
    if (mixed) {
      dispatch_floating_or_bfloat16(x.dtype(), "dyt", [&](auto tag) {
        using X = typename decltype(tag)::type;  // float32 or bfloat16 (dyt_bfloat16_result)
        profiler::note_work(bytes, 0, x.shape(), g.shape());
        if constexpr (!std::is_same_v<X, double>)
          DYT_CALL(x.device(), dyt_backward, x.data<X>(), alpha.data<float>(), gamma.data<float>(), gc.data<bfloat16>(),
                   dx.data<X>(), dalpha.data<float>(), dgamma.data<float>(), dbeta.data<float>(), r.rows, r.cols);
      });
    } else {
      dispatch_floating(x.dtype(), "dyt", [&](auto tag) {
        using T = typename decltype(tag)::type;
        profiler::note_work(bytes, 0, x.shape(), g.shape());
        DYT_CALL(x.device(), dyt_backward<T>, x.data<T>(), alpha.data<T>(), gamma.data<T>(), gc.data<T>(),
                                                dx.data<T>(), dalpha.data<T>(), dgamma.data<T>(), dbeta.data<T>(),
                                                r.rows, r.cols);
      });
    }
    return std::vector<Tensor>{dx, dalpha, dgamma, dbeta};
  });
}

// DyT with a bfloat16 result (autocast, or bfloat16 inputs): one kernel reads x as it is (float32
// or bfloat16; float64 is cast to float32 first), computes in float32 with the parameters cast to
// float32 (recorded casts, so their gradients return in their dtypes) and rounds y once.
Tensor dyt_bfloat16_result(const Tensor& x, const Tensor& alpha, const Tensor& gamma, const Tensor& beta) {
  AutocastGuard no_autocast(false);
  Tensor xin = x.dtype() == DType::BFloat16 ? x : x.to(DType::Float32);
  Tensor a = alpha.to(DType::Float32), g = gamma.to(DType::Float32), b = beta.to(DType::Float32);
  Rows r = check_dyt_inputs("dyt", xin, a, g, b, DType::Float32);
  Tensor xc = xin.contiguous(), ac = a.contiguous(), gc = g.contiguous(), bc = b.contiguous();
  Tensor y = make_tensor(x.shape(), DType::BFloat16, x.device());
  if (y.numel() > 0) {
    dispatch_floating_or_bfloat16(xin.dtype(), "dyt", [&](auto tag) {
      using X = typename decltype(tag)::type;  // float32 or bfloat16: float64 was cast above
      profiler::note_work(double(y.numel() * (sizeof(X) + 2)), 0, x.shape());  // read x, write y
      if constexpr (!std::is_same_v<X, double>)
        DYT_CALL(x.device(), dyt_forward, xc.data<X>(), ac.data<float>(), gc.data<float>(), bc.data<float>(),
                 y.data<bfloat16>(), r.rows, r.cols);
    });
  }
  return record_dyt(xin, a, g, b, y, {xc, ac, gc, bc}, r);
}

bool cuda_add_dyt_kernel_on = true;

}  // namespace

void set_cuda_add_dyt_kernel(bool on) { cuda_add_dyt_kernel_on = on; }
bool cuda_add_dyt_kernel() { return cuda_add_dyt_kernel_on; }

Tensor dyt(const Tensor& x, const Tensor& alpha, const Tensor& gamma, const Tensor& beta) {
  if (wants_bfloat16_result({x, alpha, gamma, beta})) return dyt_bfloat16_result(x, alpha, gamma, beta);
  Rows r = check_dyt_inputs("dyt", x, alpha, gamma, beta);
  Tensor xc = x.contiguous(), ac = alpha.contiguous(), gc = gamma.contiguous(), bc = beta.contiguous();
  Tensor y = make_tensor(x.shape(), x.dtype(), x.device());
  if (y.numel() > 0) {
    dispatch_floating(x.dtype(), "dyt", [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(2.0 * double(y.numel() * sizeof(T)), 0, x.shape());  // read x, write y
      DYT_CALL(x.device(), dyt_forward<T>, xc.data<T>(), ac.data<T>(), gc.data<T>(), bc.data<T>(), y.data<T>(),
                                             r.rows, r.cols);
    });
  }
  return record_dyt(x, alpha, gamma, beta, y, {xc, ac, gc, bc}, r);
}

std::pair<Tensor, Tensor> add_dyt(const Tensor& x, const Tensor& y, const Tensor& alpha, const Tensor& gamma,
                                  const Tensor& beta) {
  DYT_CHECK(x.shape() == y.shape(), "add_dyt: x and y must have the same shape, got {} and {}", shape_str(x.shape()),
            shape_str(y.shape()));
  check_same_device("add_dyt", {x, y});
  // bfloat16 anywhere, or autocast: the two ops, each in its precision (no fused bfloat16 kernel yet)
  bool mixed_precision = Autocast::is_enabled() || x.dtype() == DType::BFloat16 || y.dtype() == DType::BFloat16;
  bool unfused = x.device().is_cuda() && !cuda_add_dyt_kernel();  // set_cuda_add_dyt_kernel(false): to compare
  if (mixed_precision || unfused) {
    Tensor sum = add(x, y);
    return {sum, dyt(sum, alpha, gamma, beta)};
  }
  check_same_dtype("add_dyt", {x, y});
  Rows r = check_dyt_inputs("add_dyt", x, alpha, gamma, beta);
  Tensor xc = x.contiguous(), yc = y.contiguous(), ac = alpha.contiguous(), gc = gamma.contiguous();
  Tensor bc = beta.contiguous();
  Tensor sum = make_tensor(x.shape(), x.dtype(), x.device()), out = make_tensor(x.shape(), x.dtype(), x.device());
  if (out.numel() > 0) {
    dispatch_floating(x.dtype(), "add_dyt", [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(4.0 * double(out.numel() * sizeof(T)), 0, x.shape(), y.shape());  // read x and y, write sum and out
      DYT_CALL(x.device(), add_dyt_forward<T>, xc.data<T>(), yc.data<T>(), ac.data<T>(), gc.data<T>(), bc.data<T>(),
                                                 sum.data<T>(), out.data<T>(), r.rows, r.cols);
    });
  }
  // Two nodes, as add then dyt would record them: the sum's gradient passes to x and y; out's is
  // DyT's fused backward on the saved sum.
  sum = record_op("add", {x, y}, sum, {}, [](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{g, g};
  });
  return {sum, record_dyt(sum, alpha, gamma, beta, out, {sum, ac, gc, bc}, r)};
}

Tensor derf(const Tensor& x, const Tensor& alpha, const Tensor& shift, const Tensor& gamma, const Tensor& beta) {
  auto redo = [](const Tensors& in) { return derf(in[0], in[1], in[2], in[3], in[4]); };
  if (auto y = in_precision(Precision::BFloat16Result, {x, alpha, shift, gamma, beta}, redo)) return *y;
  Rows r = check_norm_inputs("derf", x, {{"gamma", &gamma}, {"beta", &beta}});
  for (auto [what, t] : {std::pair<const char*, const Tensor*>{"alpha", &alpha}, {"shift", &shift}}) {
    check_same_device("derf", {x, *t});
    check_same_dtype("derf", {x, *t});
    DYT_CHECK(t->numel() == 1, "derf: {} must have one element, got shape {}", what, shape_str(t->shape()));
  }
  Tensor xc = x.contiguous(), ac = alpha.contiguous(), sc = shift.contiguous(), gc = gamma.contiguous(),
         bc = beta.contiguous();
  Tensor y = make_tensor(x.shape(), x.dtype(), x.device());
  if (y.numel() > 0) {
    dispatch_floating(x.dtype(), "derf", [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(2.0 * double(y.numel() * sizeof(T)), 0, x.shape());  // read x, write y
      DYT_CALL(x.device(), derf_forward<T>, xc.data<T>(), ac.data<T>(), sc.data<T>(), gc.data<T>(), bc.data<T>(),
                                              y.data<T>(), r.rows, r.cols);
    });
  }
  return record_op("derf", {x, alpha, shift, gamma, beta}, y, {xc, ac, sc, gc, bc},
                   [r](const Tensor& g, const std::vector<Tensor>& s) {
    if (gradient_needs_graph()) return differentiate_composite(derf_composite, s, g);
    const Tensor &x = s[0], &alpha = s[1], &shift = s[2], &gamma = s[3];
    Tensor gc = g.contiguous();
    Tensor dx = make_tensor(x.shape(), x.dtype(), x.device());
    Tensor dalpha = make_tensor(alpha.shape(), x.dtype(), x.device());
    Tensor dshift = make_tensor(shift.shape(), x.dtype(), x.device());
    Tensor dgamma = make_tensor(gamma.shape(), x.dtype(), x.device());
    Tensor dbeta = make_tensor(gamma.shape(), x.dtype(), x.device());
    dispatch_floating(x.dtype(), "derf", [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(3.0 * double(x.numel() * sizeof(T)), 0, x.shape(), g.shape());  // read x and dy, write dx
      DYT_CALL(x.device(), derf_backward<T>, x.data<T>(), alpha.data<T>(), shift.data<T>(), gamma.data<T>(),
                                               gc.data<T>(), dx.data<T>(), dalpha.data<T>(), dshift.data<T>(),
                                               dgamma.data<T>(), dbeta.data<T>(), r.rows, r.cols);
    });
    return std::vector<Tensor>{dx, dalpha, dshift, dgamma, dbeta};
  });
}

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  auto redo = [eps](const Tensors& in) { return layer_norm(in[0], in[1], in[2], eps); };
  if (auto y = in_precision(Precision::Float32, {x, gamma, beta}, redo)) return *y;
  Rows r = check_norm_inputs("layer_norm", x, {{"gamma", &gamma}, {"beta", &beta}});
  DYT_CHECK(eps >= 0, "layer_norm: eps must be >= 0, got {}", eps);
  Tensor xc = x.contiguous(), gc = gamma.contiguous(), bc = beta.contiguous();
  Tensor y = make_tensor(x.shape(), x.dtype(), x.device());
  Tensor mu = make_tensor({r.rows}, x.dtype(), x.device()), rstd = make_tensor({r.rows}, x.dtype(), x.device());
  if (y.numel() > 0) {
    dispatch_floating(x.dtype(), "layer_norm", [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(2.0 * double(y.numel() * sizeof(T)), 0, x.shape());  // read x, write y
      DYT_CALL(x.device(), layer_norm_forward<T>, xc.data<T>(), gc.data<T>(), bc.data<T>(), y.data<T>(),
                                                    mu.data<T>(), rstd.data<T>(), r.rows, r.cols, eps);
    });
  }
  return record_op("layer_norm", {x, gamma, beta}, y, {xc, gc, bc, mu, rstd},
                   [r, eps](const Tensor& g, const std::vector<Tensor>& s) {
    if (gradient_needs_graph())
      return differentiate_composite([eps](const std::vector<Tensor>& in) { return layer_norm_composite(in, eps); },
                                     {s[0], s[1], s[2]}, g);
    const Tensor &x = s[0], &gamma = s[1], &mu = s[3], &rstd = s[4];
    Tensor gc = g.contiguous();
    Tensor dx = make_tensor(x.shape(), x.dtype(), x.device());
    Tensor dgamma = make_tensor(gamma.shape(), x.dtype(), x.device());
    Tensor dbeta = make_tensor(gamma.shape(), x.dtype(), x.device());
    dispatch_floating(x.dtype(), "layer_norm", [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(3.0 * double(x.numel() * sizeof(T)), 0, x.shape(), g.shape());  // read x and dy, write dx
      DYT_CALL(x.device(), layer_norm_backward<T>, x.data<T>(), gamma.data<T>(), mu.data<T>(), rstd.data<T>(),
                                                     gc.data<T>(), dx.data<T>(), dgamma.data<T>(), dbeta.data<T>(),
                                                     r.rows, r.cols);
    });
    return std::vector<Tensor>{dx, dgamma, dbeta};
  });
}

Tensor rms_norm(const Tensor& x, const Tensor& gamma, double eps) {
  auto redo = [eps](const Tensors& in) { return rms_norm(in[0], in[1], eps); };
  if (auto y = in_precision(Precision::Float32, {x, gamma}, redo)) return *y;
  Rows r = check_norm_inputs("rms_norm", x, {{"gamma", &gamma}});
  DYT_CHECK(eps >= 0, "rms_norm: eps must be >= 0, got {}", eps);
  Tensor xc = x.contiguous(), gc = gamma.contiguous();
  Tensor y = make_tensor(x.shape(), x.dtype(), x.device());
  Tensor rstd = make_tensor({r.rows}, x.dtype(), x.device());
  if (y.numel() > 0) {
    dispatch_floating(x.dtype(), "rms_norm", [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(2.0 * double(y.numel() * sizeof(T)), 0, x.shape());  // read x, write y
      DYT_CALL(x.device(), rms_norm_forward<T>, xc.data<T>(), gc.data<T>(), y.data<T>(), rstd.data<T>(), r.rows,
                                                  r.cols, eps);
    });
  }
  return record_op("rms_norm", {x, gamma}, y, {xc, gc, rstd}, [r, eps](const Tensor& g, const std::vector<Tensor>& s) {
    if (gradient_needs_graph())
      return differentiate_composite([eps](const std::vector<Tensor>& in) { return rms_norm_composite(in, eps); },
                                     {s[0], s[1]}, g);
    const Tensor &x = s[0], &gamma = s[1], &rstd = s[2];
    Tensor gc = g.contiguous();
    Tensor dx = make_tensor(x.shape(), x.dtype(), x.device());
    Tensor dgamma = make_tensor(gamma.shape(), x.dtype(), x.device());
    dispatch_floating(x.dtype(), "rms_norm", [&](auto tag) {
      using T = typename decltype(tag)::type;
      profiler::note_work(3.0 * double(x.numel() * sizeof(T)), 0, x.shape(), g.shape());  // read x and dy, write dx
      DYT_CALL(x.device(), rms_norm_backward<T>, x.data<T>(), gamma.data<T>(), rstd.data<T>(), gc.data<T>(),
                                                   dx.data<T>(), dgamma.data<T>(), r.rows, r.cols);
    });
    return std::vector<Tensor>{dx, dgamma};
  });
}

}  // namespace dytgrad
