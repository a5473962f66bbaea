// bfloat16 (core/bfloat16.h): every one of its 65,536 values survives the trip through float32, and
// float32 values round to the nearest bfloat16, ties to even, against a float64 reference.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/bfloat16.h"
#include "helpers.h"

using namespace dytgrad;

namespace {
float from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// The nearest bfloat16 to a finite float32 x, ties to even, found in float64: of the two bfloat16
// values around x (x's top 16 bits, and the next one away from zero), the closer; on a tie, the one
// whose last bit is 0. Past the largest finite bfloat16 by half a step or more: infinity.
uint16_t nearest(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  uint16_t below = uint16_t(u >> 16), above = uint16_t(below + 1);
  double d = x, lo = bfloat16::from_bits(below).to_float();
  double hi = (above & 0x7fff) == 0x7f80 ? std::ldexp(1.0, 128) * (std::signbit(x) ? -1 : 1)  // infinity's place
                                         : double(bfloat16::from_bits(above).to_float());
  double to_lo = std::abs(d - lo), to_hi = std::abs(hi - d);
  if (to_lo < to_hi) return below;
  if (to_hi < to_lo) return above;
  return (below & 1) ? above : below;
}
}  // namespace

TEST_CASE("bfloat16: every value survives float32 and back, NaN stays NaN", "[bfloat16]") {
  int nans = 0;
  for (uint32_t b = 0; b < 65536; ++b) {
    bfloat16 h = bfloat16::from_bits(uint16_t(b));
    float x = h.to_float();
    bfloat16 back = bfloat16::from_float(x);
    if (std::isnan(x)) {
      ++nans;
      REQUIRE(std::isnan(back.to_float()));
      REQUIRE(std::signbit(back.to_float()) == std::signbit(x));
    } else {
      INFO("bits " << b);
      REQUIRE(back.bits == b);
    }
  }
  REQUIRE(nans == 2 * 127);  // exponent all ones, mantissa not zero, both signs
  REQUIRE(bfloat16::from_float(std::numeric_limits<float>::infinity()).bits == 0x7f80);
  REQUIRE(bfloat16::from_float(-0.0f).bits == 0x8000);
  REQUIRE(bfloat16::from_float(1.0f).to_float() == 1.0f);
}

TEST_CASE("bfloat16: float32 rounds to the nearest, ties to even, overflow to infinity", "[bfloat16]") {
  // Ties: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: to 1 (even); 1 + 3 * 2^-8 halfway between
  // 1 + 2^-7 (odd) and 1 + 2^-6: up.
  REQUIRE(bfloat16::from_float(1.0f + std::ldexp(1.0f, -8)).to_float() == 1.0f);
  REQUIRE(bfloat16::from_float(1.0f + 3 * std::ldexp(1.0f, -8)).to_float() == 1.0f + std::ldexp(1.0f, -6));
  REQUIRE(bfloat16::from_float(-1.0f - std::ldexp(1.0f, -8)).to_float() == -1.0f);
  // The largest finite bfloat16 is (2 - 2^-7) 2^127; from half a step above it, infinity.
  float largest = bfloat16::from_bits(0x7f7f).to_float();
  REQUIRE(largest == std::ldexp(2.0f - std::ldexp(1.0f, -7), 127));
  REQUIRE(std::isinf(bfloat16::from_float(std::numeric_limits<float>::max()).to_float()));
  REQUIRE(bfloat16::from_float(std::nextafter(largest, 0.0f)).to_float() == largest);
  // Fresh random float32 bit patterns over the whole range (subnormals included), against the
  // float64 reference; and the relative error of every normal one is at most 2^-8 (half a step of
  // 2^-7 relative to the power of two below it).
  std::mt19937 gen(std::random_device{}());
  int checked = 0;
  for (int i = 0; i < 1000000; ++i) {
    float x = from_bits(uint32_t(gen()));
    if (!std::isfinite(x)) continue;
    ++checked;
    bfloat16 h = bfloat16::from_float(x);
    INFO("x " << x);
    REQUIRE(h.bits == nearest(x));
    float y = h.to_float();
    if (std::isnormal(x) && std::isfinite(y) && std::abs(x) < largest)
      REQUIRE(std::abs(double(y) - x) <= std::ldexp(std::abs(double(x)), -8));
  }
  REQUIRE(checked > 990000);
}
