// The CPU's vectorised tanh, exp, log and erf (kernels/cpu/vector_math.h, SLEEF) against float64,
// in ULP of the float32 result: the error bounds we accept are SLEEF's own, 3.5 ULP for tanh and
// 1.0 ULP for exp, log and erf. Inputs: fresh random values over each function's useful range, every
// array length from 1 to 40 (whole vectors and tails), and the special values.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "helpers.h"
#include "kernels/cpu/vector_math.h"

using namespace dytgrad::kernels::cpu;

namespace {

// |got - exact| in units of the spacing of floats at the exact result (SLEEF's definition).
double ulp_error(float got, double exact) {
  if (std::isnan(exact)) return std::isnan(got) ? 0 : INFINITY;
  if (std::isinf(exact)) return double(got) == exact ? 0 : INFINITY;
  float rounded = float(exact);
  double spacing = std::nextafter(std::fabs(rounded), INFINITY) - std::fabs(rounded);
  if (spacing == 0 || std::isinf(spacing)) spacing = std::numeric_limits<float>::denorm_min();
  return std::fabs(double(got) - exact) / spacing;
}

using ArrayFunction = void (*)(const float*, float*, int64_t);

double max_ulp_error(ArrayFunction f, double (*exact)(double), const std::vector<float>& x) {
  std::vector<float> y(x.size());
  f(x.data(), y.data(), int64_t(x.size()));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, ulp_error(y[i], exact(double(x[i]))));
  return worst;
}

std::vector<float> uniform(float lo, float hi, size_t n) {
  static std::mt19937 gen(std::random_device{}());
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> x(n);
  for (float& v : x) v = dist(gen);
  return x;
}

double exact_tanh(double v) { return std::tanh(v); }
double exact_exp(double v) { return std::exp(v); }
double exact_log(double v) { return std::log(v); }
double exact_erf(double v) { return std::erf(v); }

}  // namespace

TEST_CASE("vector_math: tanh within 3.5 ULP, exp, log and erf within 1 ULP of float64", "[vector_math]") {
  INFO("ISA: " << vector_math::isa());
  ArrayFunction tanh_f = vector_math::tanh, exp_f = vector_math::exp, log_f = vector_math::log;
  for (auto range : {std::pair{-1e-3f, 1e-3f}, std::pair{-1.f, 1.f}, std::pair{-10.f, 10.f}}) {
    INFO("tanh over [" << range.first << ", " << range.second << "]");
    CHECK(max_ulp_error(tanh_f, exact_tanh, uniform(range.first, range.second, 100000)) <= 3.5);
  }
  for (auto range : {std::pair{-1.f, 1.f}, std::pair{-87.f, 88.f}}) {
    INFO("exp over [" << range.first << ", " << range.second << "]");
    CHECK(max_ulp_error(exp_f, exact_exp, uniform(range.first, range.second, 100000)) <= 1.0);
  }
  for (auto range : {std::pair{1e-30f, 1e-3f}, std::pair{0.5f, 2.f}, std::pair{1.f, 1e30f}}) {
    INFO("log over [" << range.first << ", " << range.second << "]");
    CHECK(max_ulp_error(log_f, exact_log, uniform(range.first, range.second, 100000)) <= 1.0);
  }
  for (auto range : {std::pair{-1e-3f, 1e-3f}, std::pair{-1.f, 1.f}, std::pair{-6.f, 6.f}}) {
    INFO("erf over [" << range.first << ", " << range.second << "]");
    CHECK(max_ulp_error(vector_math::erf, exact_erf, uniform(range.first, range.second, 100000)) <= 1.0);
  }
}

TEST_CASE("vector_math: every length (whole vectors and tails), in place, special values", "[vector_math]") {
  for (int64_t n = 1; n <= 40; ++n) {
    INFO("length " << n);
    std::vector<float> x = uniform(-5, 5, size_t(n));
    CHECK(max_ulp_error(vector_math::tanh, exact_tanh, x) <= 3.5);
    std::vector<float> y = x;
    vector_math::exp(y.data(), y.data(), n);  // in place
    for (int64_t i = 0; i < n; ++i) CHECK(ulp_error(y[size_t(i)], std::exp(double(x[size_t(i)]))) <= 1.0);
  }
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> special = {0.f, -0.f, inf, -inf, nan, 100.f, -100.f, 1e-40f};
  std::vector<float> t(special.size()), e(special.size()), l(special.size()), r(special.size());
  vector_math::erf(special.data(), r.data(), int64_t(special.size()));
  CHECK((r[0] == 0 && std::signbit(r[1]) && r[2] == 1 && r[3] == -1 && std::isnan(r[4]) && r[5] == 1 && r[6] == -1));
  vector_math::tanh(special.data(), t.data(), int64_t(special.size()));
  vector_math::exp(special.data(), e.data(), int64_t(special.size()));
  vector_math::log(special.data(), l.data(), int64_t(special.size()));
  CHECK((t[0] == 0 && t[1] == 0 && std::signbit(t[1]) && t[2] == 1 && t[3] == -1 && std::isnan(t[4])));
  CHECK((t[5] == 1 && t[6] == -1));
  CHECK((e[0] == 1 && e[2] == inf && e[3] == 0 && std::isnan(e[4]) && e[5] == inf));
  CHECK(ulp_error(e[6], std::exp(-100.0)) <= 1.0);  // a subnormal float
  CHECK((l[0] == -inf && l[2] == inf && std::isnan(l[3]) && std::isnan(l[4])));
  CHECK(ulp_error(t[7], std::tanh(double(1e-40f))) <= 3.5);
}
