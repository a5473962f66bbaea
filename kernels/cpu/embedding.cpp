// CPU embedding: row copies forward; backward adds rows in index order (deterministic), with
// threads splitting the feature dim so that no two threads touch the same element.
#include "kernels/embedding.h"

#include <cstring>

#include "kernels/cpu/parallel.h"

namespace dytgrad::kernels::cpu {

template <class T>
int64_t embedding_forward(const T* weight, const int64_t* index, T* out, int64_t count, int64_t vocab, int64_t dim) {
  for (int64_t i = 0; i < count; ++i)
    if (index[i] < 0 || index[i] >= vocab) return i;
  DYT_PARALLEL_FOR(count * dim)
  for (int64_t i = 0; i < count; ++i) std::memcpy(out + i * dim, weight + index[i] * dim, size_t(dim) * sizeof(T));
  return -1;
}

template <class T>
void embedding_backward(const T* dout, const int64_t* index, T* dweight, int64_t count, int64_t vocab, int64_t dim) {
  std::memset(dweight, 0, size_t(vocab * dim) * sizeof(T));
  DYT_PARALLEL_FOR(count * dim)
  for (int64_t c = 0; c < dim; ++c)
    for (int64_t i = 0; i < count; ++i) dweight[index[i] * dim + c] += dout[i * dim + c];
}

template int64_t embedding_forward<float>(const float*, const int64_t*, float*, int64_t, int64_t, int64_t);
template int64_t embedding_forward<double>(const double*, const int64_t*, double*, int64_t, int64_t, int64_t);
template void embedding_backward<float>(const float*, const int64_t*, float*, int64_t, int64_t, int64_t);
template void embedding_backward<double>(const double*, const int64_t*, double*, int64_t, int64_t, int64_t);

}  // namespace dytgrad::kernels::cpu
