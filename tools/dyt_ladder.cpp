// The DyT kernel ladder on the CPU: the same op written several ways, from the textbook loop to
// the kernels dytgrad runs, each checked against a float64 reference and timed (median of repeats,
// at the thread count given). Read it top to bottom; docs/LADDER.md says what each step buys.
//
//   forward  y = gamma * tanh(alpha x) + beta
//     1  scalar: one libm tanhf per element
//     2  blocks: a row in blocks of 512 through SLEEF's vector tanh (kernels::cpu::dyt_forward)
//     3  fused:  the residual add before DyT in the same pass (kernels::cpu::add_dyt_forward),
//               timed against an add then version 2
//   backward dx = alpha g, dalpha = sum x g, dgamma = sum_rows dy t, dbeta = sum_rows dy,
//            t = tanh(alpha x), g = dy gamma (1 - t^2)
//     1  by columns: each column's sums walked down the rows (stride = a whole row)
//     2  by rows: rows in order, the column sums per block of 64 rows, vector tanh
//        (kernels::cpu::dyt_backward)
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <omp.h>
#include <random>
#include <vector>

#include "kernels/norms.h"
#include "tools/common/median_time.h"
#include "tools/common/training_run.h"

using namespace dytgrad;

namespace {

// ---- forward, version 1: the textbook loop ----
void dyt_forward_scalar(const float* x, float alpha, const float* gamma, const float* beta, float* y, int64_t rows,
                        int64_t cols) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = gamma[c] * std::tanh(alpha * x[r * cols + c]) + beta[c];
}

// ---- backward, version 1: by columns (what dytgrad's first CPU kernel did) ----
void dyt_backward_by_columns(const float* x, float alpha, const float* gamma, const float* dy, float* dx,
                             float* dalpha, float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  double alpha_sum = 0;
#pragma omp parallel for reduction(+ : alpha_sum) schedule(static)
  for (int64_t c = 0; c < cols; ++c) {
    double sg = 0, sb = 0, sa = 0;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t i = r * cols + c;
      float t = std::tanh(alpha * x[i]), g = dy[i] * gamma[c] * (1 - t * t);
      dx[i] = alpha * g;
      sa += double(g) * x[i];
      sg += double(dy[i]) * t;
      sb += dy[i];
    }
    dgamma[c] = float(sg), dbeta[c] = float(sb);
    alpha_sum += sa;
  }
  *dalpha = float(alpha_sum);
}

