// How tanh-like a cloud of points (x, z) is: the least-squares fits z = k tanh(a x) and z = b x,
// with the share of sum z^2 each explains (both curves pass through the origin, as the outputs of
// a norm before its beta do on average). Used by norm-curves for the study's S-curves.
#pragma once
#include <vector>

namespace dytgrad::tools {

struct TanhFit {
  double a, k, r2_tanh;  // z ~ k tanh(a x); a is searched on a log grid 1e-3..1e3 (100 points a decade)
  double slope, r2_line;  // z ~ slope x
};

// r2 = 1 - residual / sum z^2. An `a` at the grid's low end means the points are a straight line.
TanhFit fit_tanh(const std::vector<double>& x, const std::vector<double>& z);

}  // namespace dytgrad::tools
