// A first look at dytgrad: build a tiny graph through a DyT layer, run backward, print gradients,
// and dump the graph as Graphviz DOT.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "core/autograd/graph_dump.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "core/random.h"
#include "tools/common/program_error.h"

using namespace dytgrad;

namespace {

void run(uint64_t seed, const std::string& dot_path, const std::string& device_name) {
  Device device = device_name == "cuda" || (device_name == "auto" && cuda_is_available()) ? Device::cuda() : Device::cpu();
  manual_seed(seed);
  Tensor x = Tensor::randn({4, 8}, DType::Float32, device).set_name("x");
  Tensor alpha = Tensor::full({1}, 0.5, DType::Float32, device).requires_grad_().set_name("alpha");
  Tensor gamma = Tensor::ones({8}, DType::Float32, device).requires_grad_().set_name("gamma");
  Tensor beta = Tensor::zeros({8}, DType::Float32, device).requires_grad_().set_name("beta");
  Tensor w = (Tensor::randn({8, 5}, DType::Float32, device) * 0.3).detach().requires_grad_().set_name("W");
  Tensor targets = Tensor::from_vector<int64_t>({0, 3, 1, 4}, {4}, device);

  Tensor logits = matmul(dyt(x, alpha, gamma, beta), w);
  Tensor loss = cross_entropy(logits, targets);
  std::cout << "device: " << device.str() << "\nloss: " << loss << "\n";
  std::cout << "graph: " << GraphStats::now().str() << "\n";
  if (!dot_path.empty()) {
    std::ofstream out(dot_path);
    out << graph_to_dot(loss);
    out.close();
    DYT_CHECK(out.good(), "demo: cannot write the graph to '{}'", dot_path);
    std::cout << "graph written to " << dot_path << " (render: dot -Tpng " << dot_path << " -o graph.png)\n";
  }
  loss.backward();
  std::cout << "d loss / d alpha: " << alpha.grad() << "\n";
  std::cout << "d loss / d gamma: " << gamma.grad() << "\n";
  std::cout << "d loss / d beta:  " << beta.grad() << "\n";
  std::cout << "d loss / d W:     " << w.grad() << "\n";
  std::cout << "after backward: " << GraphStats::now().str() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dytgrad demo: y = mean(cross_entropy(DyT(x) @ W, targets)), backward, gradients"};
  uint64_t seed = 0;
  std::string dot_path;
  std::string device_name = "auto";
  app.add_option("--seed", seed, "random seed");
  app.add_option("--dot", dot_path, "write the graph as Graphviz DOT to this file");
  app.add_option("--device", device_name, "cpu, cuda or auto")->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  CLI11_PARSE(app, argc, argv);
  try {
    run(seed, dot_path, device_name);
  } catch (const std::exception& e) {  // a clear message and exit 1, not an abort
    std::cerr << tools::describe_error(e) << "\n";
    return 1;
  }
  return 0;
}
