// libFuzzer harness: an IDX file (plain or gzip) read by read_idx, as train-vit reads Fashion-MNIST.
// Seed corpus: tests/fuzz/corpus/idx/ (tools/fuzz.sh runs it).
#include "fuzz_input.h"
#include "tools/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = dytgrad::fuzz::input_file(data, size, ".idx");
  dytgrad::fuzz::expect_clean_refusal([&] { dytgrad::data::read_idx(path); });
  return 0;
}
