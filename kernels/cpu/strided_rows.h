// The strided walk of the CPU elementwise kernels, by rows: the operands' offsets are worked out
// (one division per dimension) once per run of the innermost dimension, not once per element, and
// each run is handed to the kernel with its length and the operands' inner strides, so that the
// common unit-stride and broadcast-scalar runs compile to plain vectorisable loops.
#pragma once
#include "parallel.h"
#include "../layout.h"

namespace dytgrad::kernels::cpu {

// body(const int64_t* offsets, int64_t count, const int64_t* inner_strides), offsets per operand.
template <class Body> void for_each_row(const ElementwiseLayout& L, Body&& body) {
  int last = L.ndim - 1;
  int64_t inner = L.ndim > 0 ? L.shape[last] : 1;
  int64_t rows = inner > 0 ? L.numel / inner : 0;
  int64_t inner_strides[kMaxOperands] = {};
  for (int op = 0; op < L.num_operands; ++op) inner_strides[op] = L.ndim > 0 ? L.strides[op][last] : 0;
  DYT_PARALLEL_FOR(L.numel)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t offsets[kMaxOperands] = {};
    int64_t rest = r;
    for (int d = last - 1; d >= 0; --d) {
      int64_t i = rest % L.shape[d];
      rest /= L.shape[d];
      for (int op = 0; op < L.num_operands; ++op) offsets[op] += i * L.strides[op][d];
    }
    body(offsets, inner, inner_strides);
  }
}

}  // namespace dytgrad::kernels::cpu
