// Seeded random-number generators. A Generator is a seed plus a counter: every draw of n numbers
// takes counters [offset, offset + n) and advances the offset, so a seed fixes every number drawn
// after it, on either backend (see kernels/random_bits.h).
#pragma once
#include <cstdint>

namespace dytgrad {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  void manual_seed(uint64_t seed) { seed_ = seed; offset_ = 0; }
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t offset) { offset_ = offset; }
  // Reserves n counters and returns the first.
  uint64_t take(uint64_t n) { uint64_t o = offset_; offset_ += n; return o; }

  static Generator& default_generator();

 private:
  uint64_t seed_ = 0, offset_ = 0;
};

// Reseeds the default generator.
void manual_seed(uint64_t seed);

}  // namespace dytgrad
