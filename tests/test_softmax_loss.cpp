// softmax, log_softmax and cross_entropy: forward against float64 formulas, gradients and
// second derivatives, ignore_index.
#include "helpers.h"

using namespace dytgrad;
using test::leaf;
using test::strided_leaf;
using Fn = TensorFunction;

TEST_CASE("softmax forward: rows sum to one, matches exp / sum exp, stable for large inputs", "[softmax]") {
  Tensor x = mul(Tensor::randn({6, 9}, DType::Float64), 3.0);
  Tensor ref = div(exp(x), sum(exp(x), {-1}, true));
  REQUIRE_CLOSE(softmax(x), ref, 1e-14);
  REQUIRE_CLOSE(log_softmax(x), log(ref), 1e-13);
  REQUIRE_CLOSE(softmax(x, 0), div(exp(x), sum(exp(x), {0}, true)), 1e-14);
  REQUIRE_CLOSE(softmax(x.to(DType::Float32)), ref, 1e-6);
  Tensor big = add(x, 1000.0);  // exp would overflow without the max shift
  REQUIRE_CLOSE(softmax(big), ref, 1e-12);
}

TEST_CASE("softmax and log_softmax gradients and second derivatives", "[softmax][gradcheck]") {
  Fn sm = [](auto& in) { return softmax(in[0], -1); };
  Fn sm0 = [](auto& in) { return softmax(in[0], 0); };
  Fn lsm = [](auto& in) { return log_softmax(in[0], 1); };
  for (const Fn& f : {sm, sm0, lsm}) {
    REQUIRE_GRADCHECK(f, leaf({3, 5}));
    REQUIRE_GRADCHECK(f, strided_leaf({3, 5}));
    REQUIRE_GRADGRADCHECK(f, leaf({3, 5}));
  }
}

TEST_CASE("cross_entropy forward equals -mean log_softmax at the targets", "[loss]") {
  Tensor logits = Tensor::randn({5, 7}, DType::Float64);
  Tensor t = Tensor::from_vector<int64_t>({0, 6, 3, 3, 1}, {5});
  auto lsm = log_softmax(logits).to_vector<double>();
  double ref = -(lsm[0] + lsm[7 + 6] + lsm[14 + 3] + lsm[21 + 3] + lsm[28 + 1]) / 5;
  REQUIRE(cross_entropy(logits, t).item() == Approx(ref).epsilon(1e-13));
  Tensor ignored = Tensor::from_vector<int64_t>({0, -100, 3, -100, 1}, {5});
  double ref_ignored = -(lsm[0] + lsm[14 + 3] + lsm[28 + 1]) / 3;
  REQUIRE(cross_entropy(logits, ignored).item() == Approx(ref_ignored).epsilon(1e-13));
  REQUIRE(cross_entropy(logits.to(DType::Float32), t).item() == Approx(ref).epsilon(1e-6));
  // classes last, any leading dims
  REQUIRE(cross_entropy(logits.reshape({5, 1, 7}), t.reshape({5, 1})).item() == Approx(ref).epsilon(1e-13));
}

TEST_CASE("cross_entropy gradients, ignore_index, second derivatives", "[loss][gradcheck]") {
  Tensor t = Tensor::randint(0, 6, {4});
  Tensor ti = Tensor::from_vector<int64_t>({2, 0, 5, 0}, {4});
  Fn ce = [t](auto& in) { return cross_entropy(in[0], t); };
  Fn ce_ignore = [ti](auto& in) { return cross_entropy(in[0], ti, 0); };  // ignore class 0
  Fn ce3d = [t](auto& in) { return cross_entropy(in[0], t.reshape({2, 2})); };
  REQUIRE_GRADCHECK(ce, leaf({4, 6}));
  REQUIRE_GRADCHECK(ce, strided_leaf({4, 6}));
  REQUIRE_GRADCHECK(ce_ignore, leaf({4, 6}));
  REQUIRE_GRADCHECK(ce3d, leaf({2, 2, 6}));
  REQUIRE_GRADGRADCHECK(ce, leaf({4, 6}));
  REQUIRE_GRADGRADCHECK(ce_ignore, leaf({4, 6}));
  // The ignored rows get no gradient at all.
  Tensor x = leaf({4, 6});
  cross_entropy(x, ti, 0).backward();
  auto g = x.grad().to_vector<double>();
  for (int c = 0; c < 6; ++c) REQUIRE((g[6 + c] == 0 && g[18 + c] == 0));
}

TEST_CASE("float32 softmax, log_softmax and cross_entropy on wide rows match float64", "[softmax][loss]") {
  // 1300 columns: the CPU kernels work through a row in blocks of 512 (vector_math::kBlock), with a tail.
  Tensor x = mul(Tensor::randn({37, 1300}, DType::Float64), 4.0), dy = Tensor::randn({37, 1300}, DType::Float64);
  Tensor targets = Tensor::randint(0, 1300, {37});
  auto x32 = [&] { return x.to(DType::Float32).requires_grad_(); };
  Tensor xd = x.detach().requires_grad_();
  for (bool log : {false, true}) {
    INFO("log " << log);
    auto op = [log](const Tensor& t) { return log ? log_softmax(t, -1) : softmax(t, -1); };
    Tensor a = x32(), ya = op(a), yd = op(xd);
    REQUIRE_CLOSE(ya, yd, 2e-6);
    auto ga = grad({ya}, {a}, {dy.to(DType::Float32)}), gd = grad({yd}, {xd}, {dy});
    REQUIRE_CLOSE(ga[0], gd[0], 2e-6);
  }
  Tensor a = x32(), la = cross_entropy(a, targets), ld = cross_entropy(xd, targets);
  REQUIRE(la.item() == Approx(ld.item()).epsilon(1e-6));
  REQUIRE_CLOSE(grad({la}, {a})[0], grad({ld}, {xd})[0], 2e-6);
}
