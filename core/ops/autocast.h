// Mixed precision, as PyTorch's autocast: inside an AutocastGuard the matmuls (matmul, linear,
// attention) round their inputs to bfloat16 and give bfloat16 results (float32 accumulation; matmul
// and linear through the bfloat16 GEMM, forward and backward), DyT
// and Derf compute in float32 and round their results to bfloat16, and the ops that need range or
// precision (softmax, log_softmax, cross_entropy, layer_norm, rms_norm, sum, mean) compute in and
// give float32. Every other op runs in the dtype of its inputs; where bfloat16 meets float32 (a
// bfloat16 branch added to the float32 residual stream) it computes in float32. Parameters stay
// float32 (the master weights): each use casts them, and the cast's gradient brings a float32
// gradient back to them, so the optimizer is unchanged. The backward runs without autocast, in
// the dtypes the forward chose. docs/ARCHITECTURE.md, "Mixed precision", has the table.
#pragma once

namespace dytgrad {

class Autocast {
 public:
  static bool is_enabled();  // bfloat16 autocast on in this thread
  static void set_enabled(bool enabled);
};

class AutocastGuard {
 public:
  explicit AutocastGuard(bool enabled = true) : previous_(Autocast::is_enabled()) { Autocast::set_enabled(enabled); }
  ~AutocastGuard() { Autocast::set_enabled(previous_); }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace dytgrad
