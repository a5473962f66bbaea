// Element types. Every tensor has one. float64 is what gradient checks run in; bool holds masks;
// int64 holds indices and labels. Adding bf16 later means one more enumerator, its size and name,
// and a case in the dispatch macros of core/ops/dispatch.h.
#pragma once
#include <cstdint>
#include <string>

namespace dytgrad {

enum class DType : uint8_t { Float32, Float64, Int64, Bool };

inline int64_t element_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

}  // namespace dytgrad
