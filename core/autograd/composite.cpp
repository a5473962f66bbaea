#include "core/autograd/composite.h"

#include "core/autograd/engine.h"
#include "core/autograd/grad_mode.h"

namespace dytgrad {

std::vector<Tensor> differentiate_composite(const CompositeFn& composite, const std::vector<Tensor>& inputs,
                                            const Tensor& grad_output) {
  std::vector<Tensor> wrt;
  std::vector<size_t> where;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) {
      wrt.push_back(inputs[i]);
      where.push_back(i);
    }
  std::vector<Tensor> grads(inputs.size());
  if (wrt.empty()) return grads;
  GradModeGuard on(true);
  Tensor out = composite(inputs);
  std::vector<Tensor> found = grad({out}, wrt, {grad_output}, /*retain_graph=*/true, /*create_graph=*/true);
  for (size_t j = 0; j < where.size(); ++j) grads[where[j]] = found[j];
  return grads;
}

}  // namespace dytgrad
