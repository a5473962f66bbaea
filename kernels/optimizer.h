// Optimiser updates, in place, over many tensors at once, and the gradients' global norm. The CUDA
// side packs up to kTensorsPerLaunch tensors into one launch (a multi-tensor launch), so a model's
// whole parameter list is updated (or its norm taken) in a few launches.
#pragma once
#include <cstdint>

namespace dytgrad::kernels {

struct AdamWTensor {
  void* param;
  const void* grad;
  void* exp_avg;     // m
  void* exp_avg_sq;  // v
  int64_t numel;
  double weight_decay;
};

struct AdamWHyper {
  double lr, beta1, beta2, eps;
  double bias_correction1, bias_correction2;  // 1 - beta1^step, 1 - beta2^step
};

// For adamw_step_clipped: the gradients' squared global norm (sum_of_squares' total, on the tensors'
// device, read there) and the norm they may have.
struct GradClip {
  const double* sq_norm;
  double max_norm;
};

constexpr int kTensorsPerLaunch = 48;

struct SquaresTensor {
  const void* data;
  int64_t numel;
};

// sum_of_squares cuts each tensor into chunks of kSquaresChunk elements (the last one shorter),
// numbered tensor after tensor; squares_chunks counts them.
constexpr int64_t kSquaresChunk = 16384;
inline int64_t squares_chunks(const SquaresTensor* tensors, int count) {
  int64_t chunks = 0;
  for (int t = 0; t < count; ++t) chunks += (tensors[t].numel + kSquaresChunk - 1) / kSquaresChunk;
  return chunks;
}

// adamw_step, for each tensor:  p -= lr * wd * p                       (decoupled weight decay)
//                               m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
//                               p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
// adamw_step_clipped: the same with every g replaced by g * clip_factor(*sq_norm, max_norm)
//                               (adamw_math.h; rounded to T, as clip_grad_norm's scaling would)
//                               and g itself left as it is. Same traffic, plus 8 bytes per block.
//                               With h a pointer, the hyperparameters are read from the tensors'
//                               memory when the update runs (48 more bytes per block).
// sum_of_squares: *total = sum over every element x of every tensor of x^2, accumulated in double
// (the squared global gradient norm). partials[c] is chunk c's sum, then *total sums the partials
// in their order: the same bits for any thread count or launch shape on a backend. Traffic: reads
// every element once; partials and total (squares_chunks + 1 doubles) live on the tensors' device.
#define DYT_DECLARE_OPTIMIZER_KERNELS                                                             \
  template <class T> void adamw_step(const AdamWTensor* tensors, int count, const AdamWHyper& h); \
  template <class T>                                                                               \
  void adamw_step_clipped(const AdamWTensor* tensors, int count, const AdamWHyper& h, const GradClip& clip); \
  template <class T>                                                                               \
  void adamw_step_clipped(const AdamWTensor* tensors, int count, const AdamWHyper* h, const GradClip& clip); \
  template <class T> void sum_of_squares(const SquaresTensor* tensors, int count, double* partials, double* total);

namespace cpu { DYT_DECLARE_OPTIMIZER_KERNELS }
namespace cuda { DYT_DECLARE_OPTIMIZER_KERNELS }

}  // namespace dytgrad::kernels
