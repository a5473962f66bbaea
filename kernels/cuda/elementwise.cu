// CUDA elementwise kernels. Each thread handles 4 consecutive elements with 16-byte loads and
// stores when all operands are float32, contiguous and 16-byte aligned (the common case); any
// other layout takes the strided path, which computes each operand's offset from the layout, but
// for one operand broadcast over leading dims (bias adds): the periodic kernels (i % period).
// gelu's backward is one kernel, dx = dy * gelu'(x): reads x and dy, writes dx.
// bfloat16 unary and binary ops compute each element in float32 and round it once when stored (what
// the float32 kernel and a cast give, in one pass: 2 bytes read per operand, 2 written).
// Memory traffic: every input element read once, every output written once.
#include "kernels/bfloat16.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise.h"
#include "kernels/memory.h"
#include "kernels/scalar_math.h"

namespace dytgrad::kernels::cuda {

namespace {

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// y = f(x), contiguous.
template <class T> __global__ void unary_kernel(UnaryOp op, const T* __restrict__ x, T* __restrict__ y, int64_t n, T s) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = unary_value(op, x[i], s);
}

__global__ void unary_kernel_vec4(UnaryOp op, const float4* __restrict__ x, float4* __restrict__ y, int64_t n4, float s) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n4; i += int64_t(gridDim.x) * blockDim.x) {
    float4 v = x[i];
    y[i] = make_float4(unary_value(op, v.x, s), unary_value(op, v.y, s), unary_value(op, v.z, s), unary_value(op, v.w, s));
  }
}

template <class T>
__global__ void binary_contiguous(BinaryOp op, T* __restrict__ out, const T* __restrict__ a, const T* __restrict__ b, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = binary_value(op, a[i], b[i]);
}

__global__ void binary_vec4(BinaryOp op, float4* __restrict__ out, const float4* __restrict__ a, const float4* __restrict__ b, int64_t n4) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n4; i += int64_t(gridDim.x) * blockDim.x) {
    float4 u = a[i], v = b[i];
    out[i] = make_float4(binary_value(op, u.x, v.x), binary_value(op, u.y, v.y), binary_value(op, u.z, v.z),
                         binary_value(op, u.w, v.w));
  }
}

// out = a op b where out and one operand (`full`) are contiguous and the other repeats with a
// period: contiguous over the trailing dims and broadcast over the leading ones (a bias [cols] over
// [rows, cols], positions [T, C] over [B, T, C]). Its element is periodic[i % period], one modulo
// where the strided path divides the index by every dim for every operand. Traffic: out written
// and full read once; the periodic operand read from cache.
template <class T, bool kPeriodicB>
__global__ void binary_periodic(BinaryOp op, T* __restrict__ out, const T* __restrict__ full,
                                const T* __restrict__ periodic, int64_t n, int64_t period) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    T f = full[i], p = periodic[i % period];
    out[i] = kPeriodicB ? binary_value(op, f, p) : binary_value(op, p, f);
  }
}

// The same on float4s (float, period a multiple of 4, 16-byte aligned).
template <bool kPeriodicB>
__global__ void binary_periodic_vec4(BinaryOp op, float4* __restrict__ out, const float4* __restrict__ full,
                                     const float4* __restrict__ periodic, int64_t n4, int64_t period4) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n4; i += int64_t(gridDim.x) * blockDim.x) {
    float4 f = full[i], p = periodic[i % period4];
    float4 u = kPeriodicB ? f : p, v = kPeriodicB ? p : f;  // a and b
    out[i] = make_float4(binary_value(op, u.x, v.x), binary_value(op, u.y, v.y), binary_value(op, u.z, v.z),
                         binary_value(op, u.w, v.w));
  }
}

template <class T> __global__ void binary_strided(BinaryOp op, ElementwiseLayout L, T* out, const T* a, const T* b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < L.numel; i += int64_t(gridDim.x) * blockDim.x)
    out[L.offset(0, i)] = binary_value(op, a[L.offset(1, i)], b[L.offset(2, i)]);
}

__global__ void unary_bfloat16(UnaryOp op, const bfloat16* __restrict__ x, bfloat16* __restrict__ y, int64_t n, float s) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = bfloat16::from_float(unary_value(op, x[i].to_float(), s));
}

__global__ void binary_bfloat16(BinaryOp op, ElementwiseLayout L, bfloat16* out, const bfloat16* a, const bfloat16* b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < L.numel; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t o = i, ia = i, ib = i;
    if (!L.all_contiguous) o = L.offset(0, i), ia = L.offset(1, i), ib = L.offset(2, i);
    out[o] = bfloat16::from_float(binary_value(op, a[ia].to_float(), b[ib].to_float()));
  }
}

template <class T> __global__ void compare_strided(CompareOp op, ElementwiseLayout L, bool* out, const T* a, const T* b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < L.numel; i += int64_t(gridDim.x) * blockDim.x)
    out[L.offset(0, i)] = compare_value(op, a[L.offset(1, i)], b[L.offset(2, i)]);
}