// max |got - want| / max |want|
double relative_error(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0, scale = 1e-30;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i])) return INFINITY;
    err = std::max(err, std::fabs(double(got[i]) - want[i]));
    scale = std::max(scale, std::fabs(want[i]));
  }
  return err / scale;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The DyT kernel ladder on the CPU: each version checked against float64 and timed"};
  int64_t rows = 4096, cols = 768;
  int repeats = 15, threads = 0;
  double tolerance = 2e-6;
  app.add_option("--rows", rows, "rows of x")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--cols", cols, "columns of x (the width)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "timed runs; the median is reported")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, tools::kThreadsHelp)->check(CLI::PositiveNumber);
  app.add_option("--tolerance", tolerance, "largest relative error against float64 accepted (exit 1 above it)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  int used_threads = tools::use_threads(threads);
  omp_set_num_threads(used_threads);  // the ladder's own loops too

  std::mt19937 gen(std::random_device{}());
  std::normal_distribution<float> normal;
  int64_t n = rows * cols;
  std::vector<float> x(static_cast<size_t>(n)), residual(static_cast<size_t>(n)), dy(static_cast<size_t>(n)), gamma(static_cast<size_t>(cols)), beta(static_cast<size_t>(cols));
  for (auto* v : {&x, &residual, &dy, &gamma, &beta})
    for (float& e : *v) e = normal(gen);
  const float alpha = 0.7f;

  // The float64 reference of everything the versions compute.
  std::vector<double> y_ref(static_cast<size_t>(n)), sum_ref(static_cast<size_t>(n)), out_ref(static_cast<size_t>(n)), dx_ref(static_cast<size_t>(n));
  std::vector<double> dgamma_ref(static_cast<size_t>(cols)), dbeta_ref(static_cast<size_t>(cols)), dalpha_ref(1);
  double dalpha_terms = 0;  // sum of |g x|: the scale of dalpha's rounding (the sum itself may cancel to ~0)
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = i % cols;
    double t = std::tanh(double(alpha) * x[size_t(i)]), g = double(dy[size_t(i)]) * gamma[size_t(c)] * (1 - t * t);
    y_ref[size_t(i)] = gamma[size_t(c)] * t + beta[size_t(c)];
    sum_ref[size_t(i)] = double(x[size_t(i)]) + residual[size_t(i)];
    out_ref[size_t(i)] = gamma[size_t(c)] * std::tanh(double(alpha) * sum_ref[size_t(i)]) + beta[size_t(c)];
    dx_ref[size_t(i)] = alpha * g;
    dalpha_ref[0] += g * x[size_t(i)];
    dalpha_terms += std::fabs(g * x[size_t(i)]);
    dgamma_ref[size_t(c)] += dy[size_t(i)] * t;
    dbeta_ref[size_t(c)] += dy[size_t(i)];
  }

  double pass_bytes = double(n) * 4;
  bool all_ok = true;
  std::cout << fmt::format("DyT on {}x{} float32, {} thread{}; errors relative to float64\n\n{:<44} {:>9} {:>10} {:>11}\n",
                           rows, cols, used_threads, used_threads == 1 ? "" : "s", "version", "ms", "GB/s", "rel. error");
  auto report = [&](const std::string& name, double ms, double bytes, double error) {
    bool ok = error <= tolerance;
    all_ok = all_ok && ok;
    std::cout << fmt::format("{:<44} {:>9.3f} {:>10.1f} {:>11.2e}{}\n", name, ms, bytes / ms / 1e6, error,
                             ok ? "" : "  ABOVE TOLERANCE");
  };

  std::vector<float> y(static_cast<size_t>(n)), sum(static_cast<size_t>(n)), dx(static_cast<size_t>(n)), dgamma(static_cast<size_t>(cols)), dbeta(static_cast<size_t>(cols));
  float dalpha = 0;
  double ms = tools::median_ms(1, repeats, [&] { dyt_forward_scalar(x.data(), alpha, gamma.data(), beta.data(), y.data(), rows, cols); });
  report("forward 1: scalar libm tanhf", ms, 2 * pass_bytes, relative_error(y, y_ref));
  ms = tools::median_ms(1, repeats, [&] { kernels::cpu::dyt_forward(x.data(), &alpha, gamma.data(), beta.data(), y.data(), rows, cols); });
  report("forward 2: blocks through SLEEF tanh", ms, 2 * pass_bytes, relative_error(y, y_ref));
  ms = tools::median_ms(1, repeats, [&] {
    for (int64_t i = 0; i < n; ++i) sum[size_t(i)] = x[size_t(i)] + residual[size_t(i)];
    kernels::cpu::dyt_forward(sum.data(), &alpha, gamma.data(), beta.data(), y.data(), rows, cols);
  });
  report("forward 3a: residual add, then version 2", ms, 5 * pass_bytes, relative_error(y, out_ref));
  ms = tools::median_ms(1, repeats, [&] {
    kernels::cpu::add_dyt_forward(x.data(), residual.data(), &alpha, gamma.data(), beta.data(), sum.data(), y.data(),
                                  rows, cols);
  });
  report("forward 3b: residual add fused (add_dyt)", ms, 4 * pass_bytes,
         std::max(relative_error(y, out_ref), relative_error(sum, sum_ref)));

  auto backward_error = [&] {
    return std::max({relative_error(dx, dx_ref), relative_error(dgamma, dgamma_ref), relative_error(dbeta, dbeta_ref),
                     std::fabs(double(dalpha) - dalpha_ref[0]) / dalpha_terms});
  };
  ms = tools::median_ms(1, repeats, [&] {
    dyt_backward_by_columns(x.data(), alpha, gamma.data(), dy.data(), dx.data(), &dalpha, dgamma.data(), dbeta.data(),
                            rows, cols);
  });
  report("backward 1: by columns, libm tanhf", ms, 3 * pass_bytes, backward_error());
  ms = tools::median_ms(1, repeats, [&] {
    kernels::cpu::dyt_backward(x.data(), &alpha, gamma.data(), dy.data(), dx.data(), &dalpha, dgamma.data(),
                               dbeta.data(), rows, cols);
  });
  report("backward 2: by rows, column sums by blocks", ms, 3 * pass_bytes, backward_error());
  if (!all_ok) {
    std::cerr << fmt::format("dyt-ladder: a version is above the tolerance {:g}\n", tolerance);
    return 1;
  }
  return 0;
}
