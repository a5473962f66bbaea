// bfloat16 (kernels/bfloat16.h): every one of its 65,536 values survives the trip through float32, and
// float32 values round to the nearest bfloat16, ties to even, against a float64 reference.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>

#include "kernels/bfloat16.h"
#include "cuda_parity.h"
#include "helpers.h"
#include "nn/safetensors.h"

using namespace dytgrad;
namespace fs = std::filesystem;

namespace {
float from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// The nearest bfloat16 to a finite float32 x, ties to even, found in float64: of the two bfloat16
// values around x (x's top 16 bits, and the next one away from zero), the closer; on a tie, the one
// whose last bit is 0. Past the largest finite bfloat16 by half a step or more: infinity.
uint16_t nearest(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  uint16_t below = uint16_t(u >> 16), above = uint16_t(below + 1);
  double d = x, lo = bfloat16::from_bits(below).to_float();
  double hi = (above & 0x7fff) == 0x7f80 ? std::ldexp(1.0, 128) * (std::signbit(x) ? -1 : 1)  // infinity's place
                                         : double(bfloat16::from_bits(above).to_float());
  double to_lo = std::abs(d - lo), to_hi = std::abs(hi - d);
  if (to_lo < to_hi) return below;
  if (to_hi < to_lo) return above;
  return (below & 1) ? above : below;
}
}  // namespace

TEST_CASE("bfloat16: every value survives float32 and back, NaN stays NaN", "[bfloat16]") {
  int nans = 0;
  for (uint32_t b = 0; b < 65536; ++b) {
    bfloat16 h = bfloat16::from_bits(uint16_t(b));
    float x = h.to_float();
    bfloat16 back = bfloat16::from_float(x);
    if (std::isnan(x)) {
      ++nans;
      REQUIRE(std::isnan(back.to_float()));
      REQUIRE(std::signbit(back.to_float()) == std::signbit(x));
    } else {
      INFO("bits " << b);
      REQUIRE(back.bits == b);
    }
  }
  REQUIRE(nans == 2 * 127);  // exponent all ones, mantissa not zero, both signs
  REQUIRE(bfloat16::from_float(std::numeric_limits<float>::infinity()).bits == 0x7f80);
  REQUIRE(bfloat16::from_float(-0.0f).bits == 0x8000);
  REQUIRE(bfloat16::from_float(1.0f).to_float() == 1.0f);
}

TEST_CASE("bfloat16: float32 rounds to the nearest, ties to even, overflow to infinity", "[bfloat16]") {
  // Ties: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: to 1 (even); 1 + 3 * 2^-8 halfway between
  // 1 + 2^-7 (odd) and 1 + 2^-6: up.
  REQUIRE(bfloat16::from_float(1.0f + std::ldexp(1.0f, -8)).to_float() == 1.0f);
  REQUIRE(bfloat16::from_float(1.0f + 3 * std::ldexp(1.0f, -8)).to_float() == 1.0f + std::ldexp(1.0f, -6));
  REQUIRE(bfloat16::from_float(-1.0f - std::ldexp(1.0f, -8)).to_float() == -1.0f);
  // The largest finite bfloat16 is (2 - 2^-7) 2^127; from half a step above it, infinity.
  float largest = bfloat16::from_bits(0x7f7f).to_float();
  REQUIRE(largest == std::ldexp(2.0f - std::ldexp(1.0f, -7), 127));
  REQUIRE(std::isinf(bfloat16::from_float(std::numeric_limits<float>::max()).to_float()));
  REQUIRE(bfloat16::from_float(std::nextafter(largest, 0.0f)).to_float() == largest);
  // Fresh random float32 bit patterns over the whole range (subnormals included), against the
  // float64 reference; and the relative error of every normal one is at most 2^-8 (half a step of
  // 2^-7 relative to the power of two below it).
  std::mt19937 gen(std::random_device{}());
  int checked = 0;
  for (int i = 0; i < 1000000; ++i) {
    float x = from_bits(uint32_t(gen()));
    if (!std::isfinite(x)) continue;
    ++checked;
    bfloat16 h = bfloat16::from_float(x);
    INFO("x " << x);
    REQUIRE(h.bits == nearest(x));
    float y = h.to_float();
    if (std::isnormal(x) && std::isfinite(y) && std::abs(x) < largest)
      REQUIRE(std::abs(double(y) - x) <= std::ldexp(std::abs(double(x)), -8));
  }
  REQUIRE(checked > 990000);
}

