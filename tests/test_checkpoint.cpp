// Checkpoints: the safetensors format (round trip, a header other tools can read, corrupt files),
// training checkpoints (exact resume, refusing another model), and generation from a GPT.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/autograd/grad_mode.h"
#include "helpers.h"
#include "model_helpers.h"
#include "models/generate.h"
#include "nn/checkpoint.h"
#include "nn/safetensors.h"
#include "tools/common/gpt_checkpoint.h"

using namespace dytgrad;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

// One training step of a GPT on fixed windows of a repeating sequence, batches drawn from `gen`.
void train_step(models::GPT& gpt, nn::AdamW& adam, Generator& gen) {
  std::vector<int64_t> x, y;
  for (int64_t s : Tensor::randint(0, 50, {4}, Device::cpu(), &gen).to_vector<int64_t>())
    for (int64_t t = 0; t < 16; ++t) x.push_back((s + t) * 7 % 11), y.push_back((s + t + 1) * 7 % 11);
  Tensor loss = gpt.loss(Tensor::from_vector<int64_t>(x, {4, 16}), Tensor::from_vector<int64_t>(y, {4, 16}));
  gpt.zero_grad();
  loss.backward();
  adam.step(1e-2);
}

std::vector<std::vector<float>> values(const nn::Module& m) {
  std::vector<std::vector<float>> out;
  for (const Tensor& p : m.parameters()) out.push_back(p.to_vector<float>());
  return out;
}

}  // namespace

TEST_CASE("safetensors: every dtype and a strided view round-trip with metadata, atomically", "[checkpoint]") {
  fs::path dir = test::temp_dir("safetensors");
  Tensor f32 = Tensor::randn({3, 5}), f64 = Tensor::randn({4}, DType::Float64);
  Tensor i64 = Tensor::randint(-50, 50, {2, 2}), flags = Tensor::from_vector<bool>({true, false, true}, {3});
  Tensor strided = Tensor::randn({4, 6}).transpose(0, 1);  // non-contiguous: written row-major
  std::string path = (dir / "t.safetensors").string();
  nn::save_safetensors(path, {{"f32", f32}, {"f64", f64}, {"i64", i64}, {"flags", flags}, {"strided", strided}},
                       {{"note", "hello"}});
  for (const auto& e : fs::directory_iterator(dir)) REQUIRE(e.path().filename() == "t.safetensors");  // no temp left

  nn::SafeTensors file = nn::load_safetensors(path);
  REQUIRE(file.metadata.at("note") == "hello");
  REQUIRE(file.tensors.size() == 5);
  REQUIRE(file.at("f32").to_vector<float>() == f32.to_vector<float>());
  REQUIRE(file.at("f64").to_vector<double>() == f64.to_vector<double>());
  REQUIRE(file.at("i64").to_vector<int64_t>() == i64.to_vector<int64_t>());
  REQUIRE(file.at("flags").to_vector<bool>() == flags.to_vector<bool>());
  REQUIRE(file.at("strided").shape() == Shape{6, 4});
  REQUIRE(file.at("strided").to_vector<float>() == strided.to_vector<float>());
  REQUIRE_THROWS_WITH(file.at("nope"), Catch::Contains("no tensor named 'nope'"));

  // The layout of the format, read by hand as another tool would.
  std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  REQUIRE(header["f64"]["dtype"] == "F64");
  REQUIRE(header["i64"]["shape"] == nlohmann::json({2, 2}));
  auto offsets = header["f32"]["data_offsets"].get<std::vector<uint64_t>>();
  float first = 0;
  std::memcpy(&first, bytes.data() + 8 + n + offsets[0], 4);
  REQUIRE(first == f32.to_vector<float>()[0]);
  REQUIRE(bytes.size() == 8 + n + header["strided"]["data_offsets"][1].get<uint64_t>());

  // A write killed before its rename left t.safetensors.tmp-<pid>: the next write removes it, and
  // leaves other files alone.
  std::ofstream(dir / "t.safetensors.tmp-99999") << "half a checkpoint";
  std::ofstream(dir / "other.safetensors.tmp-99999") << "someone else's";
  nn::save_safetensors(path, {{"f32", f32}});
  REQUIRE_FALSE(fs::exists(dir / "t.safetensors.tmp-99999"));
  REQUIRE(fs::exists(dir / "other.safetensors.tmp-99999"));
}

