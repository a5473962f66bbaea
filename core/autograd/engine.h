// The backward pass: reverse-mode differentiation over the recorded graph.
#pragma once
#include <vector>

#include "../tensor.h"

namespace dytgrad {

// Accumulates d(sum_i <outputs[i], grad_outputs[i]>)/d(leaf) into every leaf's .grad.
// A grad_output may be undefined for a one-element output (it is then 1).
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

// Returns d(sum_i <outputs[i], grad_outputs[i]>)/d(inputs[j]) for each j without touching any
// .grad (undefined where an input does not influence the outputs). With create_graph the result
// is itself differentiable. Like torch.autograd.grad. By default the graph is kept
// (retain_graph defaults to create_graph in PyTorch; here it defaults to true, the safer choice).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = true,
                         bool create_graph = false);

}  // namespace dytgrad
