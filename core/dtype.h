// Element types. Every tensor has one. float64 is what gradient checks run in; bool holds masks;
// int64 holds indices and labels; bfloat16 (kernels/bfloat16.h) is storage so far: it is created,
// filled, copied, converted, printed and saved on the CPU, and ops that compute refuse it
// (core/ops/dispatch.h says where each dtype goes).
#pragma once
#include <cstdint>
#include <string>

#include "../kernels/bfloat16.h"  // the value type, shared with the kernels

namespace dytgrad {

enum class DType : uint8_t { Float32, Float64, Int64, Bool, BFloat16 };

inline int64_t element_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
    case DType::BFloat16: return 2;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
    case DType::BFloat16: return "bfloat16";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64 || t == DType::BFloat16; }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<bfloat16> { static constexpr DType value = DType::BFloat16; };

}  // namespace dytgrad
