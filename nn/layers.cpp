#include "nn/layers.h"

#include "core/ops/ops.h"

namespace dytgrad::nn {

Linear::Linear(int64_t in, int64_t out, bool has_bias, double init_std, Generator* gen) {
  register_parameter("weight", weight, mul(Tensor::randn({out, in}, DType::Float32, Device::cpu(), gen), init_std), true);
  if (has_bias) register_parameter("bias", bias, Tensor::zeros({out}), false);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

Embedding::Embedding(int64_t vocab, int64_t dim, Generator* gen) {
  register_parameter("weight", weight, mul(Tensor::randn({vocab, dim}, DType::Float32, Device::cpu(), gen), 0.02), false);
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(weight, indices); }

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training(), gen_); }

}  // namespace dytgrad::nn
