// Backward of fused ops under create_graph. A fused op (dyt, layer_norm, softmax, cross_entropy,
// attention, gelu on the CPU) has a fused backward kernel that is fast but not itself recorded.
// When the engine records the gradient's own graph (create_graph), every such backward takes the
// same first step instead:
//
//   if (gradient_needs_graph()) return <the same gradient, from differentiable ops>;
//   ... the fused backward kernel ...
//
// The gradient from ops is one of two kinds: differentiate_composite (below: the op rebuilt from
// basic ops on its saved inputs and differentiated; dyt, derf, layer_norm, rms_norm, attention),
// or the gradient's own formula written with ops where it is short (softmax, cross_entropy, gelu).
// Either way second derivatives come for free.
#pragma once
#include <functional>
#include <vector>

#include "../tensor.h"
#include "grad_mode.h"

namespace dytgrad {

// True inside a backward while the engine records the gradient's graph (create_graph).
inline bool gradient_needs_graph() { return GradMode::is_enabled(); }

using CompositeFn = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// One gradient per input (undefined for inputs that do not require grad).
std::vector<Tensor> differentiate_composite(const CompositeFn& composite, const std::vector<Tensor>& inputs,
                                            const Tensor& grad_output);

}  // namespace dytgrad
