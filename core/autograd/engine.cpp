// The engine, in four steps:
//   1. seed: the gradient of each output (ones for a one-element output without one);
//   2. order: a depth-first post-order over the nodes reachable from the outputs, reversed, puts
//      every node before the nodes of its inputs (a topological order);
//   3. run: in that order, each node takes the sum of the gradients that reached it, runs the
//      tensor's hooks, applies its backward formula and passes each input's gradient along its edge;
//   4. deliver: gradients reaching a leaf are accumulated into its .grad (backward) or captured
//      for the caller (grad); nodes are released unless retain_graph.
#include "core/autograd/engine.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/error.h"
#include "core/ops/ops.h"
#include "core/profiler.h"

namespace dytgrad {

namespace {

Tensor run_hooks(const std::shared_ptr<TensorImpl>& impl, Tensor grad) {
  if (!impl) return grad;
  for (auto& hook : impl->hooks) {
    Tensor replaced = hook(grad);
    if (replaced.defined()) {
      DYT_CHECK(replaced.shape() == grad.shape(),
                "backward: a gradient hook returned shape {} for a tensor of shape {}",
                shape_str(replaced.shape()), shape_str(grad.shape()));
      grad = replaced;
    }
  }
  return grad;
}

Tensor accumulate(const Tensor& sum, const Tensor& g) { return sum.defined() ? add(sum, g) : g; }

void check_nonfinite(const Node& node, size_t input, const Tensor& g) {
  if (!is_floating(g.dtype()) || !has_nonfinite(g)) return;
  throw Error(fmt::format(
      "anomaly detected: the backward of op '{}' (node #{}, output shape {}) produced NaN or Inf "
      "in the gradient of its input {} (shape {})",
      node.name(), node.id(), shape_str(node.output_shape), input, shape_str(g.shape())));
}

// Reverse post-order of the nodes reachable from `roots`, restricted to `keep` when given.
std::vector<Node*> topological_order(const std::vector<Node*>& roots,
                                     const std::unordered_set<Node*>* keep) {
  std::vector<Node*> post;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack;
  for (Node* root : roots) {
    if (!root || seen.count(root) || (keep && !keep->count(root))) continue;
    seen.insert(root);
    stack.push_back({root, 0});
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->edges().size()) {
        Node* child = node->edges()[next++].node.get();
        if (child && !seen.count(child) && (!keep || keep->count(child))) {
          seen.insert(child);
          stack.push_back({child, 0});
        }
      } else {
        post.push_back(node);
        stack.pop_back();
      }
    }
  }
  return {post.rbegin(), post.rend()};
}

// Nodes from which some target (a node or a leaf) can be reached: the only ones grad() must run.
std::unordered_set<Node*> nodes_leading_to(const std::vector<Node*>& roots,
                                           const std::unordered_set<Node*>& target_nodes,
                                           const std::unordered_set<TensorImpl*>& target_leaves) {
  std::vector<Node*> order = topological_order(roots, nullptr);
  std::unordered_set<Node*> useful;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {  // inputs before users
    Node* n = *it;
    bool leads = false;
    for (const Edge& e : n->edges())
      leads = leads || (e.leaf && target_leaves.count(e.leaf.get())) ||
              (e.node && (target_nodes.count(e.node.get()) || useful.count(e.node.get())));
    if (leads) useful.insert(n);
  }
  return useful;
}

struct Seeds {
  std::vector<Node*> roots;
  std::unordered_map<Node*, Tensor> node_grads;
  std::vector<std::pair<std::shared_ptr<TensorImpl>, Tensor>> leaf_grads;
};

Seeds seed(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs) {
  DYT_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
            "backward: got {} gradients for {} outputs", grad_outputs.size(), outputs.size());
  Seeds s;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    DYT_CHECK(out.defined(), "backward: output {} is an undefined tensor", i);
    DYT_CHECK(out.requires_grad(),
              "backward: output {} (shape {}) does not require grad and has no grad_fn: nothing "
              "upstream of it requires grad, or it was computed under NoGradGuard",
              i, shape_str(out.shape()));
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      DYT_CHECK(out.numel() == 1,
                "backward: a gradient can be created implicitly only for one-element outputs; "
                "output {} has shape {}; pass a gradient of that shape",
                i, shape_str(out.shape()));
      g = Tensor::ones(out.shape(), out.dtype(), out.device());
    }
    DYT_CHECK(g.shape() == out.shape(), "backward: gradient shape {} does not match output shape {}",
              shape_str(g.shape()), shape_str(out.shape()));
    DYT_CHECK(g.dtype() == out.dtype() && g.device() == out.device(),
              "backward: gradient is {} on {} but the output is {} on {}", dtype_name(g.dtype()),
              g.device().str(), dtype_name(out.dtype()), out.device().str());
    if (out.grad_fn()) {
      Node* n = out.grad_fn().get();
      s.node_grads[n] = accumulate(s.node_grads[n], g);
      s.roots.push_back(n);
    } else {
      s.leaf_grads.push_back({out.impl_ptr(), g});
    }
  }
  return s;
}

// Where gradients reaching a leaf (or, for grad(), a captured node) go.
struct Sink {
  bool into_leaf_grads = true;  // backward(): accumulate into .grad
  std::unordered_map<TensorImpl*, size_t> leaf_index;  // grad(): capture by input position
  std::unordered_map<Node*, size_t> node_index;
  std::vector<Tensor> captured;
};

