// CPU elementwise kernels: one loop each, a contiguous fast path, and the strided walk of
// ElementwiseLayout by rows otherwise (kernels/cpu/strided_rows.h). tanh, exp, log and the gelu
// family go through vector_math (SLEEF), a block at a time. bfloat16 unary and binary ops compute
// in float32 and round each result once: a chunk of x widened to float32, the float32 kernel on it,
// the chunk rounded back (the same blocks as the float32 kernel's, so the same float32 values).
#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/bfloat16.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/strided_rows.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/scalar_math.h"

namespace dytgrad::kernels::cpu {

namespace {

// y = f(x) elementwise, one plain loop per f (the op is picked outside the loop).
template <class T, class F> void map_each(const T* x, T* y, int64_t n, F f) {
  DYT_PARALLEL_FOR(n)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// The transcendental ops, a block of vector_math::kBlock elements at a time:
// block(x, y, count) fills y[0, count) from x[0, count).
template <class T, class Block> void map_blocks(const T* x, T* y, int64_t n, Block block) {
  int64_t blocks = (n + vector_math::kBlock - 1) / vector_math::kBlock;
  DYT_PARALLEL_FOR(n)
  for (int64_t b = 0; b < blocks; ++b) {
    int64_t first = b * vector_math::kBlock;
    block(x + first, y + first, std::min(vector_math::kBlock, n - first));
  }
}

// The gelu family: u = gelu_inner(x) for the block, t = tanh(u) at once, then finish(x, t).
// (GCC cannot see that the first loop fills t[0, count) before tanh reads it, and says so.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <class T, class Finish> void gelu_blocks(const T* x, T* y, int64_t n, Finish finish) {
  map_blocks(x, y, n, [finish](const T* xb, T* yb, int64_t count) {
    T t[vector_math::kBlock];
    for (int64_t i = 0; i < count; ++i) t[i] = gelu_inner(xb[i]);
    vector_math::tanh(t, t, count);
    for (int64_t i = 0; i < count; ++i) yb[i] = finish(xb[i], t[i]);
  });
}

// One block of gelu_backward; a function of its own so that its loops vectorise.
template <class T>
void gelu_backward_block(const T* __restrict x, const T* __restrict dy, T* __restrict dx, int64_t count) {
  T t[vector_math::kBlock];
  for (int64_t i = 0; i < count; ++i) t[i] = gelu_inner(x[i]);
  vector_math::tanh(t, t, count);
  for (int64_t i = 0; i < count; ++i) dx[i] = dy[i] * gelu_grad_from_tanh(x[i], t[i]);
}
#pragma GCC diagnostic pop

// f(a, b) on bfloat16 operands: in float32, rounded once.
template <class F> auto in_float32(F f) {
  return [f](bfloat16 a, bfloat16 b) { return bfloat16::from_float(f(a.to_float(), b.to_float())); };
}

}  // namespace

template <class T> void unary(UnaryOp op, const T* x, T* y, int64_t n, double scalar) {
  const T s = T(scalar);
  switch (op) {
    case UnaryOp::Exp: return map_blocks(x, y, n, [](const T* a, T* b, int64_t k) { vector_math::exp(a, b, k); });
    case UnaryOp::Log: return map_blocks(x, y, n, [](const T* a, T* b, int64_t k) { vector_math::log(a, b, k); });
    case UnaryOp::Tanh: return map_blocks(x, y, n, [](const T* a, T* b, int64_t k) { vector_math::tanh(a, b, k); });
    case UnaryOp::Erf: return map_blocks(x, y, n, [](const T* a, T* b, int64_t k) { vector_math::erf(a, b, k); });
    // (lambdas, not function pointers, so that the finishing loops inline and vectorise)
    case UnaryOp::Gelu: return gelu_blocks(x, y, n, [](T v, T t) { return gelu_from_tanh(v, t); });
    case UnaryOp::GeluGrad: return gelu_blocks(x, y, n, [](T v, T t) { return gelu_grad_from_tanh(v, t); });
    case UnaryOp::GeluGrad2: return gelu_blocks(x, y, n, [](T v, T t) { return gelu_grad2_from_tanh(v, t); });
    case UnaryOp::Neg: return map_each(x, y, n, [](T v) { return -v; });
    case UnaryOp::Sqrt: return map_each(x, y, n, [](T v) { return std::sqrt(v); });
    case UnaryOp::Relu: return map_each(x, y, n, [](T v) { return v > T(0) ? v : T(0); });
    case UnaryOp::Step: return map_each(x, y, n, [](T v) { return v > T(0) ? T(1) : T(0); });
    case UnaryOp::AddScalar: return map_each(x, y, n, [s](T v) { return v + s; });
    case UnaryOp::MulScalar: return map_each(x, y, n, [s](T v) { return v * s; });
    // every other op (pow, silu): its formula in kernels/scalar_math.h, an element at a time
    default: return map_each(x, y, n, [op, s](T v) { return unary_value(op, v, s); });
  }
}

// A chunk of x at a time is widened into a float32 buffer (128 KiB, in L2), the float32 kernel runs
// on it in place (its blocks in parallel; chunks start at multiples of vector_math::kBlock, so the
// blocks and values are the float32 kernel's on the whole tensor), and it is rounded into y. Memory
// traffic: x read (2 bytes an element) and y written (2 bytes); the buffer stays in cache.
template <> void unary<bfloat16>(UnaryOp op, const bfloat16* x, bfloat16* y, int64_t n, double scalar) {
  constexpr int64_t kChunk = 1 << 15;
  static_assert(kChunk % vector_math::kBlock == 0);
  std::vector<float> wide(size_t(std::min(n, kChunk)));
  for (int64_t first = 0; first < n; first += kChunk) {
    int64_t count = std::min(kChunk, n - first);
    float* w = wide.data();
    const bfloat16* xc = x + first;
    bfloat16* yc = y + first;
    DYT_PARALLEL_FOR(count)
    for (int64_t i = 0; i < count; ++i) w[i] = xc[i].to_float();
    unary<float>(op, w, w, count, scalar);
    DYT_PARALLEL_FOR(count)
    for (int64_t i = 0; i < count; ++i) yc[i] = bfloat16::from_float(w[i]);
  }
}

// dx = dy gelu'(x): the gelu_grad block with the multiply by dy folded into its last loop.
// Reads x and dy, writes dx (12 bytes an element in float32; a GeluGrad then a mul: 20).
template <class T> void gelu_backward(const T* x, const T* dy, T* dx, int64_t n) {
  int64_t blocks = (n + vector_math::kBlock - 1) / vector_math::kBlock;
  DYT_PARALLEL_FOR(n)
  for (int64_t b = 0; b < blocks; ++b) {
    int64_t first = b * vector_math::kBlock;
    gelu_backward_block(x + first, dy + first, dx + first, std::min(vector_math::kBlock, n - first));
  }
}

// One run of a binary op: unit strides and a broadcast scalar operand get loops of their own.
template <class T, class F>
void binary_run(T* y, const T* a, const T* b, int64_t n, const int64_t* s, F f) {
  if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[0]);
  } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[0], b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i * s[0]] = f(a[i * s[1]], b[i * s[2]]);
  }
}

