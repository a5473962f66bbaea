// How a front-end picks a kernel: by device (DYT_CALL) and by dtype (dispatch_floating and
// friends). Only core/ and its ops include this.
#pragma once
#include <type_traits>

#include "../error.h"
#include "../profiler.h"
#include "../tensor.h"

// DYT_CALL(device, kernel<T>, args...) calls kernels::cuda::kernel<T>(args...) for a CUDA device
// and kernels::cpu::kernel<T>(args...) otherwise, inside a profiler::KernelRange (an NVTX range,
// and a timed record while the profiler is on; compiled out with -DDYTGRAD_PROFILER=OFF).
#ifdef DYTGRAD_CUDA
#define DYT_UNTIMED_CALL(device, fn, ...) \
  ((device).is_cuda() ? ::dytgrad::kernels::cuda::fn(__VA_ARGS__) : ::dytgrad::kernels::cpu::fn(__VA_ARGS__))
#else
#define DYT_UNTIMED_CALL(device, fn, ...) (::dytgrad::require_cpu(device), ::dytgrad::kernels::cpu::fn(__VA_ARGS__))
#endif
#ifdef DYTGRAD_PROFILER
#define DYT_CALL(device, fn, ...)                                                        \
  ([&]() -> decltype(auto) {                                                             \
    static const char* const dyt_kernel_name = ::dytgrad::profiler::kernel_name(#fn);  \
    ::dytgrad::profiler::KernelRange dyt_kernel_range((device), dyt_kernel_name);        \
    return DYT_UNTIMED_CALL(device, fn, __VA_ARGS__);                                    \
  }())
#else
#define DYT_CALL(device, fn, ...) DYT_UNTIMED_CALL(device, fn, __VA_ARGS__)
#endif

// DYT_CPU_CALL(kernel<T>, args...): a kernel that only the CPU backend has (on CUDA the op runs as
// other ops), timed and marked like DYT_CALL.
#ifdef DYTGRAD_PROFILER
#define DYT_CPU_CALL(fn, ...)                                                            \
  ([&]() -> decltype(auto) {                                                             \
    static const char* const dyt_kernel_name = ::dytgrad::profiler::kernel_name(#fn);  \
    ::dytgrad::profiler::KernelRange dyt_kernel_range(::dytgrad::Device::cpu(), dyt_kernel_name); \
    return ::dytgrad::kernels::cpu::fn(__VA_ARGS__);                                     \
  }())
#else
#define DYT_CPU_CALL(fn, ...) ::dytgrad::kernels::cpu::fn(__VA_ARGS__)
#endif

namespace dytgrad {

inline void require_cpu(Device d) {
  DYT_CHECK(d.is_cpu(), "{} requested but this build has no CUDA backend", d.str());
}

template <class T> struct TypeTag { using type = T; };

// CUDA kernels that are written and compiled but have not run on a GPU yet stay off: an op that
// would run one on `device` raises an error saying so, unless DYTGRAD_CUDA_UNVERIFIED=1 is set or
// allow_unverified_cuda_kernels(true) was called (ops.h).
void require_verified_cuda(const char* op, Device device);

// The error of an op without bfloat16 kernels handed bfloat16 (the ops of models convert first:
// core/ops/mixed_precision.h).
[[noreturn]] void refuse_bfloat16(const char* op);

// Calls fn(TypeTag<T>{}) with T the C++ type of a floating dtype that ops compute in (float32,
// float64); other dtypes are an error. The profiler names the kernel calls inside after `op`.
template <class Fn> void dispatch_floating(DType dtype, const char* op, Fn&& fn) {
#ifdef DYTGRAD_PROFILER
  profiler::OpScope op_scope(op);
#endif
  switch (dtype) {
    case DType::Float32: fn(TypeTag<float>{}); return;
    case DType::Float64: fn(TypeTag<double>{}); return;
    case DType::BFloat16: refuse_bfloat16(op);
    default:
      throw Error(fmt::format("{}: expected a floating-point tensor (float32 or float64), got {}", op,
                              dtype_name(dtype)));
  }
}

// Same, plus bfloat16, for the ops that have bfloat16 kernels (matmul, DyT).
template <class Fn> void dispatch_floating_or_bfloat16(DType dtype, const char* op, Fn&& fn) {
  if (dtype != DType::BFloat16) return dispatch_floating(dtype, op, std::forward<Fn>(fn));
#ifdef DYTGRAD_PROFILER
  profiler::OpScope op_scope(op);
#endif
  fn(TypeTag<bfloat16>{});
}

// The dtype a kernel on X keeps its statistics in (logsumexps, losses): float32 for bfloat16.
template <class X> using StatsOf = std::conditional_t<std::is_same_v<X, bfloat16>, float, X>;

// Same, for every dtype ops compute in (all but bfloat16).
template <class Fn> void dispatch_all(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::Float32: fn(TypeTag<float>{}); return;
    case DType::Float64: fn(TypeTag<double>{}); return;
    case DType::Int64: fn(TypeTag<int64_t>{}); return;
    case DType::Bool: fn(TypeTag<bool>{}); return;
    case DType::BFloat16: refuse_bfloat16(op);
  }
}

// Same, for every dtype a tensor can store: the creation and copy kernels.
template <class Fn> void dispatch_storage(DType dtype, const char* op, Fn&& fn) {
  if (dtype == DType::BFloat16) fn(TypeTag<bfloat16>{});
  else dispatch_all(dtype, op, std::forward<Fn>(fn));
}

// Errors shared by many ops.
void check_same_device(const char* op, const std::vector<Tensor>& tensors);
void check_same_dtype(const char* op, const std::vector<Tensor>& tensors);
void check_dtype(const char* op, const char* what, const Tensor& t, DType expected);

}  // namespace dytgrad
