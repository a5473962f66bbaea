#include "core/random.h"

namespace dytgrad {

Generator& Generator::default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) { Generator::default_generator().manual_seed(seed); }

}  // namespace dytgrad
