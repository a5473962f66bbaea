// The study's tanh fit (tools/common/tanh_fit): recovers a known curve from noisy points and
// tells a straight line from an S-curve.
#include "helpers.h"
#include "tools/common/tanh_fit.h"

using namespace dytgrad;

namespace {
std::vector<double> normals(int64_t n, double scale) { return mul(Tensor::randn({n}, DType::Float64), scale).to_vector<double>(); }
}  // namespace

TEST_CASE("fit_tanh recovers k and a of a noisy k tanh(a x)") {
  const double k = 2.3, a = 0.7;
  auto x = normals(4000, 3.0), noise = normals(4000, 0.05);
  std::vector<double> z(x.size());
  for (size_t i = 0; i < x.size(); ++i) z[i] = k * std::tanh(a * x[i]) + noise[i];
  tools::TanhFit f = tools::fit_tanh(x, z);
  CHECK(std::abs(f.a / a - 1) < 0.03);  // the grid's step is 10^0.01, 2.3%
  CHECK(std::abs(f.k / k - 1) < 0.03);
  CHECK(f.r2_tanh > 0.999);
  CHECK(f.r2_line < 0.95);  // x spans the flat ends: no line fits
}

TEST_CASE("fit_tanh finds a straight line straight") {
  auto x = normals(2000, 1.0), noise = normals(2000, 0.01);
  std::vector<double> z(x.size());
  for (size_t i = 0; i < x.size(); ++i) z[i] = -1.5 * x[i] + noise[i];
  tools::TanhFit f = tools::fit_tanh(x, z);
  CHECK(std::abs(f.slope / -1.5 - 1) < 1e-3);
  CHECK(f.r2_line > 0.9999);
  CHECK(f.a < 0.05);  // a tanh that is a line over the points: small a, large negative k
  CHECK(f.k < 0);
  CHECK_THROWS_WITH(tools::fit_tanh({1.0}, {}), Catch::Contains("as many x as z"));
}
