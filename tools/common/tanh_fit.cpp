#include "tools/common/tanh_fit.h"

#include <cmath>

#include "core/error.h"

namespace dytgrad::tools {

// For a fixed a, k = sum(t z) / sum(t t) with t = tanh(a x), and the residual is
// sum z^2 - sum(t z)^2 / sum(t t); the line is the same with t = x.
TanhFit fit_tanh(const std::vector<double>& x, const std::vector<double>& z) {
  DYT_CHECK(x.size() == z.size() && !x.empty(), "fit_tanh: needs as many x as z, at least one (got {} and {})", x.size(),
            z.size());
  double zz = 0, xz = 0, xx = 0;
  for (size_t i = 0; i < x.size(); ++i) zz += z[i] * z[i], xz += x[i] * z[i], xx += x[i] * x[i];
  TanhFit f{NAN, NAN, NAN, xz / xx, xz * xz / (xx * zz)};
  for (int g = 0; g <= 600; ++g) {
    double a = std::pow(10.0, -3.0 + g / 100.0), tz = 0, tt = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      double t = std::tanh(a * x[i]);
      tz += t * z[i], tt += t * t;
    }
    double r2 = tz * tz / (tt * zz);
    if (!(r2 <= f.r2_tanh)) f.a = a, f.k = tz / tt, f.r2_tanh = r2;
  }
  return f;
}

}  // namespace dytgrad::tools
