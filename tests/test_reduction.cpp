// sum, mean and max over dims (keepdim or not): forward, long rows (to one value), gradients and
// second derivatives, CUDA parity.
#include "core/profiler.h"
#include "kernels/cpu/threads.h"
#include "op_tests.h"

TEST_CASE("sum and mean forward over any dims", "[reduction]") {
  Tensor x = Tensor::arange(0, 24, 1, DType::Float64).reshape({2, 3, 4});
  REQUIRE(sum(x).item() == 276);
  REQUIRE(sum(x, {1}).to_vector<double>() == std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57});
  REQUIRE(sum(x, {0, 2}, true).shape() == Shape{1, 3, 1});
  REQUIRE(sum(x, {0, 2}).to_vector<double>() == std::vector<double>{60, 92, 124});
  REQUIRE(mean(x, {-1}).to_vector<double>()[0] == 1.5);
  REQUIRE(sum(x.transpose(0, 2), {0}).to_vector<double>() == sum(x, {2}).transpose(0, 1).contiguous().to_vector<double>());
}

namespace {

// Each row's sum in long double: the reference for sums of a few long rows.
std::vector<double> row_sums(const Tensor& x) {
  int64_t rows = x.shape()[0], cols = x.numel() / rows;
  std::vector<double> values = x.to(DType::Float64).to_vector<double>(), sums;
  for (int64_t r = 0; r < rows; ++r) {
    long double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += values[size_t(r * cols + c)];
    sums.push_back(double(sum));
  }
  return sums;
}

}  // namespace

TEST_CASE("sums of a few long rows (a whole tensor to one value) in chunks: as exact as one double sum", "[reduction]") {
  // rows of 4 chunks of 16K or more take sum_long_rows: 1, 3 and 5 rows, lengths with a short last chunk
  for (DType dtype : {DType::Float32, DType::Float64})
    for (Shape shape : {Shape{1, 300001}, Shape{3, 70000}, Shape{5, 2, 40000}}) {
      INFO(dtype_name(dtype) << " " << shape_str(shape));
      Tensor x = add(Tensor::randn(shape, dtype), 0.25);  // not centred: a sum far from 0
      std::vector<int64_t> last_dims;
      for (int64_t d = 1; d < int64_t(shape.size()); ++d) last_dims.push_back(d);
      std::vector<double> got = sum(x, last_dims).to(DType::Float64).to_vector<double>(), expected = row_sums(x);
      double tol = dtype == DType::Float32 ? 1e-7 : 1e-14;  // one rounding of the double sum to float
      for (size_t r = 0; r < expected.size(); ++r) REQUIRE(std::abs(got[r] - expected[r]) <= tol * std::abs(expected[r]));
      REQUIRE(std::abs(mean(x, last_dims).to(DType::Float64).to_vector<double>()[0] -
                       expected[0] / double(x.numel() / shape[0])) <= tol * std::abs(expected[0] / double(x.numel() / shape[0])));
    }
  Tensor whole = Tensor::randn({64, 256, 48});  // the embedding scale's gradient: everything to one value
  REQUIRE(std::abs(sum(whole).item() - row_sums(whole.reshape({1, -1}))[0]) <= 1e-4);
}

TEST_CASE("sums of long rows give the same bits with 1 and 2 threads", "[reduction][threads]") {
  Tensor x = Tensor::randn({3, 200003});
  int before = kernels::cpu::threads();
  kernels::cpu::set_threads(1);
  std::vector<float> one = sum(x, {1}).to_vector<float>();
  kernels::cpu::set_threads(2);
  std::vector<float> two = sum(x, {1}).to_vector<float>();
  kernels::cpu::set_threads(before);
  REQUIRE(one == two);
}

namespace {
// The shapes each bfloat16 sum kernel path takes: contiguous rows (inner 1), one slab summed over its
// rows (a bias gradient), slabs with short columns, a few long rows in chunks; keepdim both ways.
struct BFloat16Sum {
  Shape shape;
  std::vector<int64_t> dims;
};
const std::vector<BFloat16Sum> kBFloat16Sums = {{{37, 300}, {1}},        {{2048, 97}, {0}},   {{3, 700, 97}, {0, 1}},
                                                {{5, 9, 31}, {1}},       {{2, 200001}, {1}},  {{64, 33, 7}, {}},
                                                {{16, 64, 1536}, {0, 1}}};
}  // namespace

TEST_CASE("bfloat16 sum and mean: the bits of the float32 sum of the widened tensor, rounded once", "[reduction][bfloat16]") {
  for (const BFloat16Sum& c : kBFloat16Sums)
    for (bool average : {false, true}) {
      INFO((average ? "mean of " : "sum of ") << shape_str(c.shape) << " over dims " << shape_str(c.dims));
      Tensor x = add(Tensor::randn(c.shape), 0.5).to(DType::BFloat16);
      Tensor got;
      {
        profiler::Session session;  // one kernel call, on the bfloat16 elements: no casts around it
        got = average ? mean(x, c.dims, true) : sum(x, c.dims, true);
      }
      REQUIRE(profiler::records().size() == 1);
      REQUIRE(profiler::records()[0].kernel != "strided_copy");
      Tensor wide = x.to(DType::Float32);
      Tensor expected = (average ? mean(wide, c.dims, true) : sum(wide, c.dims, true)).to(DType::BFloat16);
      REQUIRE(got.dtype() == DType::BFloat16);
      REQUIRE(got.to(DType::Float32).to_vector<float>() == expected.to(DType::Float32).to_vector<float>());
    }
  // the gradient flows back in bfloat16: every element's, scaled by the mean's 1 / count
  Tensor x = Tensor::randn({6, 40}).to(DType::BFloat16).requires_grad_();
  mean(x, {0}).backward(Tensor::ones({40}, DType::BFloat16));
  REQUIRE(x.grad().dtype() == DType::BFloat16);
  REQUIRE(x.grad().to(DType::Float32).to_vector<float>() == std::vector<float>(240, bfloat16::from_float(1.0f / 6).to_float()));
}

