#include "core/autograd/graph_dump.h"

#include <unordered_set>

#include "core/autograd/node.h"
#include "core/error.h"

namespace dytgrad {

namespace {
std::string tensor_label(const Tensor& t) {
  std::string label = fmt::format("{} {}", shape_str(t.shape()), dtype_name(t.dtype()));
  return t.name().empty() ? label : t.name() + "\\n" + label;
}
}  // namespace

std::string graph_to_dot(const Tensor& root) {
  std::string out = "digraph dytgrad {\n  rankdir=BT;\n  node [fontname=\"monospace\", fontsize=10];\n";
  out += fmt::format("  out [shape=doubleoctagon, label=\"{}\"];\n", tensor_label(root));
  if (!root.grad_fn()) return out + "}\n";
  out += fmt::format("  n{} -> out;\n", root.grad_fn()->id());
  std::unordered_set<const Node*> seen;
  std::unordered_set<const TensorImpl*> leaves;
  std::vector<const Node*> stack{root.grad_fn().get()};
  seen.insert(stack.back());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    std::string saved;
    for (const Tensor& s : n->saved_for_display())
      if (s.defined()) saved += fmt::format("\\nsaved {}", shape_str(s.shape()));
    out += fmt::format("  n{} [shape=box, style=filled, fillcolor={}, label=\"{}\\n-> {}{}\"];\n", n->id(),
                       n->released() ? "gray90" : "lightblue", n->name(), shape_str(n->output_shape), saved);
    for (const Edge& e : n->edges()) {
      if (e.node) {
        out += fmt::format("  n{} -> n{};\n", e.node->id(), n->id());
        if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
      } else if (e.leaf) {
        const TensorImpl* leaf = e.leaf.get();
        if (leaves.insert(leaf).second)
          out += fmt::format("  l{} [shape=ellipse, style=filled, fillcolor=lightyellow, label=\"{}\"];\n",
                             reinterpret_cast<uintptr_t>(leaf), tensor_label(Tensor(e.leaf)));
        out += fmt::format("  l{} -> n{};\n", reinterpret_cast<uintptr_t>(leaf), n->id());
      }
    }
  }
  return out + "}\n";
}

GraphStats GraphStats::now() { return {Node::live_count(), Node::live_saved_bytes()}; }

std::string GraphStats::str() const {
  return fmt::format("{} live nodes holding {} bytes of saved tensors", live_nodes, saved_bytes);
}

}  // namespace dytgrad
