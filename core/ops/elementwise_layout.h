// Builds the kernels' ElementwiseLayout for an output shape and operands that broadcast to it.
#pragma once
#include <vector>

#include "../tensor.h"
#include "../../kernels/layout.h"

namespace dytgrad {

// operands[0] is the output (its own strides are used: it may be a strided view), the rest are
// inputs whose shapes broadcast to `shape`.
kernels::ElementwiseLayout make_layout(const char* op, const Shape& shape,
                                       const std::vector<Tensor>& operands);

// Copies src (broadcast to dst's shape) into dst, converting dtype; both on dst's device.
void copy_into(const Tensor& dst, const Tensor& src);

}  // namespace dytgrad