template <class T>
__global__ void where_strided(ElementwiseLayout L, T* out, const bool* cond, const T* a, const T* b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < L.numel; i += int64_t(gridDim.x) * blockDim.x)
    out[L.offset(0, i)] = cond[L.offset(1, i)] ? a[L.offset(2, i)] : b[L.offset(3, i)];
}

template <class S, class D> __global__ void copy_strided(ElementwiseLayout L, D* dst, const S* src) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < L.numel; i += int64_t(gridDim.x) * blockDim.x)
    dst[L.offset(0, i)] = element_cast<D>(src[L.offset(1, i)]);
}

template <class T> __global__ void fill_kernel(T* y, int64_t n, T value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) y[i] = value;
}

template <class T> __global__ void arange_kernel(T* y, int64_t n, double start, double step) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = static_cast<T>(start + double(i) * step);
}

// dx = dy * gelu'(x), contiguous.
template <class T>
__global__ void gelu_backward_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = dy[i] * gelu_grad_value(x[i]);
}

// Sets *found to 1 if any element is not finite (several threads may store 1: same value, no race
// on the result).
template <class T> __global__ void nonfinite_kernel(const T* x, int64_t n, int* found) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    if (!isfinite(x[i])) *found = 1;
}

}  // namespace

template <class T> void unary(UnaryOp op, const T* x, T* y, int64_t n, double scalar) {
  if constexpr (std::is_same_v<T, float>) {
    if (n % 4 == 0 && aligned16(x) && aligned16(y)) {
      unary_kernel_vec4<<<grid_for(n / 4), kThreads, 0, stream()>>>(op, reinterpret_cast<const float4*>(x), reinterpret_cast<float4*>(y),
                                                       n / 4, float(scalar));
      DYT_CUDA_LAUNCHED();
      return;
    }
  }
  unary_kernel<<<grid_for(n), kThreads, 0, stream()>>>(op, x, y, n, T(scalar));
  DYT_CUDA_LAUNCHED();
}

namespace {

// If operand k is laid out as a contiguous tensor over dims [d, ndim) broadcast over [0, d) (strides
// 0), the number of elements it holds: its period in the output's order. 0 if not.
int64_t period_of(const ElementwiseLayout& L, int k) {
  int64_t period = 1;
  int d = L.ndim - 1;
  for (; d >= 0 && (L.shape[d] == 1 || L.strides[k][d] == period); --d) period *= L.shape[d];
  for (; d >= 0; --d)
    if (L.shape[d] != 1 && L.strides[k][d] != 0) return 0;
  return period;
}

// out, a, b: the operand that repeats (b when periodic_b, else a) has this period; the others are
// contiguous.
template <class T>
void launch_periodic(BinaryOp op, const ElementwiseLayout& L, T* out, const T* a, const T* b, bool periodic_b, int64_t period) {
  const T *full = periodic_b ? a : b, *periodic = periodic_b ? b : a;
  if constexpr (std::is_same_v<T, float>) {
    if (period % 4 == 0 && aligned16(out) && aligned16(full) && aligned16(periodic)) {
      auto launch = periodic_b ? binary_periodic_vec4<true> : binary_periodic_vec4<false>;
      launch<<<grid_for(L.numel / 4), kThreads, 0, stream()>>>(op, reinterpret_cast<float4*>(out), reinterpret_cast<const float4*>(full),
                                                  reinterpret_cast<const float4*>(periodic), L.numel / 4, period / 4);
      DYT_CUDA_LAUNCHED();
      return;
    }
  }
  auto launch = periodic_b ? binary_periodic<T, true> : binary_periodic<T, false>;
  launch<<<grid_for(L.numel), kThreads, 0, stream()>>>(op, out, full, periodic, L.numel, period);
  DYT_CUDA_LAUNCHED();
}

}  // namespace

template <class T> void binary(BinaryOp op, const ElementwiseLayout& L, T* out, const T* a, const T* b) {
  // One operand broadcast over leading dims (bias adds): the periodic kernels, once they have run on
  // a GPU (until then the strided path, as before).
  if (!L.all_contiguous && L.numel > 0 && unverified_kernels_allowed() && period_of(L, 0) == L.numel) {
    int64_t period_a = period_of(L, 1), period_b = period_of(L, 2);
    if (period_a == L.numel && period_b > 0) return launch_periodic(op, L, out, a, b, true, period_b);
    if (period_b == L.numel && period_a > 0) return launch_periodic(op, L, out, a, b, false, period_a);
  }
  if (L.all_contiguous) {
    if constexpr (std::is_same_v<T, float>) {
      if (L.numel % 4 == 0 && aligned16(out) && aligned16(a) && aligned16(b)) {
        binary_vec4<<<grid_for(L.numel / 4), kThreads, 0, stream()>>>(op, reinterpret_cast<float4*>(out), reinterpret_cast<const float4*>(a),
                                                         reinterpret_cast<const float4*>(b), L.numel / 4);
        DYT_CUDA_LAUNCHED();
        return;
      }
    }
    binary_contiguous<<<grid_for(L.numel), kThreads, 0, stream()>>>(op, out, a, b, L.numel);
  } else {
    binary_strided<<<grid_for(L.numel), kThreads, 0, stream()>>>(op, L, out, a, b);
  }
  DYT_CUDA_LAUNCHED();
}

