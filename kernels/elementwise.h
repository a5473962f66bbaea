// Elementwise kernels: unary math, binary arithmetic with broadcasting, comparisons, where, casts
// and copies between layouts, fills and ranges. Both backends implement every declaration here in
// their own namespace (kernels::cpu, kernels::cuda) with the same signature.
#pragma once
#include <cstdint>

#include "bfloat16.h"
#include "layout.h"

namespace dytgrad::kernels {

// y = f(x, scalar). Contiguous x and y of n elements. `scalar` is used by the *Scalar ops only.
enum class UnaryOp {
  Neg, Exp, Log, Sqrt, Tanh, Relu,
  Erf,        // the error function, 2 / sqrt(pi) * integral of exp(-t^2) from 0 to x
  Step,       // 1 where x > 0 else 0 (the derivative of relu)
  Gelu,       // tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  GeluGrad,   // d gelu / dx
  GeluGrad2,  // d^2 gelu / dx^2
  Silu,       // x * sigmoid(x) = x / (1 + exp(-x)), also called swish
  AddScalar, MulScalar, PowScalar,
};

enum class BinaryOp { Add, Sub, Mul, Div };
enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge };

#define DYT_DECLARE_ELEMENTWISE_KERNELS                                                          \
  template <class T> void unary(UnaryOp op, const T* x, T* y, int64_t n, double scalar);         \
  /* operands: 0 out, 1 a, 2 b */                                                                \
  template <class T> void binary(BinaryOp op, const ElementwiseLayout& L, T* out, const T* a,    \
                                 const T* b);                                                    \
  template <class T> void compare(CompareOp op, const ElementwiseLayout& L, bool* out,          \
                                  const T* a, const T* b);                                       \
  /* operands: 0 out, 1 cond, 2 a, 3 b; out = cond ? a : b */                                    \
  template <class T> void where(const ElementwiseLayout& L, T* out, const bool* cond, const T* a,\
                                const T* b);                                                     \
  /* operands: 0 dst, 1 src; converts S to D */                                                  \
  template <class S, class D> void copy(const ElementwiseLayout& L, D* dst, const S* src);       \
  /* copy<S, D> under a name with one template argument, CopyTypes<S, D>, that DYT_CALL can      \
     take (a comma in it would split the macro's arguments) */                                   \
  template <class Types>                                                                         \
  void strided_copy(const ElementwiseLayout& L, typename Types::Destination* dst,                \
                    const typename Types::Source* src) {                                         \
    copy<typename Types::Source, typename Types::Destination>(L, dst, src);                      \
  }                                                                                              \
  template <class T> void fill(T* y, int64_t n, T value);                                        \
  template <class T> void arange(T* y, int64_t n, double start, double step);                    \
  /* true if any of the n values is NaN or +-Inf */                                              \
  template <class T> bool any_nonfinite(const T* x, int64_t n);                                  \
  /* gelu's backward in one pass: dx = dy * gelu'(x) (x, dy and dx of n elements, contiguous;     \
     read x and dy, write dx, where a GeluGrad unary and a mul move 5 tensors) */                 \
  template <class T> void gelu_backward(const T* x, const T* dy, T* dx, int64_t n);

template <class S, class D> struct CopyTypes {
  using Source = S;
  using Destination = D;
};

// bfloat16 unary and binary ops: each element in float32, rounded to bfloat16 once when stored
// (the float32 kernel then a cast, in one pass).
#define DYT_DECLARE_BFLOAT16_ELEMENTWISE_KERNELS                                                 \
  template <> void unary<bfloat16>(UnaryOp op, const bfloat16* x, bfloat16* y, int64_t n,       \
                                   double scalar);                                               \
  template <> void binary<bfloat16>(BinaryOp op, const ElementwiseLayout& L, bfloat16* out,     \
                                    const bfloat16* a, const bfloat16* b);

namespace cpu { DYT_DECLARE_ELEMENTWISE_KERNELS DYT_DECLARE_BFLOAT16_ELEMENTWISE_KERNELS }
namespace cuda { DYT_DECLARE_ELEMENTWISE_KERNELS DYT_DECLARE_BFLOAT16_ELEMENTWISE_KERNELS }

}  // namespace dytgrad::kernels
