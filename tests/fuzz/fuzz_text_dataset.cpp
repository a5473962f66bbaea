// libFuzzer harness: a text file read by TextDataset (the vocabulary, the split) and a batch drawn
// from each part, as train-gpt does.
// Seed corpus: tests/fuzz/corpus/text_dataset/ (tools/fuzz.sh runs it).
#include "fuzz_input.h"
#include "tools/data/text_dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = dytgrad::fuzz::input_file(data, size, ".txt");
  dytgrad::fuzz::expect_clean_refusal([&] {
    dytgrad::data::TextDataset text(path);
    dytgrad::Generator gen(1);
    text.batch(false, 2, 4, gen, dytgrad::Device::cpu());
    text.batch(true, 2, 4, gen, dytgrad::Device::cpu());
  });
  return 0;
}
