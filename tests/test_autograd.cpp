// The engine: accumulation, retain_grad, hooks, no-grad, detach, retain_graph, create_graph,
// grad(), the DOT dump, the live-node counter and anomaly mode.
#include "core/autograd/engine.h"
#include "core/autograd/grad_mode.h"
#include "core/autograd/graph_dump.h"
#include "core/autograd/node.h"
#include "helpers.h"

using namespace dytgrad;
using test::leaf;

TEST_CASE("gradients accumulate over uses and over backward calls", "[autograd]") {
  Tensor x = leaf({3});
  Tensor y = add(mul(x, x), x);  // dy/dx = 2x + 1
  sum(y).backward();
  auto xv = x.to_vector<double>(), g = x.grad().to_vector<double>();
  for (size_t i = 0; i < 3; ++i) REQUIRE(g[i] == Approx(2 * xv[i] + 1));
  sum(mul(x, 3.0)).backward();  // a second graph adds 3
  g = x.grad().to_vector<double>();
  for (size_t i = 0; i < 3; ++i) REQUIRE(g[i] == Approx(2 * xv[i] + 4));
  x.zero_grad();
  REQUIRE(!x.grad().defined());
}

TEST_CASE("a leaf's gradient never shares memory with another tensor, and is taken without a copy when it could",
          "[autograd]") {
  Tensor a = leaf({2, 3}), b = leaf({2, 3});
  Tensor g = Tensor::randn({2, 3}, DType::Float64);
  add(a, b).backward(g);  // add's backward hands g itself to both leaves
  REQUIRE(a.grad().raw_data() != b.grad().raw_data());
  REQUIRE(a.grad().raw_data() != g.raw_data());
  g.copy_from(Tensor::zeros({2, 3}, DType::Float64));  // the caller's tensor changes; the gradients do not
  REQUIRE(sum(mul(a.grad(), a.grad())).item() > 0);
  REQUIRE_CLOSE(a.grad(), b.grad(), 0);

  Tensor x = leaf({2, 3});
  a.backward(g);  // a leaf's own backward: the caller's g is copied
  REQUIRE(a.grad().raw_data() != g.raw_data());
  Tensor counted = Tensor::randn({2, 3}, DType::Float64);
  sum(mul(x, counted)).backward();  // mul's backward makes a new tensor no one else holds
  REQUIRE_CLOSE(x.grad(), counted, 0);
  REQUIRE(x.grad().raw_data() != counted.raw_data());
}

TEST_CASE("backward with an explicit gradient on a non-scalar", "[autograd]") {
  Tensor x = leaf({2, 2});
  Tensor g = Tensor::randn({2, 2}, DType::Float64);
  mul(x, 2.0).backward(g);
  REQUIRE_CLOSE(x.grad(), mul(g, 2.0), 0);
}

TEST_CASE("retain_grad keeps a non-leaf's gradient, and hooks see and replace gradients", "[autograd]") {
  Tensor x = leaf({3});
  Tensor h = mul(x, 2.0);
  h.retain_grad();
  int calls = 0;
  h.register_hook([&](const Tensor& g) {
    ++calls;
    return mul(g, 10.0);  // scale what flows on to x
  });
  sum(mul(h, h)).backward();
  REQUIRE(calls == 1);
  REQUIRE_CLOSE(h.grad(), mul(h.detach(), 20.0), 1e-15);   // the hook ran before retain_grad stored it
  REQUIRE_CLOSE(x.grad(), mul(h.detach(), 40.0), 1e-15);
  Tensor seen;
  x.zero_grad();
  x.register_hook([&](const Tensor& g) { seen = g; return Tensor(); });
  sum(x).backward();
  REQUIRE(seen.defined());
  REQUIRE_CLOSE(seen, Tensor::ones({3}, DType::Float64), 0);
}

TEST_CASE("no-grad guard and detach stop recording", "[autograd]") {
  Tensor x = leaf({2});
  {
    NoGradGuard guard;
    Tensor y = mul(x, 2.0);
    REQUIRE(!y.requires_grad());
    REQUIRE(!y.grad_fn());
  }
  REQUIRE(GradMode::is_enabled());
  Tensor d = x.detach();
  REQUIRE(!d.requires_grad());
  REQUIRE(d.raw_data() == x.raw_data());
  REQUIRE(mul(x, 2.0).grad_fn()->name() == "mul_scalar");
}

TEST_CASE("a second backward through freed buffers is a clear error, retain_graph allows it", "[autograd][errors]") {
  Tensor x = leaf({3});
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();  // retained once: fine, and accumulates
  REQUIRE_CLOSE(x.grad(), mul(exp(x.detach()), 2.0), 1e-15);
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("second time") && Catch::Contains("retain_graph"));
}

