// Shared by the tests: fresh random inputs and a gradcheck assertion that prints what failed.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/autograd/engine.h"
#include "core/autograd/gradcheck.h"
#include "core/ops/ops.h"
#include "core/random.h"

namespace dytgrad::test {

// A float64 leaf of standard normals that requires grad; every call draws new numbers.
inline Tensor leaf(const Shape& shape, double scale = 1.0) {
  return mul(Tensor::randn(shape, DType::Float64), scale).detach().requires_grad_();
}

// Same values drawn, but laid out transposed in memory (a non-contiguous leaf).
inline Tensor strided_leaf(const Shape& shape) {
  Shape flipped(shape.rbegin(), shape.rend());
  std::vector<int64_t> reverse;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) reverse.push_back(d);
  Tensor t = Tensor::randn(flipped, DType::Float64).permute(reverse).detach().requires_grad_();
  REQUIRE(!t.is_contiguous());
  return t;
}

// A bfloat16 tensor's elements as their 16 bits, in row-major order (for bit-for-bit comparisons).
inline std::vector<uint16_t> bits_of(const Tensor& t) {
  std::vector<uint16_t> bits;
  for (bfloat16 v : t.contiguous().to_vector<bfloat16>()) bits.push_back(v.bits);
  return bits;
}

// Positive values in [low, low + 1), for log, sqrt, pow.
inline Tensor positive_leaf(const Shape& shape, double low = 0.5) {
  return add(Tensor::rand(shape, DType::Float64), low).detach().requires_grad_();
}

// The largest |a - b| / max(|b|_inf, floor) over all elements; NaN if either has a NaN. A floor is
// for references that are zero up to rounding: the error is then measured against that scale.
inline double max_relative_error(const Tensor& a, const Tensor& b, double floor = 1e-30) {
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  REQUIRE(x.size() == y.size());
  double err = 0, scale = floor;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) return NAN;
    err = std::max(err, std::abs(x[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return err / scale;
}

// An empty folder of its own under the system's temp folder, for tests that write files.
inline std::filesystem::path temp_dir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "dytgrad-tests" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace dytgrad::test

#define REQUIRE_GRADCHECK(fn, ...)                                   \
  do {                                                               \
    auto result_ = ::dytgrad::gradcheck(fn, {__VA_ARGS__});          \
    INFO("gradcheck: " << result_.message);                          \
    REQUIRE(result_.ok);                                             \
  } while (0)

#define REQUIRE_GRADGRADCHECK(fn, ...)                               \
  do {                                                               \
    auto result_ = ::dytgrad::gradgradcheck(fn, {__VA_ARGS__});      \
    INFO("gradgradcheck: " << result_.message);                      \
    REQUIRE(result_.ok);                                             \
  } while (0)

// relative error below tol, NaN never passes (CHECK_CLOSE goes on after a failure)
#define CHECK_CLOSE(a, b, tol, ...)                                     \
  do {                                                                  \
    double err_ = ::dytgrad::test::max_relative_error(a, b, ##__VA_ARGS__); \
    INFO("relative error " << err_);                                    \
    CHECK(err_ <= (tol));                                               \
  } while (0)

#define REQUIRE_CLOSE(a, b, tol)                                        \
  do {                                                                  \
    double err_ = ::dytgrad::test::max_relative_error(a, b);            \
    INFO("relative error " << err_);                                    \
    REQUIRE(err_ <= (tol));                                             \
  } while (0)
