// A node of the backward graph: one op application. It has exactly one output (ops with several
// results, like split, are several nodes), the edges to where each input's gradient goes, the
// tensors its backward formula needs, and the formula itself.
//
//   output = op(inputs...)          forward, recorded by record_op() below
//   grads_of_inputs = backward(grad_of_output, saved)
//
// Each edge leads to the node that produced that input, or to the input itself when it is a leaf
// that requires grad, or nowhere when the input needs no gradient.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../tensor.h"

namespace dytgrad {

struct Edge {
  std::shared_ptr<Node> node;          // the producer of the input, or
  std::shared_ptr<TensorImpl> leaf;    // the leaf input itself
  bool connected() const { return node || leaf; }
};

using BackwardFormula =
    std::function<std::vector<Tensor>(const Tensor& grad_output, const std::vector<Tensor>& saved)>;

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node(std::string name, std::vector<Edge> edges, BackwardFormula formula);
  ~Node();

  const std::string& name() const { return name_; }
  int64_t id() const { return id_; }
  const std::vector<Edge>& edges() const { return edges_; }
  bool released() const { return released_; }

  // The tensors backward needs. Saving the node's own output is allowed: it is kept without its
  // grad_fn (no reference cycle) and re-attached to this node when backward runs.
  void save(std::vector<Tensor> tensors, const Tensor& output);
  const std::vector<Tensor>& saved_for_display() const { return saved_; }
  int64_t saved_bytes() const { return saved_bytes_; }

  // Runs the formula; throws if the buffers were freed by an earlier backward.
  std::vector<Tensor> apply(const Tensor& grad_output);
  // Frees the saved tensors and the formula (backward without retain_graph).
  void release();

  // Shape, dtype and device of the output, and a weak link to it for hooks and retain_grad.
  Shape output_shape;
  DType output_dtype = DType::Float32;
  Device output_device;
  std::weak_ptr<TensorImpl> output;

  static int64_t live_count();        // nodes alive now
  static int64_t live_saved_bytes();  // bytes held by saved tensors of live nodes

 private:
  std::string name_;
  int64_t id_;
  std::vector<Edge> edges_;
  BackwardFormula formula_;
  std::vector<Tensor> saved_;
  int saved_output_index_ = -1;
  int64_t saved_bytes_ = 0;
  bool released_ = false;
};

// Does any of these tensors need a gradient, with grad mode on?
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Records `output = name(inputs)` in the graph when any input requires grad and grad mode is on:
// output gets a grad_fn whose formula returns one gradient per input (undefined where none).
// Returns output for convenience.
Tensor record_op(const char* name, const std::vector<Tensor>& inputs, const Tensor& output,
                 std::vector<Tensor> saved, BackwardFormula formula);

}  // namespace dytgrad
