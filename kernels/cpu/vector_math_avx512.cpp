// vector_math with AVX-512F, 16 lanes: this file alone is compiled with -mavx512f
// (CMakeLists.txt), and vector_math.cpp calls it only on a CPU that has it.
#if defined(__AVX512F__)
#include <immintrin.h>
#include <sleef.h>

#include "kernels/cpu/vector_math_lanes.h"

namespace dytgrad::kernels::cpu::vector_math::avx512 {

namespace {
__m512 load(const float* p) { return _mm512_loadu_ps(p); }
void store(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
}  // namespace

void tanh(const float* x, float* y, int64_t n) { map_lanes<16>(x, y, n, load, store, Sleef_tanhf16_u35avx512f); }
void exp(const float* x, float* y, int64_t n) { map_lanes<16>(x, y, n, load, store, Sleef_expf16_u10avx512f); }
void log(const float* x, float* y, int64_t n) { map_lanes<16>(x, y, n, load, store, Sleef_logf16_u10avx512f); }
void erf(const float* x, float* y, int64_t n) { map_lanes<16>(x, y, n, load, store, Sleef_erff16_u10avx512f); }

}  // namespace dytgrad::kernels::cpu::vector_math::avx512
#endif