TEST_CASE("create_graph gives differentiable gradients (x^3: first 3x^2, second 6x)", "[autograd]") {
  Tensor x = leaf({4});
  Tensor y = sum(mul(mul(x, x), x));
  auto g = grad({y}, {x}, {}, true, true);
  REQUIRE(g[0].requires_grad());
  REQUIRE_CLOSE(g[0], mul(mul(x.detach(), x.detach()), 3.0), 1e-14);
  auto gg = grad({sum(g[0])}, {x});
  REQUIRE_CLOSE(gg[0], mul(x.detach(), 6.0), 1e-14);
  REQUIRE(!x.grad().defined());  // grad() never touches .grad
}

TEST_CASE("grad() with respect to a non-leaf stops there", "[autograd]") {
  Tensor x = leaf({3});
  Tensor h = exp(x);
  Tensor y = sum(mul(h, h));
  auto g = grad({y}, {h});
  REQUIRE_CLOSE(g[0], mul(h.detach(), 2.0), 1e-15);
}

TEST_CASE("the graph dumps as DOT and the node counter sees it freed", "[autograd][graph]") {
  int64_t before = Node::live_count();
  {
    Tensor x = leaf({2, 3}).set_name("x");
    Tensor w = leaf({3, 4}).set_name("w");
    Tensor y = sum(tanh(matmul(x, w)));
    std::string dot = graph_to_dot(y);
    REQUIRE(dot.find("digraph") == 0);
    REQUIRE(dot.find("matmul") != std::string::npos);
    REQUIRE(dot.find("tanh") != std::string::npos);
    REQUIRE(dot.find("saved [2, 4]") != std::string::npos);  // tanh keeps its output
    REQUIRE(dot.find("x\\n[2, 3] float64") != std::string::npos);
    REQUIRE(GraphStats::now().live_nodes == before + 3);
    REQUIRE(GraphStats::now().saved_bytes >= (6 + 12 + 8) * 8);
    y.backward();
  }
  REQUIRE(Node::live_count() == before);
}

TEST_CASE("anomaly mode names the op whose backward made a NaN", "[autograd][anomaly]") {
  Tensor x = Tensor::from_vector<double>({0.0, 1.0}, {2}).requires_grad_();
  auto run = [&] { sum(sqrt(x)).backward(); };  // d sqrt(x)/dx at 0 is inf
  REQUIRE_NOTHROW(run());
  x.zero_grad();
  DetectAnomalyGuard guard;
  REQUIRE_THROWS_WITH(run(), Catch::Contains("anomaly") && Catch::Contains("'sqrt'"));
}

TEST_CASE("deep chains do not overflow the stack: backward, and freeing the graph", "[autograd]") {
  // A million ops: freeing the graph used to recurse once per node (the stack overflowed near
  // 300,000 ops, and at 20,000 under AddressSanitizer). Under AddressSanitizer 100,000, five times
  // that depth, in a tenth of the time (a million took 95 s there, the sanitizer suite's tail).
#ifdef __SANITIZE_ADDRESS__
  constexpr int kOps = 100000;
#else
  constexpr int kOps = 1000000;
#endif
  int64_t nodes_before = Node::live_count();
  {
    Tensor x = leaf({1});
    Tensor y = x;
    for (int i = 0; i < kOps; ++i) y = add(y, 1.0);
    y.backward();
    REQUIRE(x.grad().item() == 1.0);
  }
  {
    Tensor x = leaf({1});
    Tensor y = x;
    for (int i = 0; i < kOps; ++i) y = pow(y, 1.0);  // pow saves its input: the links run through saved tensors too
    REQUIRE(Node::live_count() - nodes_before == kOps);
  }  // freed without a backward
  REQUIRE(Node::live_count() == nodes_before);
}

TEST_CASE("gradcheck fails on a wrong gradient", "[autograd][gradcheck]") {
  TensorFunction wrong = [](const std::vector<Tensor>& in) {
    Tensor h = tanh(in[0]);
    if (h.requires_grad()) h.register_hook([](const Tensor& g) { return mul(g, 1.001); });  // a 0.1% error
    return h;
  };
  auto r = gradcheck(wrong, {test::leaf({3})});
  REQUIRE(!r.ok);
  REQUIRE(r.message.find("analytic") != std::string::npos);
  TensorFunction right = [](const std::vector<Tensor>& in) { return tanh(in[0]); };
  REQUIRE(gradcheck(right, {test::leaf({3})}).ok);
}

TEST_CASE("backward misuse is explained", "[errors][autograd]") {
  Tensor x = test::leaf({2, 2});
  REQUIRE_THROWS_WITH(mul(x, 2.0).backward(), Catch::Contains("one-element") && Catch::Contains("[2, 2]"));
  REQUIRE_THROWS_WITH(Tensor::randn({1}).backward(), Catch::Contains("does not require grad"));
  REQUIRE_THROWS_WITH(mul(x, 2.0).backward(Tensor::ones({3}, DType::Float64)), Catch::Contains("gradient shape [3]"));
}
