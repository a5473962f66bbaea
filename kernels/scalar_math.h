// Scalar formulas shared by the CPU and CUDA kernels, so that both backends compute the same thing.
#pragma once
#include <cmath>

#include "elementwise.h"
#include "layout.h"

namespace dytgrad::kernels {

#ifndef __CUDACC__
// On the CPU, unqualified tanh(float) would find C's tanh(double) and compute in double (a third of
// the GELU's time); these make it take the float overloads. CUDA's headers already provide them.
using std::erf;
using std::exp;
using std::log;
using std::sqrt;
using std::tanh;
#endif

// gelu, tanh approximation: 0.5 x (1 + tanh(u)), u = c (x + 0.044715 x^3), c = sqrt(2 / pi).
// Each formula is split at t = tanh(u), so that the CPU can compute the tanh of a whole block at
// once (kernels/cpu/vector_math.h) and finish each element from its t.
template <class T> DYT_HOST_DEVICE inline T gelu_inner(T x) {
  const T c = T(0.7978845608028654), a = T(0.044715);
  return c * (x + a * x * x * x);
}

template <class T> DYT_HOST_DEVICE inline T gelu_from_tanh(T x, T t) { return T(0.5) * x * (T(1) + t); }

// d gelu/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) u',  u' = c (1 + 3 a x^2).
template <class T> DYT_HOST_DEVICE inline T gelu_grad_from_tanh(T x, T t) {
  const T c = T(0.7978845608028654), a = T(0.044715);
  T du = c * (T(1) + T(3) * a * x * x);
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
}

// d^2 gelu/dx^2 = (1 - t^2) u' + 0.5 x (1 - t^2) (u'' - 2 t u'^2),  u'' = 6 c a x.
template <class T> DYT_HOST_DEVICE inline T gelu_grad2_from_tanh(T x, T t) {
  const T c = T(0.7978845608028654), a = T(0.044715);
  T s = T(1) - t * t;
  T du = c * (T(1) + T(3) * a * x * x), ddu = T(6) * c * a * x;
  return s * du + T(0.5) * x * s * (ddu - T(2) * t * du * du);
}

template <class T> DYT_HOST_DEVICE inline T gelu_value(T x) { return gelu_from_tanh(x, tanh(gelu_inner(x))); }
template <class T> DYT_HOST_DEVICE inline T gelu_grad_value(T x) { return gelu_grad_from_tanh(x, tanh(gelu_inner(x))); }
template <class T> DYT_HOST_DEVICE inline T gelu_grad2_value(T x) {
  return gelu_grad2_from_tanh(x, tanh(gelu_inner(x)));
}

template <class T> DYT_HOST_DEVICE inline T unary_value(UnaryOp op, T x, T scalar) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return exp(x);
    case UnaryOp::Log: return log(x);
    case UnaryOp::Sqrt: return sqrt(x);
    case UnaryOp::Tanh: return tanh(x);
    case UnaryOp::Erf: return erf(x);
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::Step: return x > T(0) ? T(1) : T(0);
    case UnaryOp::Gelu: return gelu_value(x);
    case UnaryOp::GeluGrad: return gelu_grad_value(x);
    case UnaryOp::GeluGrad2: return gelu_grad2_value(x);
    case UnaryOp::Silu: return x / (T(1) + exp(-x));
    case UnaryOp::AddScalar: return x + scalar;
    case UnaryOp::MulScalar: return x * scalar;
    case UnaryOp::PowScalar: return pow(x, scalar);
  }
  return x;
}

template <class T> DYT_HOST_DEVICE inline T binary_value(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
  }
  return a;
}

template <class T> DYT_HOST_DEVICE inline bool compare_value(CompareOp op, T a, T b) {
  switch (op) {
    case CompareOp::Eq: return a == b;
    case CompareOp::Ne: return a != b;
    case CompareOp::Lt: return a < b;
    case CompareOp::Le: return a <= b;
    case CompareOp::Gt: return a > b;
    case CompareOp::Ge: return a >= b;
  }
  return false;
}

}  // namespace dytgrad::kernels
