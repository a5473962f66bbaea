// libFuzzer harness: a safetensors file read by load_safetensors and, when it reads, loaded as a GPT
// checkpoint of train-gpt (its gpt.config and gpt.vocabulary metadata, then its weights).
// Seed corpus: tests/fuzz/corpus/safetensors/ (tools/fuzz.sh runs it).
#include "fuzz_input.h"
#include "nn/safetensors.h"
#include "tools/common/gpt_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = dytgrad::fuzz::input_file(data, size, ".safetensors");
  dytgrad::fuzz::expect_clean_refusal([&] {
    dytgrad::nn::SafeTensors file = dytgrad::nn::load_safetensors(path);
    dytgrad::tools::load_gpt(file, dytgrad::Device::cpu());
  });
  return 0;
}
