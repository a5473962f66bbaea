// Finite-difference checks of analytic gradients, in float64.
//
// gradcheck(f, inputs): for a function of tensors returning one tensor y, compares the analytic
// gradient of L = sum(y * w) (w a fixed random tensor) with respect to every input that requires
// grad against central differences (L(x + eps e_i) - L(x - eps e_i)) / 2 eps, element by element.
// gradgradcheck does the same for the function "inputs -> sum_j <dL/dx_j, v_j>", which is
// computed with create_graph and so checks second derivatives.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "../tensor.h"

namespace dytgrad {

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
  uint64_t seed = 1234;  // for the projection tensors w and v
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  std::string message;  // which input and element failed, analytic vs numeric
};

GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});
GradcheckResult gradgradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace dytgrad
