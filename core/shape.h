// Shapes and strides: plain vectors of int64 with the few helpers every op needs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dytgrad {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);              // "[2, 3]"
// Wraps a possibly negative dim into [0, ndim); `op` names the caller in the error message.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// The numpy broadcast of two shapes, or an Error naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace dytgrad