TEST_CASE("safetensors: missing, truncated and corrupt files are errors naming the file", "[checkpoint][errors]") {
  fs::path dir = test::temp_dir("corrupt");
  std::string path = (dir / "good.safetensors").string();
  nn::save_safetensors(path, {{"w", Tensor::randn({64})}});
  std::string bytes = read_bytes(path);

  REQUIRE_THROWS_WITH(nn::load_safetensors((dir / "missing").string()), Catch::Contains("cannot open"));
  write_bytes(dir / "short", bytes.substr(0, 5));
  REQUIRE_THROWS_WITH(nn::load_safetensors((dir / "short").string()), Catch::Contains("too short"));
  write_bytes(dir / "truncated", bytes.substr(0, bytes.size() - 10));
  REQUIRE_THROWS_WITH(nn::load_safetensors((dir / "truncated").string()),
                      Catch::Contains("truncated") && Catch::Contains("'w'"));
  write_bytes(dir / "text", "this is not a safetensors file at all");
  REQUIRE_THROWS_WITH(nn::load_safetensors((dir / "text").string()), Catch::Contains("not a safetensors file"));
  std::string bad_json = bytes;
  bad_json[8] = '[';  // the header's '{'
  write_bytes(dir / "json", bad_json);
  REQUIRE_THROWS_WITH(nn::load_safetensors((dir / "json").string()), Catch::Contains("json"));
  std::string bad_dtype = bytes;
  bad_dtype.replace(bad_dtype.find("F32"), 3, "F16");
  write_bytes(dir / "dtype", bad_dtype);
  REQUIRE_THROWS_WITH(nn::load_safetensors((dir / "dtype").string()), Catch::Contains("'F16'"));
}

TEST_CASE("a training checkpoint resumes exactly: same weights as an uninterrupted run", "[checkpoint][gpt]") {
  fs::path dir = test::temp_dir("resume");
  std::string path = (dir / "checkpoint.safetensors").string();
  auto config = test::tiny_gpt("dyt", /*dropout=*/0.1);  // dropout: the model's generator must be restored too

  models::GPT straight(config, 3);
  nn::AdamW straight_adam(straight.named_parameters(), {1e-2, 0.9, 0.95, 1e-8}, 0.1);
  Generator straight_batches(4);
  for (int i = 0; i < 6; ++i) train_step(straight, straight_adam, straight_batches);

  {
    models::GPT first(config, 3);
    nn::AdamW adam(first.named_parameters(), {1e-2, 0.9, 0.95, 1e-8}, 0.1);
    Generator batches(4);
    for (int i = 0; i < 3; ++i) train_step(first, adam, batches);
    nn::TrainingState state{3, {{"batches", &batches}, {"model", &first.generator()}}, {{"run", "test"}}};
    nn::save_checkpoint(path, first, &adam, state);
  }
  models::GPT resumed(config, 99);  // other initial weights: all must come from the file
  nn::AdamW adam(resumed.named_parameters(), {1e-2, 0.9, 0.95, 1e-8}, 0.1);
  Generator batches(0);
  nn::TrainingState state{0, {{"batches", &batches}, {"model", &resumed.generator()}}, {}};
  nn::load_checkpoint(nn::load_safetensors(path), resumed, &adam, state);
  REQUIRE(state.step == 3);
  REQUIRE(adam.steps_taken() == 3);
  REQUIRE(state.metadata.at("run") == "test");
  for (int i = 0; i < 3; ++i) train_step(resumed, adam, batches);
  REQUIRE(values(resumed) == values(straight));
  REQUIRE(values(resumed) != values(models::GPT(config, 3)));  // and training did move them
}

