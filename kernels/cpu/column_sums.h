// Sums over rows, per column, that come out the same for any number of threads. The rows are cut
// into blocks of a fixed size (not one block per thread); one thread fills each block's partial
// sums, in double, then the partials are added block after block in order. How the blocks are
// shared among threads changes nothing in the result.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "parallel.h"

namespace dytgrad::kernels::cpu {

constexpr int64_t kRowsPerSumBlock = 64;

// accumulate(first_row, end_row, partial) adds its rows' contributions to partial[0, width),
// which starts at zero; sums[j] = the sum over all blocks of partial[j].
template <class Accumulate>
void column_sums(int64_t rows, int64_t width, double* sums, Accumulate&& accumulate) {
  int64_t blocks = (rows + kRowsPerSumBlock - 1) / kRowsPerSumBlock;
  std::vector<double> partials(size_t(blocks * width), 0.0);
  DYT_PARALLEL_FOR(rows * width)
  for (int64_t b = 0; b < blocks; ++b)
    accumulate(b * kRowsPerSumBlock, std::min(rows, (b + 1) * kRowsPerSumBlock), partials.data() + b * width);
  std::fill(sums, sums + width, 0.0);
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t j = 0; j < width; ++j) sums[j] += partials[size_t(b * width + j)];
}

}  // namespace dytgrad::kernels::cpu
