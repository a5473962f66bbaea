// The character-level text loader: vocabulary, split, batches, and bad files.
#include <filesystem>
#include <fstream>

#include "helpers.h"
#include "tools/data/text_dataset.h"

using namespace dytgrad;
namespace fs = std::filesystem;

namespace {
fs::path write_temp(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / "dytgrad-tests";
  fs::create_directories(dir);
  fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}
}  // namespace

TEST_CASE("text dataset: vocabulary of the bytes present, 90/10 split, shifted targets", "[data]") {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "hello world\n";  // 2400 bytes, 9 symbols
  data::TextDataset d(write_temp("hello.txt", text).string());
  REQUIRE(d.vocab_size() == 9);
  REQUIRE(d.train_size() == 2160);
  REQUIRE(d.validation_size() == 240);
  REQUIRE(d.vocabulary().decode(d.vocabulary().encode("hello")) == "hello");
  Generator gen(1);
  auto [x, y] = d.batch(false, 4, 10, gen, Device::cpu());
  REQUIRE(x.shape() == Shape{4, 10});
  auto xv = x.to_vector<int64_t>(), yv = y.to_vector<int64_t>();
  for (int b = 0; b < 4; ++b)
    for (int t = 0; t + 1 < 10; ++t) REQUIRE(yv[size_t(b * 10 + t)] == xv[size_t(b * 10 + t + 1)]);
  REQUIRE_THROWS_WITH(d.vocabulary().encode("z"), Catch::Contains("not in the vocabulary"));
}

TEST_CASE("text dataset: missing, too small and folder inputs", "[data][errors]") {
  REQUIRE_THROWS_WITH(data::TextDataset("/nonexistent/corpus"), Catch::Contains("does not exist"));
  REQUIRE_THROWS_WITH(data::TextDataset(write_temp("tiny.txt", "abc").string()),
                      Catch::Contains("3 bytes") && Catch::Contains("too little"));
  fs::path dir = fs::temp_directory_path() / "dytgrad-tests" / "folder";
  fs::create_directories(dir);
  std::ofstream(dir / "a") << std::string(800, 'a');
  std::ofstream(dir / "b") << std::string(800, 'b');
  std::ofstream(dir / "a.dat") << std::string(800, 'z');  // fortune index files are skipped
  data::TextDataset d(dir.string());
  REQUIRE(d.vocab_size() == 2);
  REQUIRE(d.description().find("2 files") != std::string::npos);
}
