// CPU cross-entropy: per row, the logsumexp and the loss; backward writes softmax - onehot.
#include "kernels/loss.h"

#include <cmath>

#include "kernels/cpu/parallel.h"

namespace dytgrad::kernels::cpu {

template <class T>
int64_t cross_entropy_forward(const T* logits, const int64_t* targets, T* row_loss, T* logsumexp, int64_t rows,
                              int64_t cols, int64_t ignore_index) {
  for (int64_t r = 0; r < rows; ++r)
    if (targets[r] != ignore_index && (targets[r] < 0 || targets[r] >= cols)) return r;
  DYT_PARALLEL_FOR(rows * cols)
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = logits + r * cols;
    double m = -INFINITY, s = 0;
    for (int64_t c = 0; c < cols; ++c) m = std::max(m, double(x[c]));
    for (int64_t c = 0; c < cols; ++c) s += std::exp(double(x[c]) - m);
    double lse = m + std::log(s);
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
    bool ignored = targets[r] == ignore_index;
    for (int64_t c = 0; c < cols; ++c) {
      double p = std::exp(double(x[c]) - double(logsumexp[r]));
      d[c] = ignored ? T(0) : T(scale * (p - (c == targets[r] ? 1.0 : 0.0)));
    }
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