TEST_CASE("a checkpoint of another model is refused before anything changes", "[checkpoint][errors]") {
  fs::path dir = test::temp_dir("mismatch");
  std::string path = (dir / "checkpoint.safetensors").string();
  models::GPT small(test::tiny_gpt("dyt"), 1);
  nn::save_checkpoint(path, small, nullptr, {});

  auto wider_config = test::tiny_gpt("dyt");
  wider_config.block.width = 64;
  models::GPT wider(wider_config, 2);
  auto before = values(wider);
  nn::TrainingState state;
  REQUIRE_THROWS_WITH(nn::load_checkpoint(nn::load_safetensors(path), wider, nullptr, state),
                      Catch::Contains("tokens.weight") && Catch::Contains("[11, 32]") && Catch::Contains("[11, 64]"));
  REQUIRE(values(wider) == before);

  models::GPT layernorm(test::tiny_gpt("layernorm"), 1);  // other parameter names
  REQUIRE_THROWS_WITH(nn::load_checkpoint(nn::load_safetensors(path), layernorm, nullptr, state),
                      Catch::Contains("has no tensor") || Catch::Contains("does not have"));
  nn::AdamW adam(small.named_parameters(), {1e-2, 0.9, 0.95, 1e-8}, 0.1);  // weights-only file, optimiser wanted
  REQUIRE_THROWS_WITH(nn::load_checkpoint(nn::load_safetensors(path), small, &adam, state),
                      Catch::Contains("optimizer.exp_avg."));
}

TEST_CASE("generate: top-k 1 and temperature 0 are greedy, a seed fixes the sample, tokens are reported as they come, bad options are refused", "[gpt][generate]") {
  models::GPT gpt(test::tiny_gpt("layernorm"), 4);
  Generator a(1), b(1), c(2);
  models::SamplingOptions o;
  o.tokens = 20;
  auto first = models::generate(gpt, {3, 5}, o, a);
  REQUIRE(first.size() == 22);
  REQUIRE(first == models::generate(gpt, {3, 5}, o, b));
  REQUIRE(first != models::generate(gpt, {3, 5}, o, c));  // 20 draws over 11 symbols from another seed
  REQUIRE(gpt.is_training());                              // restored after generating

  o.top_k = 1, o.tokens = 1;
  auto greedy = models::generate(gpt, {3, 5}, o, a);
  NoGradGuard no_grad;
  auto logits = gpt.forward(Tensor::from_vector<int64_t>({3, 5}, {1, 2})).narrow(1, 1, 1).to_vector<float>();
  REQUIRE(greedy[2] == std::max_element(logits.begin(), logits.end()) - logits.begin());

  // Temperature 0: the likeliest token whatever the seed (and top-k), each one passed to the callback.
  o.temperature = 0, o.top_k = 0, o.tokens = 12;
  std::vector<int64_t> reported;
  auto cold = models::generate(gpt, {3, 5}, o, b, [&](int64_t token) { reported.push_back(token); });
  REQUIRE(cold[2] == greedy[2]);
  REQUIRE(cold == models::generate(gpt, {3, 5}, o, c));
  REQUIRE(reported == std::vector<int64_t>(cold.begin() + 2, cold.end()));

  o.temperature = -0.5;
  REQUIRE_THROWS_WITH(models::generate(gpt, {3}, o, a), Catch::Contains("temperature"));
  o.temperature = 1;
  REQUIRE_THROWS_WITH(models::generate(gpt, {}, o, a), Catch::Contains("prompt is empty"));
}

TEST_CASE("a GPT checkpoint whose config cannot make a model is refused at once, naming the file", "[checkpoint][errors]") {
  // "layers": 1000000000 used to build blocks until memory ran out (sample, train-gpt --resume, norm-curves).
  fs::path dir = test::temp_dir("bad-config");
  models::GPTConfig config = test::tiny_gpt("dyt");
  config.vocab = 3;
  config.block.layers = 1000000000;
  data::CharVocabulary vocabulary(std::vector<unsigned char>{'a', 'b', 'c'});
  std::string path = (dir / "huge.safetensors").string();
  nn::save_safetensors(path, {{"w", Tensor::ones({2})}}, tools::gpt_metadata(config, vocabulary));
  REQUIRE_THROWS_WITH(tools::load_gpt(path, Device::cpu()),
                      Catch::Contains(path) && Catch::Contains("layers must be 1 to 1024, got 1000000000"));
  REQUIRE_THROWS_WITH(models::GPT(config, 0), Catch::Contains("layers must be 1 to 1024"));
}