// Whether g is the only handle on its memory and covers all of it: then it can become a leaf's
// .grad as it is (PyTorch takes such gradients too); any other is copied, so that a .grad never
// shares memory with a tensor in use elsewhere. Most gradients qualify (a matmul's, a sum's, a
// kernel's result), which saves a pass over every parameter's gradient a step.
bool held_only_here(const Tensor& g) {
  const TensorImpl& impl = g.impl();
  return g.impl_ptr().use_count() == 1 && impl.storage.use_count() == 1 && impl.offset == 0 && g.is_contiguous() &&
         size_t(g.numel() * element_size(g.dtype())) == impl.storage->bytes();
}

// g: moved in by the caller, so that held_only_here can see whether anything else holds it.
void deliver_to_leaf(const std::shared_ptr<TensorImpl>& leaf, Tensor g, Sink& sink, bool create_graph) {
  if (!sink.into_leaf_grads) {
    auto it = sink.leaf_index.find(leaf.get());
    if (it != sink.leaf_index.end()) sink.captured[it->second] = accumulate(sink.captured[it->second], g);
    return;
  }
  g = run_hooks(leaf, g);
  if (!create_graph) g = held_only_here(g) ? g.detach() : g.detach().clone();
  leaf->grad = accumulate(leaf->grad ? Tensor(leaf->grad) : Tensor(), g).impl_ptr();
}

void run(Seeds seeds, Sink& sink, bool retain_graph, bool create_graph) {
  profiler::PhaseScope phase(profiler::Phase::Backward);
  GradModeGuard mode(create_graph);
  AutocastGuard no_autocast(false);  // the backward runs in the dtypes the forward chose
  std::unordered_set<Node*> useful;
  if (!sink.into_leaf_grads) {
    std::unordered_set<Node*> target_nodes;
    std::unordered_set<TensorImpl*> target_leaves;
    for (auto& [n, i] : sink.node_index) target_nodes.insert(n);
    for (auto& [l, i] : sink.leaf_index) target_leaves.insert(l);
    useful = nodes_leading_to(seeds.roots, target_nodes, target_leaves);
    for (Node* n : target_nodes) useful.insert(n);
  }
  for (auto& [leaf, g] : seeds.leaf_grads) deliver_to_leaf(leaf, g, sink, create_graph);
  std::vector<Node*> order = topological_order(seeds.roots, sink.into_leaf_grads ? nullptr : &useful);
  std::unordered_map<Node*, Tensor>& grads = seeds.node_grads;
  for (Node* node : order) {
    auto found = grads.find(node);
    if (found == grads.end()) continue;
    Tensor g = found->second;
    grads.erase(found);
    std::shared_ptr<TensorImpl> out = node->output.lock();
    g = run_hooks(out, g);
    if (out && out->retains_grad) {
      Tensor kept = create_graph ? g : g.detach().clone();
      out->grad = accumulate(out->grad ? Tensor(out->grad) : Tensor(), kept).impl_ptr();
    }
    auto captured = sink.node_index.find(node);
    if (captured != sink.node_index.end())
      sink.captured[captured->second] = accumulate(sink.captured[captured->second], g);
    bool needed = sink.into_leaf_grads || std::any_of(node->edges().begin(), node->edges().end(), [&](const Edge& e) {
      return (e.node && useful.count(e.node.get())) || (e.leaf && sink.leaf_index.count(e.leaf.get()));
    });
    if (!needed) continue;
    std::vector<Tensor> input_grads = node->apply(g);
    DYT_CHECK(input_grads.size() == node->edges().size(),
              "internal: backward of '{}' returned {} gradients for {} inputs", node->name(),
              input_grads.size(), node->edges().size());
    for (size_t i = 0; i < input_grads.size(); ++i) {
      const Edge& e = node->edges()[i];
      const Tensor& gi = input_grads[i];
      if (!e.connected() || !gi.defined()) continue;
      const Shape& expected = e.node ? e.node->output_shape : e.leaf->shape;
      DYT_CHECK(gi.shape() == expected,
                "internal: backward of '{}' gave input {} a gradient of shape {}, expected {}",
                node->name(), i, shape_str(gi.shape()), shape_str(expected));
      if (AnomalyMode::is_enabled()) check_nonfinite(*node, i, gi);
      if (e.node) grads[e.node.get()] = accumulate(grads[e.node.get()], gi);
      else deliver_to_leaf(e.leaf, std::move(input_grads[i]), sink, create_graph);
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph, bool create_graph) {
  Sink sink;
  run(seed(outputs, grad_outputs), sink, retain_graph, create_graph);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph, bool create_graph) {
  Sink sink;
  sink.into_leaf_grads = false;
  sink.captured.resize(inputs.size());
  for (size_t j = 0; j < inputs.size(); ++j) {
    const Tensor& x = inputs[j];
    DYT_CHECK(x.defined() && x.requires_grad(),
              "grad: input {} does not require grad, so no gradient can be taken with respect to it", j);
    if (x.grad_fn()) sink.node_index[x.grad_fn().get()] = j;
    else sink.leaf_index[x.impl_ptr().get()] = j;
  }
  run(seed(outputs, grad_outputs), sink, retain_graph, create_graph);
  return sink.captured;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  dytgrad::backward({*this}, {gradient}, retain_graph, create_graph);
}

}  // namespace dytgrad
