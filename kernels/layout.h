// How an elementwise kernel finds its operands: all operands are walked over one common shape
// (the broadcast shape); operand 0 is the output, the others are inputs. Each operand has its own
// strides over that shape (0 along broadcast dims). Pointers passed with a layout already include
// the tensors' storage offsets. Kernels take a fast path when every operand is contiguous.
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define DYT_HOST_DEVICE __host__ __device__
#else
#define DYT_HOST_DEVICE
#endif

namespace dytgrad::kernels {

constexpr int kMaxDims = 8;
constexpr int kMaxOperands = 4;

struct ElementwiseLayout {
  int ndim = 0;
  int num_operands = 0;
  int64_t numel = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxOperands][kMaxDims] = {};
  bool all_contiguous = false;

  // Element offset of operand `op` for the element at linear (row-major) position `linear`.
  DYT_HOST_DEVICE int64_t offset(int op, int64_t linear) const {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      int64_t i = linear % shape[d];
      linear /= shape[d];
      off += i * strides[op][d];
    }
    return off;
  }
};

}  // namespace dytgrad::kernels