TEST_CASE("a checkpoint with NaN or Inf weights (unless allowed), or a step that is not a number, is refused naming the file", "[checkpoint][errors]") {
  fs::path dir = test::temp_dir("nonfinite");
  models::GPT model(test::tiny_gpt("dyt"), 1);
  nn::TrainingState saved;
  saved.step = 7;
  std::string good = (dir / "good.safetensors").string();
  nn::save_checkpoint(good, model, nullptr, saved);
  nn::SafeTensors file = nn::load_safetensors(good);

  // Poison one weight: the error names the file and the tensor, and the model is unchanged.
  std::vector<std::pair<std::string, Tensor>> tensors = file.tensors;
  for (auto& [name, t] : tensors)
    if (name == "tokens.weight") {
      std::vector<float> v = t.to_vector<float>();
      v[5] = std::numeric_limits<float>::quiet_NaN();
      t = Tensor::from_vector<float>(v, t.shape());
    }
  std::string poisoned = (dir / "nan.safetensors").string();
  nn::save_safetensors(poisoned, tensors, file.metadata);
  auto before = values(model);
  nn::TrainingState state;
  REQUIRE_THROWS_WITH(nn::load_checkpoint(nn::load_safetensors(poisoned), model, nullptr, state),
                      Catch::Contains(poisoned) && Catch::Contains("'tokens.weight' holds NaN or infinite values"));
  REQUIRE(values(model) == before);
  // Tools that look inside a diverged run may ask for it (norm-curves --allow-nonfinite).
  nn::load_checkpoint(nn::load_safetensors(poisoned), model, nullptr, state, nn::NonFinite::Allow);
  for (const nn::NamedParameter& p : model.named_parameters())
    if (p.name == "tokens.weight") REQUIRE(std::isnan(p.tensor->to_vector<float>()[5]));

  // A step of "5abc" was read as 5.
  std::map<std::string, std::string> metadata = file.metadata;
  metadata["dytgrad.step"] = "5abc";
  std::string loose = (dir / "loose.safetensors").string();
  nn::save_safetensors(loose, file.tensors, metadata);
  REQUIRE_THROWS_WITH(nn::load_checkpoint(nn::load_safetensors(loose), model, nullptr, state),
                      Catch::Contains(loose) && Catch::Contains("got '5abc'"));
}

TEST_CASE("a GPT checkpoint's vocabulary must list bytes: 300 is refused, not wrapped to 44", "[checkpoint][errors]") {
  fs::path dir = test::temp_dir("bad-vocabulary");
  models::GPTConfig config = test::tiny_gpt("dyt");
  config.vocab = 3;
  auto metadata = tools::gpt_metadata(config, data::CharVocabulary(std::vector<unsigned char>{'a', 'b', 'c'}));
  metadata.at(tools::kGptVocabulary) = "[97, 98, 300]";
  std::string path = (dir / "vocabulary.safetensors").string();
  nn::save_safetensors(path, {{"w", Tensor::ones({2})}}, metadata);
  REQUIRE_THROWS_WITH(tools::gpt_vocabulary(nn::load_safetensors(path)),
                      Catch::Contains(path) && Catch::Contains("found 300"));
}

TEST_CASE("checkpoint metadata that is not JSON, or not JSON of the right kind, is an error naming the file and the key", "[checkpoint][errors]") {
  // Found by tools/fuzz.sh: the JSON library's own exceptions escaped, naming neither.
  nn::SafeTensors file;
  file.path = "made-up.safetensors";
  auto refused = [&](const std::string& key, const std::string& value, auto load) {
    std::map<std::string, std::string> kept = file.metadata;
    file.metadata[key] = value;
    REQUIRE_THROWS_AS(load(), Error);  // not the JSON library's exception
    REQUIRE_THROWS_WITH(load(), Catch::Contains("'made-up.safetensors'") && Catch::Contains("'" + key + "'"));
    file.metadata = kept;
  };
  models::GPTConfig config = test::tiny_gpt("dyt");
  config.vocab = 3;
  file.metadata = tools::gpt_metadata(config, data::CharVocabulary(std::vector<unsigned char>{'a', 'b', 'c'}));
  auto load_gpt = [&] { tools::load_gpt(file, Device::cpu()); };
  refused(tools::kGptConfig, "", load_gpt);                                       // the fuzzer's first finding
  refused(tools::kGptConfig, R"({"block": {"layers": "four"}})", load_gpt);       // a string for a number
  refused(tools::kGptVocabulary, "[97, 98,", load_gpt);                           // cut short
  refused(tools::kGptVocabulary, R"({"a": 1})", load_gpt);                        // not a list
  refused(tools::kGptVocabulary, "[97, 1.07e42, 99]", load_gpt);                  // undefined as an integer (a finding)
  refused(tools::kGptConfig, R"({"vocab": 3, "block": {"width": 16.5}})", load_gpt);      // would be read as 16
  refused(tools::kGptConfig, R"({"vocab": 3, "block": {"layers": 18446744073709551615}})", load_gpt);  // would wrap to -1

  models::GPT model(config, 1);
  nn::TrainingState state;
  file.metadata["dytgrad.step"] = "0";
  for (const nn::NamedParameter& p : model.named_parameters()) file.tensors.emplace_back(p.name, p.tensor->detach());
  Generator batches(1);
  state.generators = {{"batches", &batches}};
  auto load_checkpoint = [&] { nn::load_checkpoint(file, model, nullptr, state); };
  refused("dytgrad.generators", R"({"batches": {"seed": "one", "offset": 0}})", load_checkpoint);
  refused("dytgrad.generators", R"({"batches": {"seed": 1}})", load_checkpoint);  // no offset
}

