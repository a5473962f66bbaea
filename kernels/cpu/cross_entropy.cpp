// CPU cross-entropy: per row, the logsumexp and the loss; backward writes softmax - onehot.
// exp through vector_math (SLEEF), a block of the row at a time; sums in double (row_math.h).
// Forward reads the logits twice (max, exp); backward reads them once and writes dlogits.
// bfloat16 logits: each row is widened into a float32 buffer (in cache) and the float32 code runs
// on it, so the results are the float32 kernel's on the widened logits, dlogits rounded once.
// Traffic: 2 bytes an element each way, where a cast to float32 and back would add 12.
#include "kernels/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/row_math.h"
#include "kernels/cpu/vector_math.h"

namespace dytgrad::kernels::cpu {

namespace {

bool valid_target(int64_t t, int64_t cols, int64_t ignore_index) { return t == ignore_index || (t >= 0 && t < cols); }

// One row: its logsumexp and loss (0 when ignored).
template <class T> void row_forward(const T* x, int64_t cols, int64_t target, int64_t ignore_index, T& loss, T& lse_out) {
  T m = row_max(x, cols), e[vector_math::kBlock];
  double sum = 0;
  for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
    int64_t n = std::min(vector_math::kBlock, cols - c0);
    for (int64_t i = 0; i < n; ++i) e[i] = x[c0 + i] - m;
    vector_math::exp(e, e, n);
    sum += row_sum(e, n);
  }
  double lse = double(m) + std::log(sum);
  lse_out = T(lse);
  loss = target == ignore_index ? T(0) : T(lse - double(x[target]));
}

// One row's dlogits = s * (exp(x - lse) - onehot(target)), d may be x.
template <class T> void row_backward(const T* x, int64_t cols, int64_t target, int64_t ignore_index, T lse, T s, T* d) {
  if (target == ignore_index) {
    std::fill(d, d + cols, T(0));
    return;
  }
  for (int64_t c = 0; c < cols; ++c) d[c] = x[c] - lse;
  vector_math::exp(d, d, cols);
  for (int64_t c = 0; c < cols; ++c) d[c] *= s;
  d[target] -= s;
}

// A row of bfloat16 logits widened into this thread's float32 buffer.
float* widened_row(const bfloat16* x, int64_t cols) {
  thread_local std::vector<float> buffer;
  buffer.resize(size_t(cols));
  for (int64_t c = 0; c < cols; ++c) buffer[size_t(c)] = x[c].to_float();
  return buffer.data();
}

int64_t first_bad_row(const int64_t* targets, int64_t rows, int64_t cols, int64_t ignore_index) {
  for (int64_t r = 0; r < rows; ++r)
    if (!valid_target(targets[r], cols, ignore_index)) return r;
  return -1;
}

}  // namespace

template <class T>
int64_t cross_entropy_forward(const T* logits, const int64_t* targets, T* row_loss, T* logsumexp, int64_t rows,
                              int64_t cols, int64_t ignore_index) {
  if (int64_t bad = first_bad_row(targets, rows, cols, ignore_index); bad >= 0) return bad;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r)
    row_forward(logits + r * cols, cols, targets[r], ignore_index, row_loss[r], logsumexp[r]);
  return -1;
}

int64_t cross_entropy_forward(const bfloat16* logits, const int64_t* targets, float* row_loss, float* logsumexp,
                              int64_t rows, int64_t cols, int64_t ignore_index) {
  if (int64_t bad = first_bad_row(targets, rows, cols, ignore_index); bad >= 0) return bad;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r)
    row_forward(widened_row(logits + r * cols, cols), cols, targets[r], ignore_index, row_loss[r], logsumexp[r]);
  return -1;
}

template <class T>
void cross_entropy_backward(const T* logits, const int64_t* targets, const T* logsumexp, const T* grad_loss,
                            double inv_count, T* dlogits, int64_t rows, int64_t cols, int64_t ignore_index) {
  const T s = T(double(*grad_loss) * inv_count);
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r)
    row_backward(logits + r * cols, cols, targets[r], ignore_index, logsumexp[r], s, dlogits + r * cols);
}

void cross_entropy_backward(const bfloat16* logits, const int64_t* targets, const float* logsumexp,
                            const float* grad_loss, double inv_count, bfloat16* dlogits, int64_t rows, int64_t cols,
                            int64_t ignore_index) {
  const float s = float(double(*grad_loss) * inv_count);
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    float* d = widened_row(logits + r * cols, cols);
    row_backward(d, cols, targets[r], ignore_index, logsumexp[r], s, d);
    for (int64_t c = 0; c < cols; ++c) dlogits[r * cols + c] = bfloat16::from_float(d[c]);
  }
}

template int64_t cross_entropy_forward<float>(const float*, const int64_t*, float*, float*, int64_t, int64_t, int64_t);
template int64_t cross_entropy_forward<double>(const double*, const int64_t*, double*, double*, int64_t, int64_t,
                                               int64_t);
template void cross_entropy_backward<float>(const float*, const int64_t*, const float*, const float*, double, float*,
                                            int64_t, int64_t, int64_t);
template void cross_entropy_backward<double>(const double*, const int64_t*, const double*, const double*, double,
                                             double*, int64_t, int64_t, int64_t);

}  // namespace dytgrad::kernels::cpu
