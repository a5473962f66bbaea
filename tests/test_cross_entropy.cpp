// cross_entropy: forward against -mean log_softmax at the targets, ignore_index, gradients and second
// derivatives, wide rows in float32, bfloat16 logits, CUDA parity, bad targets.
#include "op_tests.h"

using test::bits_of;
using test::max_relative_error;

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

TEST_CASE("float32 cross_entropy on wide rows matches float64", "[loss]") {
  // 1300 classes: the CPU kernels work through a row in blocks of 512 (vector_math::kBlock), with a tail.
  Tensor x = mul(Tensor::randn({37, 1300}, DType::Float64), 4.0);
  Tensor targets = Tensor::randint(0, 1300, {37});
  Tensor xd = x.detach().requires_grad_(), a = x.to(DType::Float32).requires_grad_();
  Tensor la = cross_entropy(a, targets), ld = cross_entropy(xd, targets);
  REQUIRE(la.item() == Approx(ld.item()).epsilon(1e-6));
  REQUIRE_CLOSE(grad({la}, {a})[0], grad({ld}, {xd})[0], 2e-6);
}

TEST_CASE("cross_entropy on bfloat16 logits: the float32 op on them widened, dlogits rounded once", "[loss][bfloat16]") {
  // 1300 classes (blocks of 512 and a tail), rows ignored; the reference casts the logits to float32
  // (a recorded cast: its gradient is rounded back to bfloat16 once, as the kernel's is).
  Tensor logits = mul(Tensor::randn({37, 1300}), 4.0).to(DType::BFloat16).detach().requires_grad_();
  std::vector<int64_t> targets = Tensor::randint(0, 1300, {37}).to_vector<int64_t>();
  targets[3] = targets[20] = -100;
  Tensor t = Tensor::from_vector<int64_t>(targets, {37});
  Tensor reference = cross_entropy(logits.to(DType::Float32), t);
  Tensor loss;
  {
    AutocastGuard autocast;  // losses in float32
    loss = cross_entropy(logits, t);
  }
  REQUIRE(loss.dtype() == DType::Float32);
  REQUIRE(loss.item() == reference.item());
  Tensor dlogits = grad({loss}, {logits})[0], reference_dlogits = grad({reference}, {logits})[0];
  REQUIRE(dlogits.dtype() == DType::BFloat16);
  REQUIRE(bits_of(dlogits) == bits_of(reference_dlogits));
  REQUIRE(max_relative_error(dlogits, dlogits.to(DType::Float64)) == 0);  // no NaN
  // the gradient's own graph (create_graph) takes the composite: the same values to bfloat16's rounding
  Tensor dlogits_graph = grad({loss}, {logits}, {}, true, true)[0];
  REQUIRE(dlogits_graph.dtype() == DType::BFloat16);
  REQUIRE(max_relative_error(dlogits_graph, dlogits) <= std::ldexp(1.0, -8));
  // outside autocast, bfloat16 logits give a bfloat16 loss, as any op handed only bfloat16
  Tensor rounded = cross_entropy(logits, t);
  REQUIRE(rounded.dtype() == DType::BFloat16);
  REQUIRE(rounded.item() == reference.to(DType::BFloat16).item());
}

TEST_CASE("cross_entropy: bad targets are named, with their position", "[loss][errors]") {
  Tensor logits = Tensor::randn({3, 4});
  REQUIRE_THROWS_WITH(cross_entropy(logits, Tensor::from_vector<int64_t>({0, 4, 1}, {3})),
                      Catch::Contains("cross_entropy") && Catch::Contains("target 4 at position 1") && Catch::Contains("4 classes"));
  REQUIRE_NOTHROW(cross_entropy(logits, Tensor::from_vector<int64_t>({0, -100, 1}, {3})));
  REQUIRE_THROWS_WITH(cross_entropy(logits, Tensor::from_vector<int64_t>({0, 1}, {2})),
                      Catch::Contains("cross_entropy") && Catch::Contains("targets of shape [3]"));
  REQUIRE_THROWS_WITH(cross_entropy(Tensor::randn({2, 3}), Tensor::zeros({2})),
                      Catch::Contains("cross_entropy") && Catch::Contains("targets must be int64"));
}

TEST_CASE("cuda: cross_entropy, float32 and float64, ignore_index, bad targets", "[cuda][parity][shared_memory]") {
  if (!test::gpu_visible()) return;
  for (DType dt : {DType::Float32, DType::Float64})
    for (int64_t classes : {1, 7, 1024, 5003}) {
      double tol = test::parity_tolerance(dt, 1e-5);
      Tensor t = Tensor::randint(0, classes, {37});
      Fn ce = [t](auto& in) { return cross_entropy(in[0], t.to(in[0].device())); };
      check_parity("cross_entropy", ce, {cpu_input({37, classes}, true, 2.0, dt)}, tol, tol);
    }
  Tensor ti = Tensor::from_vector<int64_t>({3, -100, 0, -100, 6}, {5});
  Fn ce_ignore = [ti](auto& in) { return cross_entropy(in[0], ti.to(in[0].device())); };
  check_parity("cross_entropy ignore_index", ce_ignore, {cpu_input({5, 7})}, 1e-5, 1e-5);
  REQUIRE_THROWS_WITH(cross_entropy(Tensor::randn({3, 4}).to(Device::cuda()), Tensor::from_vector<int64_t>({0, 9, 1}, {3}, Device::cuda())),
                      Catch::Contains("target 9 at position 1"));
}

TEST_CASE("cuda: cross_entropy on bfloat16 logits against the CPU's", "[cuda][parity][bfloat16]") {
  if (!test::gpu_visible()) return;
  allow_unverified_cuda_kernels(true);
  for (int64_t classes : {7, 1024, 5003}) {
    INFO(classes << " classes");
    Tensor logits = mul(Tensor::randn({37, classes}), 4.0).to(DType::BFloat16).detach().requires_grad_();
    Tensor on_gpu = logits.to(Device::cuda()).detach().requires_grad_();
    std::vector<int64_t> targets = Tensor::randint(0, classes, {37}).to_vector<int64_t>();
    targets[5] = -100;
    Tensor t = Tensor::from_vector<int64_t>(targets, {37});
    AutocastGuard autocast;
    Tensor loss = cross_entropy(logits, t), gpu_loss = cross_entropy(on_gpu, t.to(Device::cuda()));
    REQUIRE(gpu_loss.dtype() == DType::Float32);
    // float32 sums in another order: the loss to float32's rounding, dlogits to bfloat16's
    REQUIRE(std::abs(gpu_loss.item() - loss.item()) <= 1e-5 * std::abs(loss.item()));
    Tensor dlogits = grad({loss}, {logits})[0], gpu_dlogits = grad({gpu_loss}, {on_gpu})[0];
    REQUIRE(gpu_dlogits.dtype() == DType::BFloat16);
    REQUIRE(max_relative_error(gpu_dlogits.to(Device::cpu()), dlogits) <= 1e-2);
  }
  allow_unverified_cuda_kernels(false);
}
