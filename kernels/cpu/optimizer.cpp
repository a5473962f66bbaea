// CPU AdamW: one loop per tensor (the clipping step reads the norm once, before them). The sum of
// squares: the chunks of every tensor in parallel, then their partial sums in order.
#include <algorithm>
#include <vector>

#include "kernels/adamw_math.h"
#include "kernels/cpu/parallel.h"
#include "kernels/optimizer.h"

namespace dytgrad::kernels::cpu {

namespace {

// Every tensor's update with its gradient scaled (by 1 when not clipping: the same bits as unscaled).
template <class T> void adamw_with_scaled_grads(const AdamWTensor* tensors, int count, const AdamWHyper& h, T scale) {
  for (int t = 0; t < count; ++t) {
    const AdamWTensor& a = tensors[t];
    T *p = static_cast<T*>(a.param), *m = static_cast<T*>(a.exp_avg), *v = static_cast<T*>(a.exp_avg_sq);
    const T* g = static_cast<const T*>(a.grad);
    DYT_PARALLEL_FOR(a.numel)
    for (int64_t i = 0; i < a.numel; ++i) adamw_element(p[i], T(g[i] * scale), m[i], v[i], h, a.weight_decay);
  }
}

}  // namespace

template <class T> void adamw_step(const AdamWTensor* tensors, int count, const AdamWHyper& h) {
  adamw_with_scaled_grads(tensors, count, h, T(1));
}

template <class T>
void adamw_step_clipped(const AdamWTensor* tensors, int count, const AdamWHyper& h, const GradClip& clip) {
  adamw_with_scaled_grads(tensors, count, h, T(clip_factor(*clip.sq_norm, clip.max_norm)));
}

template <class T>
void adamw_step_clipped(const AdamWTensor* tensors, int count, const AdamWHyper* h, const GradClip& clip) {
  adamw_step_clipped<T>(tensors, count, *h, clip);
}

namespace {

// x[0..n)'s sum of squares in double, in 8 running sums (element i goes to sum i % 8) added at the
// end in a fixed order, so that the loop vectorises and the result is the same on every run.
template <class T> double chunk_sum_of_squares(const T* x, int64_t n) {
  constexpr int kLanes = 8;
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] += double(x[i + j]) * double(x[i + j]);
  for (; i < n; ++i) lanes[i % kLanes] += double(x[i]) * double(x[i]);
  double sum = 0;
  for (double lane : lanes) sum += lane;
  return sum;
}

}  // namespace

template <class T> void sum_of_squares(const SquaresTensor* tensors, int count, double* partials, double* total) {
  struct Chunk {
    const T* x;
    int64_t n;
  };
  std::vector<Chunk> chunks;
  for (int t = 0; t < count; ++t)
    for (int64_t begin = 0; begin < tensors[t].numel; begin += kSquaresChunk)
      chunks.push_back({static_cast<const T*>(tensors[t].data) + begin, std::min(kSquaresChunk, tensors[t].numel - begin)});
  int64_t n = int64_t(chunks.size());
  DYT_PARALLEL_FOR(n * kSquaresChunk)
  for (int64_t c = 0; c < n; ++c) partials[c] = chunk_sum_of_squares(chunks[size_t(c)].x, chunks[size_t(c)].n);
  double sum = 0;
  for (int64_t c = 0; c < n; ++c) sum += partials[c];
  *total = sum;
}

template void adamw_step<float>(const AdamWTensor*, int, const AdamWHyper&);
template void adamw_step<double>(const AdamWTensor*, int, const AdamWHyper&);
template void adamw_step_clipped<float>(const AdamWTensor*, int, const AdamWHyper&, const GradClip&);
template void adamw_step_clipped<double>(const AdamWTensor*, int, const AdamWHyper&, const GradClip&);
template void adamw_step_clipped<float>(const AdamWTensor*, int, const AdamWHyper*, const GradClip&);
template void adamw_step_clipped<double>(const AdamWTensor*, int, const AdamWHyper*, const GradClip&);
template void sum_of_squares<float>(const SquaresTensor*, int, double*, double*);
template void sum_of_squares<double>(const SquaresTensor*, int, double*, double*);

}  // namespace dytgrad::kernels::cpu
