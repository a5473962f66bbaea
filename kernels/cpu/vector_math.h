// Vectorised tanh, exp, log and erf over arrays, through SLEEF (Debian's libsleef-dev): the CPU
// kernels' transcendental functions. float32 runs SLEEF's vector functions, 16 lanes at a time
// with AVX-512, 8 with AVX2, picked once at run time from what this CPU supports (so one binary
// runs everywhere); elsewhere, and for float64 (the reference precision), the C library's scalar
// functions. y may be x (in place).
// Accuracy (SLEEF's bounds, checked in tests/test_vector_math.cpp): exp, log and erf within 1.0
// ULP ("u10"); tanh within 3.5 ULP ("u35"), which runs 3x faster than its u10 twin (0.56 against 1.6
// ns an element on one AVX-512 core) and still agrees with float64 to 3e-7 relative.
//
// Kernels call these on blocks of a few hundred elements held in L1 (kBlock), so that an op like
// DyT, gamma * tanh(alpha x) + beta, is three short loops over one block: scale, tanh, affine;
// the plain loops vectorise by themselves and the block never leaves the cache.
#pragma once
#include <cstdint>

namespace dytgrad::kernels::cpu::vector_math {

constexpr int64_t kBlock = 512;  // elements per block: 2 KiB of float, well inside L1

void tanh(const float* x, float* y, int64_t n);
void exp(const float* x, float* y, int64_t n);
void log(const float* x, float* y, int64_t n);
void erf(const float* x, float* y, int64_t n);
void tanh(const double* x, double* y, int64_t n);
void exp(const double* x, double* y, int64_t n);
void log(const double* x, double* y, int64_t n);
void erf(const double* x, double* y, int64_t n);

// "avx512f", "avx2" or "scalar": the float32 path this CPU takes (DYTGRAD_VECTOR_MATH=scalar forces
// the scalar one, to compare).
const char* isa();

}  // namespace dytgrad::kernels::cpu::vector_math
