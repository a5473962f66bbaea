// Printing, numpy-style: nested brackets, aligned columns, and "..." in place of the middle of any
// dim longer than 6 when the tensor has more than 1000 elements.
#include <ostream>

#include "core/autograd/node.h"
#include "core/error.h"
#include "core/tensor.h"

namespace dytgrad {

namespace {

constexpr int64_t kSummarizeAbove = 1000;
constexpr int64_t kEdgeItems = 3;

struct Printer {
  const std::vector<double>& values;
  const Shape& shape;
  bool summarize;
  bool integral;
  size_t width = 0;

  std::string number(double v) const {
    if (integral) return fmt::format("{}", int64_t(v));
    return fmt::format("{:.4f}", v);
  }

  std::vector<int64_t> shown(int64_t size) const {
    std::vector<int64_t> idx;
    if (summarize && size > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
      idx.push_back(-1);  // the "..." marker
      for (int64_t i = size - kEdgeItems; i < size; ++i) idx.push_back(i);
    } else {
      for (int64_t i = 0; i < size; ++i) idx.push_back(i);
    }
    return idx;
  }

  void measure(size_t d, int64_t base) {
    if (d == shape.size()) { width = std::max(width, number(values[base]).size()); return; }
    int64_t stride = numel_of(Shape(shape.begin() + d + 1, shape.end()));
    for (int64_t i : shown(shape[d]))
      if (i >= 0) measure(d + 1, base + i * stride);
  }

  void print(std::string& out, size_t d, int64_t base, size_t indent) const {
    if (d == shape.size()) {
      std::string s = number(values[base]);
      out += std::string(width - s.size(), ' ') + s;
      return;
    }
    int64_t stride = numel_of(Shape(shape.begin() + d + 1, shape.end()));
    out += "[";
    auto idx = shown(shape[d]);
    for (size_t j = 0; j < idx.size(); ++j) {
      if (j > 0) {
        out += ",";
        if (d + 1 == shape.size()) out += " ";
        else out += std::string(shape.size() - d - 1, '\n') + std::string(indent + d + 1, ' ');
      }
      if (idx[j] < 0) out += "...";
      else print(out, d + 1, base + idx[j] * stride, indent);
    }
    out += "]";
  }
};

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> values = to_vector<double>();
  Printer p{values, shape(), numel() > kSummarizeAbove, !is_floating(dtype())};
  std::string out = "tensor(";
  if (numel() == 0) out += "[]";
  else {
    p.measure(0, 0);
    p.print(out, 0, 0, 7);
  }
  out += fmt::format(", shape={}, dtype={}, device={}", shape_str(shape()), dtype_name(dtype()), device().str());
  if (grad_fn()) out += fmt::format(", grad_fn={}", grad_fn()->name());
  else if (requires_grad()) out += ", requires_grad=true";
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace dytgrad