TEST_CASE("safetensors: data spans that are shifted, overlap, leave holes or miss the end are refused", "[checkpoint][errors]") {
  fs::path dir = test::temp_dir("spans");
  // A file of two float tensors of 4 values each, written by hand with the offsets given.
  auto file_with = [&](const std::string& name, uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1, size_t data_bytes,
                       int64_t header_length_error = 0) {
    nlohmann::json header = {{"a", {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {a0, a1}}}},
                             {"b", {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {b0, b1}}}}};
    std::string text = header.dump();
    uint64_t n = text.size() + uint64_t(header_length_error);
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &n, 8);
    bytes += text + std::string(data_bytes, '\1');
    write_bytes(dir / name, bytes);
    return (dir / name).string();
  };
  REQUIRE(nn::load_safetensors(file_with("good", 0, 16, 16, 32, 32)).tensors.size() == 2);
  REQUIRE_THROWS_WITH(nn::load_safetensors(file_with("shifted", 4, 20, 20, 36, 36)), Catch::Contains("expected 0"));
  REQUIRE_THROWS_WITH(nn::load_safetensors(file_with("overlap", 0, 16, 8, 24, 24)), Catch::Contains("expected 16"));
  REQUIRE_THROWS_WITH(nn::load_safetensors(file_with("hole", 0, 16, 20, 36, 36)), Catch::Contains("expected 16"));
  REQUIRE_THROWS_WITH(nn::load_safetensors(file_with("tail", 0, 16, 16, 32, 40)),
                      Catch::Contains("cover 32 bytes") && Catch::Contains("holds 40"));
  // A header length off by one: either the JSON is cut short or a data byte joins it.
  for (int64_t off : {-1, 1}) {
    INFO("header length off by " << off);
    REQUIRE_THROWS_WITH(nn::load_safetensors(file_with("header-length", 0, 16, 16, 32, 32, off)),
                        Catch::Contains("the header is not valid JSON"));
  }
  // Sizes whose product wraps around, and a shape that is not a list of sizes.
  std::string wraps = file_with("wraps", 0, 16, 16, 32, 32);
  std::string bytes = read_bytes(wraps);
  std::string huge = "[4294967296,4294967296,16]", four = "[4]";
  bytes.replace(bytes.find(four), four.size(), huge);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  n += huge.size() - four.size();
  std::memcpy(bytes.data(), &n, 8);
  write_bytes(dir / "wraps", bytes);
  REQUIRE_THROWS_WITH(nn::load_safetensors(wraps), Catch::Contains("larger than the file"));

  // A name given twice (the JSON parser would keep the second and read its span as the only one).
  std::string twice = file_with("twice", 0, 16, 16, 32, 32);
  bytes = read_bytes(twice);
  bytes.replace(bytes.find("\"b\""), 3, "\"a\"");
  write_bytes(dir / "twice", bytes);
  REQUIRE_THROWS_WITH(nn::load_safetensors(twice), Catch::Contains(twice) && Catch::Contains("names 'a' twice"));
}
