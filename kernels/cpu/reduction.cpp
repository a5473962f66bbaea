// CPU reductions over the middle dim of [outer, reduce, inner]. Sums accumulate in double; bfloat16
// elements are widened as they are read (exactly) and the result rounded once, through float32:
// the bits of widening the whole tensor, summing it as float32 and rounding the result.
#include "kernels/reduction.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/bfloat16.h"
#include "kernels/cpu/column_sums.h"
#include "kernels/cpu/parallel.h"

namespace dytgrad::kernels::cpu {

namespace {
template <class T> using Wide = std::conditional_t<std::is_same_v<T, bfloat16>, float, T>;  // float for bfloat16

// A sum's result stored in T: through float32 for bfloat16 (as a float32 sum rounded).
template <class T> T stored(double sum) { return element_cast<T>(Wide<T>(sum)); }

// Sum of a contiguous run in double, four interleaved accumulators (a fixed order: deterministic).
template <class T> double sum_run(const T* p, int64_t n) {
  double acc[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int lane = 0; lane < 4; ++lane) acc[lane] += element_cast<double>(p[i + lane]);
  for (; i < n; ++i) acc[0] += element_cast<double>(p[i]);
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// sum[0, n) += row[0, n) (a function of its own with restrict pointers: it vectorises).
template <class T> void add_row(const T* __restrict row, Wide<T>* __restrict sum, int64_t n) {
  for (int64_t i = 0; i < n; ++i) sum[i] += element_cast<Wide<T>>(row[i]);
}

// Adds rows [first, end) of a [rows, inner] block to acc[0, inner), row by row (unit stride).
template <class T> void add_rows(const T* x, int64_t first, int64_t end, int64_t inner, double* acc) {
  for (int64_t r = first; r < end; ++r)
    for (int64_t i = 0; i < inner; ++i) acc[i] += element_cast<double>(x[r * inner + i]);
}
}  // namespace

// Three shapes, each walking memory in order: sums of contiguous runs (inner == 1); one [reduce,
// inner] slab summed over its rows by blocks of rows in parallel (outer == 1: a bias gradient);
// else each slab by one thread. Every result is the same for any number of threads.
template <class T> void sum_dim(const T* x, T* y, int64_t outer, int64_t reduce, int64_t inner, double scale) {
  if (inner == 1) {
    DYT_PARALLEL_FOR(outer * reduce)
    for (int64_t o = 0; o < outer; ++o) y[o] = stored<T>(sum_run(x + o * reduce, reduce) * scale);
    return;
  }
  if (outer == 1) {
    std::vector<double> acc(static_cast<size_t>(inner));
    column_sums(reduce, inner, acc.data(), [&](int64_t first, int64_t end, double* partial) {
      std::vector<Wide<T>> block(static_cast<size_t>(inner), Wide<T>(0));  // the block's (<= 64) rows, then double
      for (int64_t r = first; r < end; ++r) add_row(x + r * inner, block.data(), inner);
      for (int64_t i = 0; i < inner; ++i) partial[i] += double(block[size_t(i)]);
    });
    for (int64_t i = 0; i < inner; ++i) y[i] = stored<T>(acc[size_t(i)] * scale);
    return;
  }
  DYT_PARALLEL_FOR(outer * reduce * inner)
  for (int64_t o = 0; o < outer; ++o) {
    std::vector<double> acc(size_t(inner), 0.0);
    add_rows(x + o * reduce * inner, 0, reduce, inner, acc.data());
    for (int64_t i = 0; i < inner; ++i) y[o * inner + i] = stored<T>(acc[size_t(i)] * scale);
  }
}

// Chunks of every row in parallel (sum_run each), then each row's partials in order.
template <class T> void sum_long_rows(const T* x, T* y, int64_t outer, int64_t reduce, double scale, double* partials) {
  int64_t chunks = long_row_chunks(reduce);
  DYT_PARALLEL_FOR(outer * reduce)
  for (int64_t k = 0; k < outer * chunks; ++k) {
    int64_t o = k / chunks, begin = (k % chunks) * kLongRowChunk;
    partials[k] = sum_run(x + o * reduce + begin, std::min(kLongRowChunk, reduce - begin));
  }
  for (int64_t o = 0; o < outer; ++o) {
    double total = 0;
    for (int64_t c = 0; c < chunks; ++c) total += partials[o * chunks + c];
    y[o] = stored<T>(total * scale);
  }
}

template <class T> void max_dim(const T* x, T* y, int64_t* index, int64_t outer, int64_t reduce, int64_t inner) {
  DYT_PARALLEL_FOR(outer * reduce * inner)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = x + o * reduce * inner + i;
      T best = p[0];
      int64_t at = 0;
      for (int64_t r = 1; r < reduce; ++r)
        if (p[r * inner] > best || (p[r * inner] != p[r * inner] && best == best)) {  // NaN wins, like PyTorch
          best = p[r * inner];
          at = r;
        }
      y[o * inner + i] = best;
      index[o * inner + i] = at;
    }
}

template void sum_dim<float>(const float*, float*, int64_t, int64_t, int64_t, double);
template void sum_dim<double>(const double*, double*, int64_t, int64_t, int64_t, double);
template void sum_long_rows<float>(const float*, float*, int64_t, int64_t, double, double*);
template void sum_long_rows<double>(const double*, double*, int64_t, int64_t, double, double*);
template void sum_dim<bfloat16>(const bfloat16*, bfloat16*, int64_t, int64_t, int64_t, double);
template void sum_long_rows<bfloat16>(const bfloat16*, bfloat16*, int64_t, int64_t, double, double*);
template void max_dim<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t);
template void max_dim<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t);

}  // namespace dytgrad::kernels::cpu