// ---- DType::BFloat16: tensors that store bfloat16 (the ops' bfloat16 math: test_mixed_precision.cpp) ----

namespace {
std::vector<uint16_t> bits_of(const Tensor& t) {
  std::vector<uint16_t> out;
  for (bfloat16 h : t.to_vector<bfloat16>()) out.push_back(h.bits);
  return out;
}
}  // namespace

TEST_CASE("bfloat16 tensors: conversions from every dtype round as the value type does, back to float32 exactly",
          "[bfloat16][tensor]") {
  // Fresh values over many magnitudes: normal draws scaled by 10^k, k from -30 to 30.
  std::vector<double> scale;
  for (int64_t k : Tensor::randint(-30, 31, {4096}).to_vector<int64_t>()) scale.push_back(std::pow(10.0, double(k)));
  Tensor x64 = mul(Tensor::randn({4096}, DType::Float64), Tensor::from_vector<double>(scale, {4096}));
  Tensor x32 = x64.to(DType::Float32);
  std::vector<float> x = x32.to_vector<float>();
  std::vector<double> xd = x64.to_vector<double>();

  Tensor h = x32.to(DType::BFloat16);
  REQUIRE(h.dtype() == DType::BFloat16);
  REQUIRE(h.shape() == Shape{4096});
  std::vector<uint16_t> bits = bits_of(h);
  std::vector<float> back = h.to(DType::Float32).to_vector<float>();
  std::vector<double> back64 = h.to(DType::Float64).to_vector<double>();
  std::vector<uint16_t> bits_from64 = bits_of(x64.to(DType::BFloat16));
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("x " << x[i]);
    REQUIRE(bits[i] == bfloat16::from_float(x[i]).bits);
    REQUIRE(back[i] == bfloat16::from_bits(bits[i]).to_float());  // exact
    REQUIRE(back64[i] == double(back[i]));
    // float64 goes through float32 (two roundings, as PyTorch does)
    REQUIRE(bits_from64[i] == bfloat16::from_float(float(xd[i])).bits);
  }

  // Integers and bools: small integers are exact in bfloat16 (8 significant bits).
  Tensor ints = Tensor::randint(-256, 257, {100});
  REQUIRE(ints.to(DType::BFloat16).to(DType::Int64).to_vector<int64_t>() == ints.to_vector<int64_t>());
  Tensor flags = gt(Tensor::randn({100}), Tensor::zeros({100}));
  REQUIRE(flags.to(DType::BFloat16).to(DType::Bool).to_vector<bool>() == flags.to_vector<bool>());
  REQUIRE(h.to(DType::BFloat16).to_vector<bfloat16>().size() == 4096);
}

TEST_CASE("bfloat16 tensors: strided copies, full, from_vector, item and printing", "[bfloat16][tensor]") {
  Tensor a = Tensor::randn({5, 7});
  Tensor t = a.transpose(0, 1).to(DType::BFloat16);  // a strided source
  REQUIRE(t.shape() == Shape{7, 5});
  std::vector<float> av = a.to_vector<float>();
  std::vector<uint16_t> tb = bits_of(t);
  for (int64_t i = 0; i < 7; ++i)
    for (int64_t j = 0; j < 5; ++j) REQUIRE(tb[size_t(i * 5 + j)] == bfloat16::from_float(av[size_t(j * 7 + i)]).bits);
  // ... and a strided destination: a bfloat16 view copied back into float32
  REQUIRE(t.transpose(0, 1).to(DType::Float32).to_vector<float>() == a.to(DType::BFloat16).to(DType::Float32).to_vector<float>());

  Tensor third = Tensor::full({3, 2}, 1.0 / 3.0, DType::BFloat16);
  for (uint16_t b : bits_of(third)) REQUIRE(b == bfloat16::from_float(float(1.0 / 3.0)).bits);
  REQUIRE(third.narrow(0, 1, 1).narrow(1, 1, 1).reshape({}).item() == double(bfloat16::from_float(1.0f / 3.0f).to_float()));
  REQUIRE(Tensor::zeros({4}, DType::BFloat16).to_vector<float>() == std::vector<float>(4, 0.0f));

  std::vector<bfloat16> values = {bfloat16::from_float(1.5f), bfloat16::from_float(-2.25f)};
  Tensor v = Tensor::from_vector<bfloat16>(values, {2});
  REQUIRE(v.to_vector<float>() == std::vector<float>{1.5f, -2.25f});
  std::string printed = v.str();
  INFO(printed);
  REQUIRE(printed.find("1.5") != std::string::npos);
  REQUIRE(printed.find("-2.25") != std::string::npos);
  REQUIRE(printed.find("dtype=bfloat16") != std::string::npos);
  REQUIRE(element_size(DType::BFloat16) == 2);
}

