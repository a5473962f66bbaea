// Backward of fused ops under create_graph. A fused op (dyt, layer_norm, cross_entropy, attention)
// has a fused backward kernel that is fast but not itself recorded. When the engine runs with
// create_graph, the op's backward instead rebuilds the op from basic, differentiable ops on its
// saved inputs and differentiates that with grad(..., create_graph=true). The result is the same
// gradient, now with a graph, so second derivatives come for free.
#pragma once
#include <functional>
#include <vector>

#include "../tensor.h"

namespace dytgrad {

using CompositeFn = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// One gradient per input (undefined for inputs that do not require grad).
std::vector<Tensor> differentiate_composite(const CompositeFn& composite, const std::vector<Tensor>& inputs,
                                            const Tensor& grad_output);

}  // namespace dytgrad
