// bfloat16, the 16-bit float of mixed-precision training: the top half of a float32 (1 sign bit,
// the same 8 exponent bits, 7 of the 23 mantissa bits). It keeps float32's range and about 3
// significant decimal digits (a rounding error of at most 2^-8 = 0.39% relative). Converting from
// float32 rounds to the nearest bfloat16, ties to the one with an even last bit (IEEE
// round-to-nearest-even, as PyTorch, CUDA's __float2bfloat16 and AVX-512 BF16 do); NaN stays NaN
// (quiet), infinities and signed zeros stay what they are, and a float32 beyond the largest
// bfloat16 by half a step or more becomes infinity. Converting back is exact: the 16 bits shifted up.
//
// The storage type of DType::BFloat16; `element_cast` converts to and from the other element types
// through float32 (from float64 that is two roundings, as in PyTorch: float64 -> float32 -> bfloat16).
// tests/test_bfloat16.cpp checks every one of the 65,536 values and the rounding against a float64
// reference.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "layout.h"  // DYT_HOST_DEVICE

namespace dytgrad {

struct bfloat16 {
  uint16_t bits = 0;

  DYT_HOST_DEVICE static constexpr bfloat16 from_bits(uint16_t b) {
    bfloat16 h;
    h.bits = b;
    return h;
  }

  DYT_HOST_DEVICE static bfloat16 from_float(float x) {
    uint32_t u = float_bits(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return from_bits(uint16_t((u >> 16) | 0x0040u));  // NaN: keep it, quiet
    // Adding 0x7fff rounds up exactly the values above the halfway point; adding one more when the
    // kept part is odd sends the ties up to the even neighbour.
    uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    return from_bits(uint16_t((u + rounding) >> 16));
  }

  DYT_HOST_DEVICE float to_float() const { return float_of_bits(uint32_t(bits) << 16); }

  // A float's 32 bits and back (on a GPU through the intrinsics, as memcpy is host code).
  DYT_HOST_DEVICE static uint32_t float_bits(float x) {
#ifdef __CUDA_ARCH__
    return __float_as_uint(x);
#else
    uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    return u;
#endif
  }
  DYT_HOST_DEVICE static float float_of_bits(uint32_t u) {
#ifdef __CUDA_ARCH__
    return __uint_as_float(u);
#else
    float x;
    std::memcpy(&x, &u, sizeof x);
    return x;
#endif
  }
};

// static_cast between element types, bfloat16 included (through float32).
template <class D, class S> DYT_HOST_DEVICE D element_cast(S x) {
  if constexpr (std::is_same_v<S, D>) return x;
  else if constexpr (std::is_same_v<S, bfloat16>) return static_cast<D>(x.to_float());
  else if constexpr (std::is_same_v<D, bfloat16>) return bfloat16::from_float(static_cast<float>(x));
  else return static_cast<D>(x);
}

}  // namespace dytgrad
