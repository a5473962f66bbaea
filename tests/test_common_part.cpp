// The common part of a layer's input (tools/common/common_part), against float64 sums and its
// two ends: the same vector in every token, and tokens that cancel.
#include "helpers.h"
#include "tools/common/common_part.h"

using namespace dytgrad;

TEST_CASE("common_part: 1 when every token is the same vector, 0 when the tokens cancel") {
  const int64_t tokens = 50, channels = 24;
  std::vector<float> v = Tensor::randn({channels}).to_vector<float>(), same, cancel;
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < channels; ++c) {
      same.push_back(v[size_t(c)]);
      cancel.push_back(t % 2 ? v[size_t(c)] : -v[size_t(c)]);
    }
  CHECK(std::abs(tools::common_part(same, channels) - 1.0) < 1e-6);
  CHECK(tools::common_part(cancel, channels) < 1e-6);
}

TEST_CASE("common_part: a common vector plus token noise, against a float64 computation") {
  const int64_t tokens = 300, channels = 16;
  std::vector<float> common = Tensor::randn({channels}).to_vector<float>();
  std::vector<float> noise = mul(Tensor::randn({tokens * channels}), 2.0).to_vector<float>(), x;
  for (int64_t i = 0; i < tokens * channels; ++i) x.push_back(common[size_t(i % channels)] + noise[size_t(i)]);
  std::vector<double> mean(channels, 0.0);
  double squares = 0;
  for (int64_t i = 0; i < tokens * channels; ++i) {
    mean[size_t(i % channels)] += double(x[size_t(i)]) / tokens;
    squares += double(x[size_t(i)]) * x[size_t(i)];
  }
  double mean_squares = 0;
  for (double m : mean) mean_squares += m * m;
  double expected = std::sqrt(mean_squares / channels) / std::sqrt(squares / double(tokens * channels));
  CHECK(std::abs(tools::common_part(x, channels) / expected - 1) < 1e-9);
  // About |common| / sqrt(|common|^2 + 4): the noise's std is 2.
  CHECK(expected > 0.2);
  CHECK(expected < 0.8);
  CHECK_THROWS_WITH(tools::common_part(std::vector<float>(10, 1.0f), 3), Catch::Contains("not whole tokens of 3 channels"));
}
