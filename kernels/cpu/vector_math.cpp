// vector_math: the run-time choice of ISA, and the scalar paths (float64, and CPUs without AVX2).
#include "kernels/cpu/vector_math.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace dytgrad::kernels::cpu::vector_math {

#ifdef DYTGRAD_VECTOR_MATH_X86  // the per-ISA files are compiled (x86-64 builds)
namespace avx2 {
void tanh(const float*, float*, int64_t);
void exp(const float*, float*, int64_t);
void log(const float*, float*, int64_t);
void erf(const float*, float*, int64_t);
}  // namespace avx2
namespace avx512 {
void tanh(const float*, float*, int64_t);
void exp(const float*, float*, int64_t);
void log(const float*, float*, int64_t);
void erf(const float*, float*, int64_t);
}  // namespace avx512
#else  // no per-ISA files: cpu_isa() is always Scalar, so these are never called
namespace avx2 {
inline void tanh(const float*, float*, int64_t) {}
inline void exp(const float*, float*, int64_t) {}
inline void log(const float*, float*, int64_t) {}
inline void erf(const float*, float*, int64_t) {}
}  // namespace avx2
namespace avx512 = avx2;
#endif

namespace {

enum class Isa { Scalar, Avx2, Avx512 };

Isa detect() {
  const char* forced = std::getenv("DYTGRAD_VECTOR_MATH");
  if (forced && std::strcmp(forced, "scalar") == 0) return Isa::Scalar;
#ifdef DYTGRAD_VECTOR_MATH_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

Isa cpu_isa() {
  static const Isa isa = detect();
  return isa;
}

template <class T, class F> void scalar_map(const T* x, T* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

}  // namespace

const char* isa() {
  switch (cpu_isa()) {
    case Isa::Avx512: return "avx512f";
    case Isa::Avx2: return "avx2";
    case Isa::Scalar: break;
  }
  return "scalar";
}

namespace {
using FloatArrayFunction = void (*)(const float*, float*, int64_t);

// Runs the function of this CPU's ISA; `scalar` is the fallback for one element.
template <class Scalar>
void run_float(FloatArrayFunction on_avx512, FloatArrayFunction on_avx2, Scalar scalar, const float* x, float* y,
               int64_t n) {
  switch (cpu_isa()) {
    case Isa::Avx512: return on_avx512(x, y, n);
    case Isa::Avx2: return on_avx2(x, y, n);
    case Isa::Scalar: break;
  }
  scalar_map(x, y, n, scalar);
}
}  // namespace

void tanh(const float* x, float* y, int64_t n) {
  run_float(avx512::tanh, avx2::tanh, [](float v) { return std::tanh(v); }, x, y, n);
}
void exp(const float* x, float* y, int64_t n) {
  run_float(avx512::exp, avx2::exp, [](float v) { return std::exp(v); }, x, y, n);
}
void log(const float* x, float* y, int64_t n) {
  run_float(avx512::log, avx2::log, [](float v) { return std::log(v); }, x, y, n);
}

void erf(const float* x, float* y, int64_t n) {
  run_float(avx512::erf, avx2::erf, [](float v) { return std::erf(v); }, x, y, n);
}

void tanh(const double* x, double* y, int64_t n) { scalar_map(x, y, n, [](double v) { return std::tanh(v); }); }
void exp(const double* x, double* y, int64_t n) { scalar_map(x, y, n, [](double v) { return std::exp(v); }); }
void log(const double* x, double* y, int64_t n) { scalar_map(x, y, n, [](double v) { return std::log(v); }); }
void erf(const double* x, double* y, int64_t n) { scalar_map(x, y, n, [](double v) { return std::erf(v); }); }

}  // namespace dytgrad::kernels::cpu::vector_math
