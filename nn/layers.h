// The basic layers: Linear, Embedding, Dropout.
#pragma once
#include "../core/random.h"
#include "module.h"

namespace dytgrad::nn {

// y = x W^T + b over the last dim; W is [out, in]. Initialised N(0, init_std^2), b = 0.
class Linear : public UnaryModule {
 public:
  Linear(int64_t in, int64_t out, bool bias = true, double init_std = 0.02, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
};

// Rows of a [vocab, dim] table, N(0, 0.02^2).
class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, Generator* gen = nullptr);
  Tensor forward(const Tensor& indices);
  Tensor weight;
};

class Dropout : public UnaryModule {
 public:
  explicit Dropout(double p, Generator* gen = nullptr) : p_(p), gen_(gen) {}
  Tensor forward(const Tensor& x) override;

 private:
  double p_;
  Generator* gen_;
};

}  // namespace dytgrad::nn