TEST_CASE("max returns values and first indices", "[reduction]") {
  Tensor x = Tensor::from_vector<double>({1, 5, 5, 2, 0, -1}, {2, 3});
  auto r = max(x, 1);
  REQUIRE(r.values.to_vector<double>() == std::vector<double>{5, 2});
  REQUIRE(r.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  auto k = max(x, 0, true);
  REQUIRE(k.values.shape() == Shape{1, 3});
  REQUIRE(k.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0});
}

TEST_CASE("reduction gradients and second derivatives", "[reduction][gradcheck]") {
  std::vector<std::pair<const char*, Fn>> ops = {
      {"sum all", [](auto& in) { return sum(in[0]); }},
      {"sum dim 1", [](auto& in) { return sum(in[0], {1}); }},
      {"sum dims 0,2 keepdim", [](auto& in) { return sum(in[0], {0, 2}, true); }},
      {"mean dim -1", [](auto& in) { return mean(in[0], {-1}); }},
      {"mean all", [](auto& in) { return mean(in[0]); }},
      {"max dim 1", [](auto& in) { return max(in[0], 1).values; }},
      {"max dim 2 keepdim", [](auto& in) { return max(in[0], 2, true).values; }},
      {"sum of squares", [](auto& in) { return sum(mul(in[0], in[0]), {0}); }},
  };
  test::require_gradients_of_each(ops, {2, 3, 4});
}

TEST_CASE("cuda: reductions forward and backward, float32 and float64", "[cuda][parity][shared_memory]") {
  if (!test::gpu_visible()) return;
  std::vector<std::pair<const char*, Fn>> ops = {
      {"sum all", [](auto& in) { return sum(in[0]); }},
      {"sum last", [](auto& in) { return sum(in[0], {-1}); }},
      {"sum first keepdim", [](auto& in) { return sum(in[0], {0}, true); }},
      {"mean last", [](auto& in) { return mean(in[0], {-1}); }},
      {"max last", [](auto& in) { return max(in[0], -1).values; }},
      {"max first", [](auto& in) { return max(in[0], 0).values; }},
  };
  for (DType dt : {DType::Float32, DType::Float64})
    for (auto& [name, f] : ops)
      for (const Shape& s : test::kAwkwardShapes) {
        double tol = test::parity_tolerance(dt, 1e-5);
        check_parity(name, f, {cpu_input(s, true, 1.0, dt)}, tol, tol);
      }
  // The bias-gradient shape: many rows summed into a few hundred columns (the tiled column kernel).
  Fn bias_sum = [](auto& in) { return sum(in[0], {0, 1}); };
  check_parity("sum over leading dims", bias_sum, {cpu_input({3, 700, 97})}, 1e-5, 1e-5);
  Tensor x = Tensor::randn({33, 1024});
  REQUIRE(max(x.to(Device::cuda()), 1).indices.to_vector<int64_t>() == max(x, 1).indices.to_vector<int64_t>());
}

TEST_CASE("cuda: bfloat16 sum and mean against the CPU's, within a bfloat16 step", "[cuda][parity][bfloat16]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);  // the bfloat16 reductions have not run on a GPU yet
  for (const BFloat16Sum& c : kBFloat16Sums)
    for (bool average : {false, true}) {
      INFO((average ? "mean of " : "sum of ") << shape_str(c.shape) << " over dims " << shape_str(c.dims));
      Tensor x = add(Tensor::randn(c.shape), 0.5).to(DType::BFloat16), on_gpu = x.to(Device::cuda());
      Tensor expected = average ? mean(x, c.dims) : sum(x, c.dims);
      Tensor got = average ? mean(on_gpu, c.dims) : sum(on_gpu, c.dims);
      REQUIRE(got.dtype() == DType::BFloat16);
      // double sums in another order; each rounded once through float32, so at most a bfloat16 step apart
      CHECK_CLOSE(got.to(Device::cpu()).to(DType::Float64), expected.to(DType::Float64), 8e-3);
    }
  allow_unverified_cuda_kernels(false);
}

TEST_CASE("cuda: sums of a few long rows against the CPU's, the same bits every run", "[cuda][parity]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);
  for (DType dtype : {DType::Float32, DType::Float64})
    for (Shape shape : {Shape{1, 300001}, Shape{3, 70000}, Shape{64 * 256 * 48}}) {
      INFO(dtype_name(dtype) << " " << shape_str(shape));
      Tensor x = add(Tensor::randn(shape, dtype), 0.25), on_gpu = x.to(Device::cuda());
      int64_t last = int64_t(shape.size()) - 1;
      Tensor expected = sum(x, {last}), got = sum(on_gpu, {last});
      // double sums in another order, each rounded once to the dtype
      CHECK_CLOSE(got, expected, dtype == DType::Float32 ? 1e-7 : 1e-14);
      REQUIRE(sum(on_gpu, {last}).to(Device::cpu()).to(DType::Float64).to_vector<double>() ==
              got.to(Device::cpu()).to(DType::Float64).to_vector<double>());
    }
  allow_unverified_cuda_kernels(false);
}
