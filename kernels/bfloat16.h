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
    uint32_t u = same_bits<uint32_t>(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return from_bits(uint16_t((u >> 16) | 0x0040u));  // NaN: keep it, quiet
    // Adding 0x7fff rounds up exactly the values above the halfway point; adding one more when the
    // kept part is odd sends the ties up to the even neighbour.
    uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    return from_bits(uint16_t((u + rounding) >> 16));
  }

  DYT_HOST_DEVICE float to_float() const { return same_bits<float>(uint32_t(bits) << 16); }

  // A value's bytes as another type of the same size (memcpy: defined behaviour, compiled to a
  // register move; CUDA has memcpy in device code too).
  template <class To, class From> DYT_HOST_DEVICE static To same_bits(From x) {
    static_assert(sizeof(To) == sizeof(From));
    To y;
    ::memcpy(&y, &x, sizeof y);
    return y;
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