template <class T> void gelu_backward(const T* x, const T* dy, T* dx, int64_t n) {
  if (n == 0) return;
  gelu_backward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, dy, dx, n);
  DYT_CUDA_LAUNCHED();
}

template <> void unary<bfloat16>(UnaryOp op, const bfloat16* x, bfloat16* y, int64_t n, double scalar) {
  unary_bfloat16<<<grid_for(n), kThreads, 0, stream()>>>(op, x, y, n, float(scalar));
  DYT_CUDA_LAUNCHED();
}

template <>
void binary<bfloat16>(BinaryOp op, const ElementwiseLayout& L, bfloat16* out, const bfloat16* a, const bfloat16* b) {
  binary_bfloat16<<<grid_for(L.numel), kThreads, 0, stream()>>>(op, L, out, a, b);
  DYT_CUDA_LAUNCHED();
}

template <class T> void compare(CompareOp op, const ElementwiseLayout& L, bool* out, const T* a, const T* b) {
  compare_strided<<<grid_for(L.numel), kThreads, 0, stream()>>>(op, L, out, a, b);
  DYT_CUDA_LAUNCHED();
}

template <class T> void where(const ElementwiseLayout& L, T* out, const bool* cond, const T* a, const T* b) {
  where_strided<<<grid_for(L.numel), kThreads, 0, stream()>>>(L, out, cond, a, b);
  DYT_CUDA_LAUNCHED();
}

template <class S, class D> void copy(const ElementwiseLayout& L, D* dst, const S* src) {
  if constexpr (std::is_same_v<S, D>) {
    if (L.all_contiguous) {
      DYT_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(L.numel) * sizeof(S), cudaMemcpyDeviceToDevice, stream()));
      return;
    }
  }
  copy_strided<<<grid_for(L.numel), kThreads, 0, stream()>>>(L, dst, src);
  DYT_CUDA_LAUNCHED();
}

template <class T> void fill(T* y, int64_t n, T value) {
  fill_kernel<<<grid_for(n), kThreads, 0, stream()>>>(y, n, value);
  DYT_CUDA_LAUNCHED();
}

template <class T> void arange(T* y, int64_t n, double start, double step) {
  arange_kernel<<<grid_for(n), kThreads, 0, stream()>>>(y, n, start, step);
  DYT_CUDA_LAUNCHED();
}

template <class T> bool any_nonfinite(const T* x, int64_t n) {
  int* flag = static_cast<int*>(allocate(sizeof(int)));
  DYT_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(int), stream()));
  nonfinite_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, n, flag);
  DYT_CUDA_LAUNCHED();
  int found = 0;
  copy_device_to_host(&found, flag, sizeof(int));
  release(flag);
  return found != 0;
}

#define DYT_INSTANTIATE_FLOAT(T)                                                           \
  template void unary<T>(UnaryOp, const T*, T*, int64_t, double);                          \
  template void binary<T>(BinaryOp, const ElementwiseLayout&, T*, const T*, const T*);     \
  template void gelu_backward<T>(const T*, const T*, T*, int64_t);                          \
  template bool any_nonfinite<T>(const T*, int64_t);
DYT_INSTANTIATE_FLOAT(float)
DYT_INSTANTIATE_FLOAT(double)

#define DYT_INSTANTIATE_ALL(T)                                                             \
  template void where<T>(const ElementwiseLayout&, T*, const bool*, const T*, const T*);   \
  template void fill<T>(T*, int64_t, T);                                                   \
  template void copy<T, float>(const ElementwiseLayout&, float*, const T*);                \
  template void copy<T, double>(const ElementwiseLayout&, double*, const T*);              \
  template void copy<T, int64_t>(const ElementwiseLayout&, int64_t*, const T*);            \
  template void copy<T, bool>(const ElementwiseLayout&, bool*, const T*);                  \
  template void copy<T, bfloat16>(const ElementwiseLayout&, bfloat16*, const T*);          \
  template void copy<bfloat16, T>(const ElementwiseLayout&, T*, const bfloat16*);
DYT_INSTANTIATE_ALL(float)
DYT_INSTANTIATE_ALL(double)
DYT_INSTANTIATE_ALL(int64_t)
DYT_INSTANTIATE_ALL(bool)
// bfloat16 (unary and binary: the specialisations above): creation and copies.
template void fill<bfloat16>(bfloat16*, int64_t, bfloat16);
template void copy<bfloat16, bfloat16>(const ElementwiseLayout&, bfloat16*, const bfloat16*);

#define DYT_INSTANTIATE_NUMERIC(T)                                                          \
  template void compare<T>(CompareOp, const ElementwiseLayout&, bool*, const T*, const T*); \
  template void arange<T>(T*, int64_t, double, double);
DYT_INSTANTIATE_NUMERIC(float)
DYT_INSTANTIATE_NUMERIC(double)
DYT_INSTANTIATE_NUMERIC(int64_t)

}  // namespace dytgrad::kernels::cuda
