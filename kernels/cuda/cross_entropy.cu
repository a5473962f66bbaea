// Fused cross-entropy, one block per row.
// Forward: each thread keeps a running (max, sum of exp) over its share of the row (the online
//   softmax recurrence), the block merges them: logsumexp in one read of the logits. The loss of
//   the row is lse - x[target]. Traffic: read the logits once; write 2 floats per row.
// Backward: dlogits = scale * (exp(x - lse) - onehot(target)), 0 for ignored rows.
// float rows whose length is a multiple of 4 use 16-byte loads and stores.
//   Traffic: read the logits once, write dlogits once. Probabilities are never stored.
// Invalid targets are reported through a device flag (the first bad row), checked on the host.
// bfloat16 logits (mixed precision) go through the generic kernels with float32 math: 2 bytes an
// element read (and written by the backward), float32 losses and logsumexps.
#include "kernels/cuda/launch.cuh"
#include "kernels/cross_entropy.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

// X: the logits' type (float, double, or bfloat16 with T float); T: the math and the statistics.
template <class X, class T>
__global__ void cross_entropy_forward_kernel(const X* logits, const int64_t* targets, T* row_loss, T* logsumexp,
                                             int64_t cols, int64_t ignore_index, unsigned long long* bad_row) {
  __shared__ T scratch[32];
  int64_t r = blockIdx.x;
  const X* x = logits + r * cols;
  T m = -INFINITY, s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) online_add(m, s, element_cast<T>(x[c]));
  online_merge(m, s, scratch);
  if (threadIdx.x == 0) {
    T lse = m + log(s);
    int64_t t = targets[r];
    logsumexp[r] = lse;
    bool ignored = t == ignore_index, valid = t >= 0 && t < cols;
    if (!ignored && !valid) atomicMin(bad_row, static_cast<unsigned long long>(r));  // integer min: order-free
    row_loss[r] = ignored || !valid ? T(0) : lse - element_cast<T>(x[t]);
  }
}

template <class X, class T>
__global__ void cross_entropy_backward_kernel(const X* logits, const int64_t* targets, const T* logsumexp,
                                              const T* grad_loss, T inv_count, X* dlogits, int64_t cols,
                                              int64_t ignore_index) {
  int64_t r = blockIdx.x, t = targets[r];
  const X* x = logits + r * cols;
  X* d = dlogits + r * cols;
  T scale = *grad_loss * inv_count, lse = logsumexp[r];
  bool ignored = t == ignore_index;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    d[c] = element_cast<X>(ignored ? T(0) : scale * (exp(element_cast<T>(x[c]) - lse) - (c == t ? T(1) : T(0))));
}

// float rows with cols % 4 == 0: the same recurrences over 16-byte chunks.
__global__ void cross_entropy_forward_vec4(const float* logits, const int64_t* targets, float* row_loss,
                                           float* logsumexp, int64_t cols, int64_t ignore_index,
                                           unsigned long long* bad_row) {
  __shared__ float scratch[32];
  int64_t r = blockIdx.x;
  const float4* x = reinterpret_cast<const float4*>(logits + r * cols);
  float m = -INFINITY, s = 0;
  for (int64_t c = threadIdx.x; c < cols / 4; c += blockDim.x) {
    float4 v = x[c];
    float m_new = fmaxf(m, fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w)));
    if (m_new == -INFINITY) continue;  // all -inf so far: nothing to add
    s = s * expf(m - m_new) + ((expf(v.x - m_new) + expf(v.y - m_new)) + (expf(v.z - m_new) + expf(v.w - m_new)));
    m = m_new;
  }
  online_merge(m, s, scratch);
  if (threadIdx.x == 0) {
    float lse = m + logf(s);
    int64_t t = targets[r];
    logsumexp[r] = lse;
    bool ignored = t == ignore_index, valid = t >= 0 && t < cols;
    if (!ignored && !valid) atomicMin(bad_row, static_cast<unsigned long long>(r));
    row_loss[r] = ignored || !valid ? 0.f : lse - logits[r * cols + t];
  }
}

