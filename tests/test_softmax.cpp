// softmax and log_softmax: forward against float64 formulas (large inputs too), gradients and second
// derivatives, wide rows in float32, CUDA parity.
#include "op_tests.h"

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

TEST_CASE("float32 softmax and log_softmax on wide rows match float64", "[softmax]") {
  // 1300 columns: the CPU kernels work through a row in blocks of 512 (vector_math::kBlock), with a tail.
  Tensor x = mul(Tensor::randn({37, 1300}, DType::Float64), 4.0), dy = Tensor::randn({37, 1300}, DType::Float64);
  Tensor xd = x.detach().requires_grad_();
  for (bool log : {false, true}) {
    INFO("log " << log);
    auto op = [log](const Tensor& t) { return log ? log_softmax(t, -1) : softmax(t, -1); };
    Tensor a = x.to(DType::Float32).requires_grad_(), ya = op(a), yd = op(xd);
    REQUIRE_CLOSE(ya, yd, 2e-6);
    auto ga = grad({ya}, {a}, {dy.to(DType::Float32)}), gd = grad({yd}, {xd}, {dy});
    REQUIRE_CLOSE(ga[0], gd[0], 2e-6);
  }
}

TEST_CASE("cuda: softmax and log_softmax, float32 and float64", "[cuda][parity][shared_memory]") {
  if (!test::gpu_visible()) return;
  Fn sm = [](auto& in) { return softmax(in[0], -1); };
  Fn lsm = [](auto& in) { return log_softmax(in[0], -1); };
  Fn sm0 = [](auto& in) { return softmax(in[0], 0); };
  for (DType dt : {DType::Float32, DType::Float64})
    for (const Shape& s : test::kAwkwardShapes) {
      double tol = test::parity_tolerance(dt, 1e-5);
      check_parity("softmax", sm, {cpu_input(s, true, 3.0, dt)}, tol, tol);
      check_parity("log_softmax", lsm, {cpu_input(s, true, 3.0, dt)}, tol, tol);
      check_parity("softmax dim 0", sm0, {cpu_input(s, true, 1.0, dt)}, tol, tol);
    }
}
