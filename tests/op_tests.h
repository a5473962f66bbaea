// What every op family's test file (tests/test_<family>.cpp) starts from: the shared helpers, the
// CUDA parity check, the names they all use, and the gradient checks most families run.
#pragma once
#include <utility>
#include <vector>

#include "cuda_parity.h"
#include "helpers.h"

using namespace dytgrad;
using dytgrad::test::check_parity;
using dytgrad::test::cpu_input;
using dytgrad::test::leaf;
using dytgrad::test::strided_leaf;
using Fn = dytgrad::TensorFunction;

namespace dytgrad::test {

// Each op (a name and a function of one input) passes gradcheck on a fresh float64 leaf of `shape`
// and on a non-contiguous one, and gradgradcheck.
inline void require_gradients_of_each(const std::vector<std::pair<const char*, Fn>>& ops, const Shape& shape) {
  for (auto& [name, f] : ops) {
    INFO(name);
    REQUIRE_GRADCHECK(f, leaf(shape));
    REQUIRE_GRADCHECK(f, strided_leaf(shape));
    REQUIRE_GRADGRADCHECK(f, leaf(shape));
  }
}

}  // namespace dytgrad::test
