#include "core/autograd/node.h"

#include "core/autograd/grad_mode.h"
#include "core/error.h"

namespace dytgrad {

namespace {
std::atomic<int64_t> g_live_nodes{0};
std::atomic<int64_t> g_live_saved_bytes{0};
std::atomic<int64_t> g_next_id{0};

int64_t storage_bytes(const Tensor& t) { return t.defined() ? t.numel() * element_size(t.dtype()) : 0; }
}  // namespace

Node::Node(std::string name, std::vector<Edge> edges, BackwardFormula formula)
    : name_(std::move(name)), id_(g_next_id++), edges_(std::move(edges)), formula_(std::move(formula)) {
  ++g_live_nodes;
}

// Freeing a graph: a node owns its producers (through its edges and the grad_fn of its saved
// tensors), so letting the members go would free the chain behind it recursively, one stack frame
// per node, and a long chain overflows the stack. Instead the links this node holds are moved to
// a list, and each linked node of which the list holds the last reference is emptied the same way
// before it goes: every node is destroyed with nothing left to free behind it, at constant depth.
namespace {
void move_links(std::vector<Edge>& edges, std::vector<Tensor>& saved, std::vector<std::shared_ptr<Node>>& out) {
  for (Edge& e : edges)
    if (e.node) out.push_back(std::move(e.node));
  edges.clear();
  for (Tensor& t : saved)
    if (t.defined() && t.impl_ptr().use_count() == 1 && t.impl().grad_fn) out.push_back(std::move(t.impl().grad_fn));
  saved.clear();
}
}  // namespace

Node::~Node() {
  --g_live_nodes;
  g_live_saved_bytes -= saved_bytes_;
  std::vector<std::shared_ptr<Node>> pending;
  move_links(edges_, saved_, pending);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (node.use_count() == 1) move_links(node->edges_, node->saved_, pending);
  }  // each node is released here, its links already moved out
}

void Node::save(std::vector<Tensor> tensors, const Tensor& output) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].defined() && tensors[i].same_as(output)) {
      saved_output_index_ = int(i);
      tensors[i] = output.detach();
    }
    saved_bytes_ += storage_bytes(tensors[i]);
  }
  g_live_saved_bytes += saved_bytes_;
  saved_ = std::move(tensors);
}

std::vector<Tensor> Node::apply(const Tensor& grad_output) {
  DYT_CHECK(!released_,
            "backward: trying to run backward through op '{}' (node #{}) a second time, but its saved "
            "tensors were freed by the first backward; call backward with retain_graph=true the first "
            "time if you need to go through the graph again",
            name_, id_);
  if (saved_output_index_ < 0) return formula_(grad_output, saved_);
  // Re-attach the saved output to this node so that a create_graph backward differentiates it.
  std::vector<Tensor> saved = saved_;
  auto impl = std::make_shared<TensorImpl>(saved[saved_output_index_].impl());
  impl->grad_fn = shared_from_this();
  impl->requires_grad = true;
  saved[saved_output_index_] = Tensor(impl);
  return formula_(grad_output, saved);
}

void Node::release() {
  saved_.clear();
  formula_ = nullptr;
  g_live_saved_bytes -= saved_bytes_;
  saved_bytes_ = 0;
  released_ = true;
}

int64_t Node::live_count() { return g_live_nodes; }
int64_t Node::live_saved_bytes() { return g_live_saved_bytes; }

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record_op(const char* name, const std::vector<Tensor>& inputs, const Tensor& output,
                 std::vector<Tensor> saved, BackwardFormula formula) {
  if (!any_requires_grad(inputs)) return output;
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const auto& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn()) e.node = t.grad_fn();
      else e.leaf = t.impl_ptr();
    }
    edges.push_back(std::move(e));
  }
  auto node = std::make_shared<Node>(name, std::move(edges), std::move(formula));
  node->output_shape = output.shape();
  node->output_dtype = output.dtype();
  node->output_device = output.device();
  node->output = output.impl_ptr();
  node->save(std::move(saved), output);
  output.impl().grad_fn = node;
  output.impl().requires_grad = true;
  return output;
}

}  // namespace dytgrad