template <class T, class F> void binary_with(const ElementwiseLayout& L, T* out, const T* a, const T* b, F f) {
  if (L.all_contiguous) {
    DYT_PARALLEL_FOR(L.numel)
    for (int64_t i = 0; i < L.numel; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  for_each_row(L, [&](const int64_t* o, int64_t n, const int64_t* s) { binary_run(out + o[0], a + o[1], b + o[2], n, s, f); });
}

template <class T> void binary(BinaryOp op, const ElementwiseLayout& L, T* out, const T* a, const T* b) {
  switch (op) {  // the op is picked once, outside the loops
    case BinaryOp::Add: return binary_with(L, out, a, b, [](T x, T y) { return x + y; });
    case BinaryOp::Sub: return binary_with(L, out, a, b, [](T x, T y) { return x - y; });
    case BinaryOp::Mul: return binary_with(L, out, a, b, [](T x, T y) { return x * y; });
    case BinaryOp::Div: return binary_with(L, out, a, b, [](T x, T y) { return x / y; });
  }
}

template <>
void binary<bfloat16>(BinaryOp op, const ElementwiseLayout& L, bfloat16* out, const bfloat16* a, const bfloat16* b) {
  switch (op) {
    case BinaryOp::Add: return binary_with(L, out, a, b, in_float32([](float x, float y) { return x + y; }));
    case BinaryOp::Sub: return binary_with(L, out, a, b, in_float32([](float x, float y) { return x - y; }));
    case BinaryOp::Mul: return binary_with(L, out, a, b, in_float32([](float x, float y) { return x * y; }));
    case BinaryOp::Div: return binary_with(L, out, a, b, in_float32([](float x, float y) { return x / y; }));
  }
}

template <class T> void compare(CompareOp op, const ElementwiseLayout& L, bool* out, const T* a, const T* b) {
  for_each_row(L, [&](const int64_t* o, int64_t n, const int64_t* s) {
    for (int64_t i = 0; i < n; ++i)
      out[o[0] + i * s[0]] = compare_value(op, a[o[1] + i * s[1]], b[o[2] + i * s[2]]);
  });
}

template <class T> void where(const ElementwiseLayout& L, T* out, const bool* cond, const T* a, const T* b) {
  for_each_row(L, [&](const int64_t* o, int64_t n, const int64_t* s) {
    for (int64_t i = 0; i < n; ++i)
      out[o[0] + i * s[0]] = cond[o[1] + i * s[1]] ? a[o[2] + i * s[2]] : b[o[3] + i * s[3]];
  });
}

template <class S, class D> void copy(const ElementwiseLayout& L, D* dst, const S* src) {
  if (L.all_contiguous) {
    DYT_PARALLEL_FOR(L.numel)
    for (int64_t i = 0; i < L.numel; ++i) dst[i] = element_cast<D>(src[i]);
    return;
  }
  for_each_row(L, [&](const int64_t* o, int64_t n, const int64_t* s) {
    D* y = dst + o[0];
    const S* x = src + o[1];
    if (s[0] == 1 && s[1] == 1) {
      for (int64_t i = 0; i < n; ++i) y[i] = element_cast<D>(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) y[i * s[0]] = element_cast<D>(x[i * s[1]]);
    }
  });
}

template <class T> void fill(T* y, int64_t n, T value) {
  DYT_PARALLEL_FOR(n)
  for (int64_t i = 0; i < n; ++i) y[i] = value;
}

template <class T> void arange(T* y, int64_t n, double start, double step) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(start + double(i) * step);
}

template <class T> bool any_nonfinite(const T* x, int64_t n) {
  bool found = false;
#pragma omp parallel for reduction(|| : found) if (n > kParallelGrain) num_threads(threads())
  for (int64_t i = 0; i < n; ++i) found = found || !std::isfinite(x[i]);
  return found;
}

#define DYT_FLOAT_TYPES(X) X(float) X(double)
#define DYT_INSTANTIATE_FLOAT(T)                                                           \
  template void unary<T>(UnaryOp, const T*, T*, int64_t, double);                          \
  template void binary<T>(BinaryOp, const ElementwiseLayout&, T*, const T*, const T*);     \
  template bool any_nonfinite<T>(const T*, int64_t);                                      \
  template void gelu_backward<T>(const T*, const T*, T*, int64_t);
DYT_FLOAT_TYPES(DYT_INSTANTIATE_FLOAT)

#define DYT_ALL_TYPES(X) X(float) X(double) X(int64_t) X(bool)
#define DYT_INSTANTIATE_ALL(T)                                                             \
  template void where<T>(const ElementwiseLayout&, T*, const bool*, const T*, const T*);   \
  template void fill<T>(T*, int64_t, T);                                                   \
  template void copy<T, float>(const ElementwiseLayout&, float*, const T*);                \
  template void copy<T, double>(const ElementwiseLayout&, double*, const T*);              \
  template void copy<T, int64_t>(const ElementwiseLayout&, int64_t*, const T*);            \
  template void copy<T, bool>(const ElementwiseLayout&, bool*, const T*);                  \
  template void copy<T, bfloat16>(const ElementwiseLayout&, bfloat16*, const T*);          \
  template void copy<bfloat16, T>(const ElementwiseLayout&, T*, const bfloat16*);
DYT_ALL_TYPES(DYT_INSTANTIATE_ALL)
// bfloat16 (unary and binary: the specialisations above): filled, and copied to and from itself and
// every other dtype.
template void fill<bfloat16>(bfloat16*, int64_t, bfloat16);
template void copy<bfloat16, bfloat16>(const ElementwiseLayout&, bfloat16*, const bfloat16*);

#define DYT_NUMERIC_TYPES(X) X(float) X(double) X(int64_t)
#define DYT_INSTANTIATE_NUMERIC(T)                                                         \
  template void compare<T>(CompareOp, const ElementwiseLayout&, bool*, const T*, const T*); \
  template void arange<T>(T*, int64_t, double, double);
DYT_NUMERIC_TYPES(DYT_INSTANTIATE_NUMERIC)

}  // namespace dytgrad::kernels::cpu
