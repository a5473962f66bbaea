// Seeing the graph: a Graphviz DOT dump (ops, output shapes, saved tensors, leaves) and counters
// of live nodes and the bytes their saved tensors hold.
#pragma once
#include <string>

#include "../tensor.h"

namespace dytgrad {

std::string graph_to_dot(const Tensor& root);

struct GraphStats {
  int64_t live_nodes = 0;
  int64_t saved_bytes = 0;
  static GraphStats now();
  std::string str() const;
};

}  // namespace dytgrad
