// A custom op written outside the library: softplus(x) = log(1 + exp(x)), with its backward.
//
// An op is a function that computes its result with grad mode off, then records itself in the
// graph with record_op: the inputs, the result, the tensors its backward needs, and the backward
// formula. Written with tensor ops, the formula is itself differentiable, so second derivatives
// work too; gradcheck and gradgradcheck compare both against finite differences in float64.
#include <cmath>
#include <cstdio>

#include <dytgrad/dytgrad.h>

using namespace dytgrad;

// softplus(x) = log(1 + exp(x));  d softplus / dx = sigmoid(x) = 1 / (1 + exp(-x))
Tensor softplus(const Tensor& x) {
  Tensor y;
  {
    NoGradGuard no_grad;  // the forward's own ops are not recorded: the op is one node
    y = log(exp(x) + 1.0);
  }
  return record_op("softplus", {x}, y, /*saved=*/{x}, [](const Tensor& grad_y, const std::vector<Tensor>& saved) {
    const Tensor& x = saved[0];
    Tensor sigmoid = 1.0 / (exp(-x) + 1.0);
    return std::vector<Tensor>{grad_y * sigmoid};  // one gradient per input
  });
}

int main() {
  // The forward against the formula, element by element, in float64.
  Tensor x = Tensor::randn({3, 5}, DType::Float64);
  std::vector<double> xs = x.to_vector<double>(), ys = softplus(x).to_vector<double>();
  double max_error = 0;
  for (size_t i = 0; i < xs.size(); ++i) max_error = std::fmax(max_error, std::fabs(ys[i] - std::log1p(std::exp(xs[i]))));
  std::printf("softplus forward: max |error| %.2e\n", max_error);

  // The gradient a user sees, like any built-in op's.
  Tensor w = Tensor::randn({3, 5}, DType::Float64).requires_grad_();
  Tensor loss = mean(softplus(w));
  loss.backward();
  std::printf("d mean(softplus(w)) / dw has shape [%lld, %lld]\n", (long long)w.grad().size(0), (long long)w.grad().size(1));

  // First and second derivatives against finite differences.
  auto f = [](const std::vector<Tensor>& inputs) { return softplus(inputs[0]); };
  Tensor input = Tensor::randn({4, 6}, DType::Float64).requires_grad_();
  GradcheckResult first = gradcheck(f, {input});
  GradcheckResult second = gradgradcheck(f, {input});
  std::printf("gradcheck: %s (max |error| %.2e)\n", first.ok ? "ok" : first.message.c_str(), first.max_abs_error);
  std::printf("gradgradcheck: %s (max |error| %.2e)\n", second.ok ? "ok" : second.message.c_str(), second.max_abs_error);
  return (max_error < 1e-12 && first.ok && second.ok) ? 0 : 1;
}
