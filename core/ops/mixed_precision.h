// How an op takes part in mixed precision (core/ops/autocast.h): one call at its top,
//   if (auto y = in_precision(Precision::BFloat16Result, {x, alpha, gamma, beta}, redo)) return *y;
// where redo(inputs) calls the op again. It returns nothing when the op should run as it is, or the
// op's result computed on its inputs cast as the rules say.
//
// bfloat16 math: the GEMM has bfloat16 kernels (matmul runs them: Precision::BFloat16Kernel); DyT
// and the unary and binary elementwise ops have kernels that compute in float32 and round once
// (their front-ends call them without this). Every other op handed only bfloat16 floating inputs
// runs on float32 copies and rounds its
// floating result to bfloat16: the result of a bfloat16 kernel that loads, computes in float32
// and rounds once when it stores (what the CUDA kernels to come do; they may differ by the order
// of their sums). The casts are recorded, so the gradient takes the same way back and reaches each
// input in its dtype.
#pragma once
#include <optional>
#include <vector>

#include "core/ops/autocast.h"
#include "core/tensor.h"

namespace dytgrad {

using Tensors = std::vector<Tensor>;

enum class Precision {
  BFloat16Kernel,  // matmul, linear: inputs rounded to bfloat16, the op's bfloat16 kernels (float32 accumulation)
  BFloat16,        // attention without bfloat16 kernels: inputs rounded to bfloat16, float32 math,
                   // bfloat16 result
  BFloat16Result,  // DyT, Derf: float32 math on the inputs as they are, the result rounded to bfloat16
                   // (DyT in one kernel: wants_bfloat16_result)
  Float32,         // softmax, losses, LayerNorm, RMSNorm, sums: float32 inputs and result
  AsGiven,         // every other op: the inputs' dtype
};

// The inputs' floating tensors cast to `dtype` (the others as they are).
std::vector<Tensor> floating_as(const std::vector<Tensor>& inputs, DType dtype);

struct FloatingInputs {
  bool any = false, all_bfloat16 = true;
};
FloatingInputs floating_inputs(const std::vector<Tensor>& inputs);

// For an op of Precision::BFloat16Result with its own kernel that computes in float32 and rounds
// its result to bfloat16 (DyT): whether to run it (autocast is on, or the floating inputs are all
// bfloat16), in place of in_precision's cast, float32 op, cast.
bool wants_bfloat16_result(const std::vector<Tensor>& inputs);

template <class Redo>
std::optional<Tensor> in_precision(Precision precision, const std::vector<Tensor>& inputs, Redo redo) {
  auto [any_floating, all_bfloat16] = floating_inputs(inputs);
  if (!any_floating) return std::nullopt;
  bool autocast = Autocast::is_enabled() && precision != Precision::AsGiven;
  bool bfloat16_kernel = precision == Precision::BFloat16Kernel;
  // float32 / float64 kernels, or the op's bfloat16 kernels; mixed dtypes outside autocast are the op's error
  if (!autocast && (!all_bfloat16 || bfloat16_kernel)) return std::nullopt;
  bool round_inputs = autocast && (bfloat16_kernel || precision == Precision::BFloat16);
  std::vector<Tensor> in = round_inputs ? floating_as(inputs, DType::BFloat16) : inputs;
  Tensor y;
  {
    AutocastGuard no_autocast(false);
    y = redo(bfloat16_kernel ? in : floating_as(in, DType::Float32));
  }
  bool float32_result = autocast && precision == Precision::Float32;
  return float32_result || !is_floating(y.dtype()) ? y : y.to(DType::BFloat16);
}

}  // namespace dytgrad
