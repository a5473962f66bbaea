// CPU elementwise kernels: one loop each, a contiguous fast path, and the strided walk of
// ElementwiseLayout otherwise.
#include "kernels/elementwise.h"

#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/scalar_math.h"

namespace dytgrad::kernels::cpu {

template <class T> void unary(UnaryOp op, const T* x, T* y, int64_t n, double scalar) {
  DYT_PARALLEL_FOR(n)
  for (int64_t i = 0; i < n; ++i) y[i] = unary_value<T>(op, x[i], T(scalar));
}

template <class T> void binary(BinaryOp op, const ElementwiseLayout& L, T* out, const T* a, const T* b) {
  if (L.all_contiguous) {
    DYT_PARALLEL_FOR(L.numel)
    for (int64_t i = 0; i < L.numel; ++i) out[i] = binary_value(op, a[i], b[i]);
    return;
  }
  DYT_PARALLEL_FOR(L.numel)
  for (int64_t i = 0; i < L.numel; ++i)
    out[L.offset(0, i)] = binary_value(op, a[L.offset(1, i)], b[L.offset(2, i)]);
}

template <class T> void compare(CompareOp op, const ElementwiseLayout& L, bool* out, const T* a, const T* b) {
  DYT_PARALLEL_FOR(L.numel)
  for (int64_t i = 0; i < L.numel; ++i)
    out[L.offset(0, i)] = compare_value(op, a[L.offset(1, i)], b[L.offset(2, i)]);
}

template <class T> void where(const ElementwiseLayout& L, T* out, const bool* cond, const T* a, const T* b) {
  DYT_PARALLEL_FOR(L.numel)
  for (int64_t i = 0; i < L.numel; ++i)
    out[L.offset(0, i)] = cond[L.offset(1, i)] ? a[L.offset(2, i)] : b[L.offset(3, i)];
}

template <class S, class D> void copy(const ElementwiseLayout& L, D* dst, const S* src) {
  if (L.all_contiguous) {
    DYT_PARALLEL_FOR(L.numel)
    for (int64_t i = 0; i < L.numel; ++i) dst[i] = static_cast<D>(src[i]);
    return;
  }
  DYT_PARALLEL_FOR(L.numel)
  for (int64_t i = 0; i < L.numel; ++i) dst[L.offset(0, i)] = static_cast<D>(src[L.offset(1, i)]);
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
#pragma omp parallel for reduction(|| : found) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) found = found || !std::isfinite(x[i]);
  return found;
}

#define DYT_FLOAT_TYPES(X) X(float) X(double)
#define DYT_INSTANTIATE_FLOAT(T)                                                           \
  template void unary<T>(UnaryOp, const T*, T*, int64_t, double);                          \
  template void binary<T>(BinaryOp, const ElementwiseLayout&, T*, const T*, const T*);     \
  template bool any_nonfinite<T>(const T*, int64_t);
DYT_FLOAT_TYPES(DYT_INSTANTIATE_FLOAT)

#define DYT_ALL_TYPES(X) X(float) X(double) X(int64_t) X(bool)
#define DYT_INSTANTIATE_ALL(T)                                                             \
  template void where<T>(const ElementwiseLayout&, T*, const bool*, const T*, const T*);   \
  template void fill<T>(T*, int64_t, T);                                                   \
  template void copy<T, float>(const ElementwiseLayout&, float*, const T*);                \
  template void copy<T, double>(const ElementwiseLayout&, double*, const T*);              \
  template void copy<T, int64_t>(const ElementwiseLayout&, int64_t*, const T*);            \
  template void copy<T, bool>(const ElementwiseLayout&, bool*, const T*);
DYT_ALL_TYPES(DYT_INSTANTIATE_ALL)

#define DYT_NUMERIC_TYPES(X) X(float) X(double) X(int64_t)
#define DYT_INSTANTIATE_NUMERIC(T)                                                         \
  template void compare<T>(CompareOp, const ElementwiseLayout&, bool*, const T*, const T*); \
  template void arange<T>(T*, int64_t, double, double);
DYT_NUMERIC_TYPES(DYT_INSTANTIATE_NUMERIC)

}  // namespace dytgrad::kernels::cpu