TEST_CASE("bfloat16 tensors: saved as safetensors BF16 and read back bit for bit", "[bfloat16][checkpoint]") {
  fs::path dir = test::temp_dir("bfloat16-safetensors");
  Tensor h = Tensor::randn({3, 33}).to(DType::BFloat16);
  nn::save_safetensors((dir / "h.safetensors").string(), {{"h", h}});
  std::ifstream file(dir / "h.safetensors", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.find("\"dtype\":\"BF16\"") != std::string::npos);
  nn::SafeTensors loaded = nn::load_safetensors((dir / "h.safetensors").string());
  const Tensor& back = loaded.at("h");
  REQUIRE(back.dtype() == DType::BFloat16);
  REQUIRE(back.shape() == Shape{3, 33});
  REQUIRE(bits_of(back) == bits_of(h));
}

TEST_CASE("bfloat16 tensors: ops without a bfloat16 path refuse them and say how to convert", "[bfloat16][errors]") {
  Tensor h = Tensor::randn({4}).to(DType::BFloat16);
  REQUIRE_THROWS_WITH(max(h, 0), Catch::Contains("max") && Catch::Contains("bfloat16") &&
                                     Catch::Contains(".to(DType::Float32)"));
  REQUIRE_THROWS_WITH(Tensor::arange(0, 4, 1, DType::BFloat16), Catch::Contains("arange") && Catch::Contains("bfloat16"));
}

TEST_CASE("cuda: bfloat16 storage: fill and copies to and from every dtype equal the CPU's bits",
          "[cuda][parity][bfloat16]") {
  if (!test::gpu_visible()) return;
  Tensor x = Tensor::randn({33, 65});
  std::vector<uint16_t> cpu = bits_of(x.to(DType::BFloat16)), gpu = bits_of(x.to(Device::cuda()).to(DType::BFloat16));
  REQUIRE(gpu == cpu);
  Tensor strided = x.to(Device::cuda()).transpose(0, 1).to(DType::BFloat16);  // a strided source on the GPU
  REQUIRE(bits_of(strided) == bits_of(x.transpose(0, 1).to(DType::BFloat16)));
  Tensor back = x.to(DType::BFloat16).to(Device::cuda());
  REQUIRE(back.to(DType::Float32).to_vector<float>() == x.to(DType::BFloat16).to(DType::Float32).to_vector<float>());
  REQUIRE(back.to(DType::Float64).to_vector<double>() == x.to(DType::BFloat16).to(DType::Float64).to_vector<double>());
  Tensor ints = Tensor::randint(-256, 257, {100});
  REQUIRE(ints.to(Device::cuda()).to(DType::BFloat16).to(DType::Int64).to_vector<int64_t>() == ints.to_vector<int64_t>());
  REQUIRE(bits_of(Tensor::full({7}, 1.0 / 3.0, DType::BFloat16, Device::cuda())) ==
          bits_of(Tensor::full({7}, 1.0 / 3.0, DType::BFloat16)));
  }

TEST_CASE("bfloat16 tensors: the cast is differentiable, the gradient rounded to bfloat16 on its way back",
          "[bfloat16][autograd]") {
  // y = 3 * float32(bfloat16(x)): dy/dx is 3 (the cast passes the gradient through), and the
  // gradient crosses the cast as a bfloat16 tensor, so it arrives rounded: 3 * u with u random.
  Tensor x = Tensor::randn({64}).requires_grad_();
  Tensor u = Tensor::rand({64});
  Tensor y = mul(x.to(DType::BFloat16).to(DType::Float32), 3.0);
  REQUIRE(y.grad_fn() != nullptr);
  sum(mul(y, u)).backward();
  std::vector<float> g = x.grad().to_vector<float>(), uv = u.to_vector<float>();
  REQUIRE(x.grad().dtype() == DType::Float32);
  for (size_t i = 0; i < g.size(); ++i) REQUIRE(g[i] == bfloat16::from_float(3.0f * uv[i]).to_float());
}
