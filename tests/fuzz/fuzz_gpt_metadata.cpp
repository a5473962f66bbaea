// libFuzzer harness: the metadata of a GPT checkpoint. The input is split at its first newline
// into the "gpt.config" and "gpt.vocabulary" strings, which load_gpt parses, checks and, when they
// describe a model, builds it from (then refuses the file for holding no weights).
// Seed corpus: tests/fuzz/corpus/gpt_metadata/ (tools/fuzz.sh runs it).
#include "fuzz_input.h"
#include "tools/common/gpt_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t newline = text.find('\n');
  dytgrad::nn::SafeTensors file;
  file.path = "fuzz-input.safetensors";
  file.metadata[dytgrad::tools::kGptConfig] = text.substr(0, newline);
  if (newline != std::string::npos) file.metadata[dytgrad::tools::kGptVocabulary] = text.substr(newline + 1);
  dytgrad::fuzz::expect_clean_refusal([&] { dytgrad::tools::load_gpt(file, dytgrad::Device::cpu()); });
  return 0;
}
