// vector_math with AVX2 + FMA, 8 lanes: this file alone is compiled with -mavx2 -mfma
// (CMakeLists.txt), and vector_math.cpp calls it only on a CPU that has them.
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include <sleef.h>

#include "kernels/cpu/vector_math_lanes.h"

namespace dytgrad::kernels::cpu::vector_math::avx2 {

namespace {
__m256 load(const float* p) { return _mm256_loadu_ps(p); }
void store(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
}  // namespace

void tanh(const float* x, float* y, int64_t n) { map_lanes<8>(x, y, n, load, store, Sleef_tanhf8_u35avx2); }
void exp(const float* x, float* y, int64_t n) { map_lanes<8>(x, y, n, load, store, Sleef_expf8_u10avx2); }
void log(const float* x, float* y, int64_t n) { map_lanes<8>(x, y, n, load, store, Sleef_logf8_u10avx2); }
void erf(const float* x, float* y, int64_t n) { map_lanes<8>(x, y, n, load, store, Sleef_erff8_u10avx2); }

}  // namespace dytgrad::kernels::cpu::vector_math::avx2
#endif
