#include "tools/common/common_part.h"

#include <cmath>

#include "core/error.h"

namespace dytgrad::tools {

double common_part(const std::vector<float>& x, int64_t channels) {
  DYT_CHECK(channels > 0 && !x.empty() && x.size() % size_t(channels) == 0,
            "common_part: {} values are not whole tokens of {} channels", x.size(), channels);
  std::vector<double> channel_sum(static_cast<size_t>(channels), 0.0);
  double squares = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    channel_sum[i % size_t(channels)] += x[i];
    squares += double(x[i]) * x[i];
  }
  double tokens = double(x.size()) / double(channels), common = 0;
  for (double sum : channel_sum) common += (sum / tokens) * (sum / tokens);
  if (squares == 0) return 0;
  return std::sqrt(common / double(channels)) / std::sqrt(squares / double(x.size()));
}

}  // namespace dytgrad::tools
