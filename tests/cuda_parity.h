// What the CUDA tests of every op family share: a check that a GPU is visible (else the test says
// it skips, which CTest counts as skipped), fresh random inputs, and check_parity, which runs an op
// on the CPU and on the GPU and compares outputs and gradients. Inputs are of awkward sizes (odd
// rows and columns, sizes that do not fill a block, rows too long for the register path, batch 1).
//
// Tolerances, as relative errors max|gpu - cpu| / max|cpu|, in float32: 2e-6 for elementwise math
// (the GPU's tanhf/expf are within 2 ulp); 1e-5 for row reductions inside fused kernels (softmax,
// norms: the CPU sums in double, the GPU in float over at most a few thousand terms of similar
// size; sum/mean accumulate in double on both); 2e-3 for matmuls in TF32 (10-bit mantissa inputs).
// In float64 (the CUDA kernels' double instantiations) 1e-12 for all: the same sums in another
// order, and the GPU's double math within a few ulp.
#pragma once
#include "core/autograd/engine.h"
#include "helpers.h"

namespace dytgrad::test {

using Fn = TensorFunction;

// False, after a message that the test is skipped, when no GPU is visible: `if (!gpu_visible()) return;`
inline bool gpu_visible() {
  if (cuda_is_available()) return true;
  WARN("no CUDA device visible: skipping " << Catch::getResultCapture().getCurrentTestName());
  return false;
}

inline Tensor cpu_input(const Shape& shape, bool requires_grad = true, double scale = 1.0,
                        DType dtype = DType::Float32) {
  Tensor t = mul(Tensor::randn(shape, dtype), scale).detach();
  if (requires_grad) t.requires_grad_();
  return t;
}

// The float32 tolerance given, or float64's (1e-12).
inline double parity_tolerance(DType dtype, double float32_tolerance) {
  return dtype == DType::Float64 ? 1e-12 : float32_tolerance;
}

// Runs f on the CPU inputs and on copies of them on the GPU; compares outputs and the gradients of
// every input that requires grad, for the same random upstream gradient. gradient_floors: one per
// input that requires grad, where given: the least scale its gradient's error is measured against (max_relative_error),
// for gradients that are sums cancelling to near zero.
inline void check_parity(const char* name, const Fn& f, const std::vector<Tensor>& cpu, double tol_forward,
                         double tol_backward, const std::vector<double>& gradient_floors = {}) {
  INFO(name << " in " << dtype_name(cpu.at(0).dtype()));
  std::vector<Tensor> gpu;
  std::vector<Tensor> cpu_wrt, gpu_wrt;
  for (const Tensor& t : cpu) {
    Tensor g = t.detach().to(Device::cuda());
    if (t.requires_grad()) {
      g.requires_grad_();
      cpu_wrt.push_back(t);
      gpu_wrt.push_back(g);
    }
    gpu.push_back(g);
  }
  Tensor y_cpu = f(cpu), y_gpu = f(gpu);
  REQUIRE(y_gpu.device().is_cuda());
  REQUIRE(y_gpu.shape() == y_cpu.shape());
  CHECK_CLOSE(y_gpu, y_cpu, tol_forward);
  if (cpu_wrt.empty()) return;
  // randn draws float32 or float64; a bfloat16 output gets float32 draws rounded to bfloat16.
  DType draw = y_cpu.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
  Tensor upstream = Tensor::randn(y_cpu.shape(), draw).to(y_cpu.dtype());
  auto g_cpu = grad({y_cpu}, cpu_wrt, {upstream});
  auto g_gpu = grad({y_gpu}, gpu_wrt, {upstream.to(Device::cuda())});
  for (size_t i = 0; i < g_cpu.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(g_gpu[i].defined() == g_cpu[i].defined());
    double floor = i < gradient_floors.size() ? gradient_floors[i] : 1e-30;
    if (g_cpu[i].defined()) CHECK_CLOSE(g_gpu[i], g_cpu[i], tol_backward, floor);
  }
}

inline const std::vector<Shape> kAwkwardShapes = {{1, 1}, {37, 19}, {3, 5, 7}, {64, 256}, {33, 1024}, {5, 9000}};

}  // namespace dytgrad::test
