// CPU AdamW: one loop per tensor.
#include "kernels/adamw_math.h"
#include "kernels/cpu/parallel.h"
#include "kernels/optimizer.h"

namespace dytgrad::kernels::cpu {

template <class T> void adamw_step(const AdamWTensor* tensors, int count, const AdamWHyper& h) {
  for (int t = 0; t < count; ++t) {
    const AdamWTensor& a = tensors[t];
    T *p = static_cast<T*>(a.param), *m = static_cast<T*>(a.exp_avg), *v = static_cast<T*>(a.exp_avg_sq);
    const T* g = static_cast<const T*>(a.grad);
    DYT_PARALLEL_FOR(a.numel)
    for (int64_t i = 0; i < a.numel; ++i) adamw_element(p[i], g[i], m[i], v[i], h, a.weight_decay);
  }
}

template void adamw_step<float>(const AdamWTensor*, int, const AdamWHyper&);
template void adamw_step<double>(const AdamWTensor*, int, const AdamWHyper&);

}  // namespace dytgrad::kernels::cpu