__global__ void cross_entropy_backward_vec4(const float* logits, const int64_t* targets, const float* logsumexp,
                                            const float* grad_loss, float inv_count, float* dlogits, int64_t cols,
                                            int64_t ignore_index) {
  int64_t r = blockIdx.x, t = targets[r];
  const float4* x = reinterpret_cast<const float4*>(logits + r * cols);
  float4* d = reinterpret_cast<float4*>(dlogits + r * cols);
  float scale = t == ignore_index ? 0.f : *grad_loss * inv_count, lse = logsumexp[r];
  for (int64_t c = threadIdx.x; c < cols / 4; c += blockDim.x) {
    float4 v = x[c];
    int64_t c0 = 4 * c;
    d[c] = make_float4(scale * (expf(v.x - lse) - (c0 == t ? 1.f : 0.f)), scale * (expf(v.y - lse) - (c0 + 1 == t ? 1.f : 0.f)),
                       scale * (expf(v.z - lse) - (c0 + 2 == t ? 1.f : 0.f)), scale * (expf(v.w - lse) - (c0 + 3 == t ? 1.f : 0.f)));
  }
}

bool vectorizable(int64_t cols, const void* a, const void* b) {
  return cols % 4 == 0 && ((reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b)) & 15) == 0;
}

}  // namespace

template <class T>
int64_t cross_entropy_forward(const T* logits, const int64_t* targets, T* row_loss, T* logsumexp, int64_t rows,
                              int64_t cols, int64_t ignore_index) {
  if (rows == 0) return -1;
  FirstBadPosition first_bad;
  unsigned long long* bad = first_bad.device();
  bool vec4 = false;
  if constexpr (std::is_same_v<T, float>) {
    if ((vec4 = vectorizable(cols, logits, logits)))
      cross_entropy_forward_vec4<<<unsigned(rows), kThreads, 0, stream()>>>(
          logits, targets, row_loss, logsumexp, cols, ignore_index, bad);
  }
  if (!vec4)
    cross_entropy_forward_kernel<<<unsigned(rows), kThreads, 0, stream()>>>(
        logits, targets, row_loss, logsumexp, cols, ignore_index, bad);
  DYT_CUDA_LAUNCHED();
  return first_bad.read();
}

template <class T>
void cross_entropy_backward(const T* logits, const int64_t* targets, const T* logsumexp, const T* grad_loss,
                            double inv_count, T* dlogits, int64_t rows, int64_t cols, int64_t ignore_index) {
  if (rows == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (vectorizable(cols, logits, dlogits)) {
      cross_entropy_backward_vec4<<<unsigned(rows), kThreads, 0, stream()>>>(logits, targets, logsumexp, grad_loss, float(inv_count),
                                                                dlogits, cols, ignore_index);
      DYT_CUDA_LAUNCHED();
      return;
    }
  }
  cross_entropy_backward_kernel<<<unsigned(rows), kThreads, 0, stream()>>>(logits, targets, logsumexp, grad_loss, T(inv_count),
                                                              dlogits, cols, ignore_index);
  DYT_CUDA_LAUNCHED();
}

// bfloat16 logits: the generic kernels with float math (2-byte loads, one rounding per dlogit).
int64_t cross_entropy_forward(const bfloat16* logits, const int64_t* targets, float* row_loss, float* logsumexp,
                              int64_t rows, int64_t cols, int64_t ignore_index) {
  if (rows == 0) return -1;
  FirstBadPosition first_bad;
  cross_entropy_forward_kernel<<<unsigned(rows), kThreads, 0, stream()>>>(logits, targets, row_loss, logsumexp, cols, ignore_index,
                                                             first_bad.device());
  DYT_CUDA_LAUNCHED();
  return first_bad.read();
}

void cross_entropy_backward(const bfloat16* logits, const int64_t* targets, const float* logsumexp,
                            const float* grad_loss, double inv_count, bfloat16* dlogits, int64_t rows, int64_t cols,
                            int64_t ignore_index) {
  if (rows == 0) return;
  cross_entropy_backward_kernel<<<unsigned(rows), kThreads, 0, stream()>>>(logits, targets, logsumexp, grad_loss, float(inv_count),
                                                              dlogits, cols, ignore_index);
  DYT_CUDA_LAUNCHED();
}

template int64_t cross_entropy_forward<float>(const float*, const int64_t*, float*, float*, int64_t, int64_t, int64_t);
template int64_t cross_entropy_forward<double>(const double*, const int64_t*, double*, double*, int64_t, int64_t,
                                               int64_t);
template void cross_entropy_backward<float>(const float*, const int64_t*, const float*, const float*, double, float*,
                                            int64_t, int64_t, int64_t);
template void cross_entropy_backward<double>(const double*, const int64_t*, const double*, const double*, double,
                                             double*, int64_t, int64_t, int64_t);

}  // namespace dytgrad::kernels::cuda
