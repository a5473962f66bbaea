// CPU cross-entropy: per row, the logsumexp and the loss; backward writes softmax - onehot.
// exp through vector_math (SLEEF), a block of the row at a time; sums in double (row_math.h).
// Forward reads the logits twice (max, exp); backward reads them once and writes dlogits.
#include "kernels/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/row_math.h"
#include "kernels/cpu/vector_math.h"

namespace dytgrad::kernels::cpu {

template <class T>
int64_t cross_entropy_forward(const T* logits, const int64_t* targets, T* row_loss, T* logsumexp, int64_t rows,
                              int64_t cols, int64_t ignore_index) {
  for (int64_t r = 0; r < rows; ++r)
    if (targets[r] != ignore_index && (targets[r] < 0 || targets[r] >= cols)) return r;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = logits + r * cols;
    T m = row_max(x, cols), e[vector_math::kBlock];
    double sum = 0;
    for (int64_t c0 = 0; c0 < cols; c0 += vector_math::kBlock) {
      int64_t n = std::min(vector_math::kBlock, cols - c0);
      for (int64_t i = 0; i < n; ++i) e[i] = x[c0 + i] - m;
      vector_math::exp(e, e, n);
      sum += row_sum(e, n);
    }
    double lse = double(m) + std::log(sum);
    logsumexp[r] = T(lse);
    row_loss[r] = targets[r] == ignore_index ? T(0) : T(lse - double(x[targets[r]]));
  }
  return -1;
}

template <class T>
void cross_entropy_backward(const T* logits, const int64_t* targets, const T* logsumexp, const T* grad_loss,
                            double inv_count, T* dlogits, int64_t rows, int64_t cols, int64_t ignore_index) {
  double scale = double(*grad_loss) * inv_count;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = logits + r * cols;
    T* d = dlogits + r * cols;
    if (targets[r] == ignore_index) {
      std::fill(d, d + cols, T(0));
      continue;
    }
    const T lse = logsumexp[r], s = T(scale);
    for (int64_t c = 0; c < cols; ++c) d[c] = x[c] - lse;
    vector_math::exp(d, d, cols);
    for (int64_t c = 0; c < cols; ++c) d[c] *= s;
    d[targets[r]] -= s;
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
