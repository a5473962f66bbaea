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
  uint64_t take(uint64_t n) {
    uint64_t o = offset_ + uint64_t(shard_index_) * n;
    offset_ += n * uint64_t(shard_count_);
    return o;
  }
  // Data parallelism: process `index` of `count` draws its part of what one process would draw for
  // the whole batch. Each take(n) then reserves count x n counters (the whole batch's, the same on
  // every process) and returns the first of part `index`: the dropout masks of this process's rows
  // of the batch are those one process would draw for them.
  void set_shard(int index, int count) { shard_index_ = index, shard_count_ = count; }

  static Generator& default_generator();

 private:
  uint64_t seed_ = 0, offset_ = 0;
  int shard_index_ = 0, shard_count_ = 1;
};

// Reseeds the default generator.
void manual_seed(uint64_t seed);

}  // namespace dytgrad
