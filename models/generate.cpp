#include "models/generate.h"

#include <algorithm>
#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/ops.h"

namespace dytgrad::models {

std::vector<int64_t> generate(GPT& model, std::vector<int64_t> ids, const SamplingOptions& o, Generator& gen,
                              const std::function<void(int64_t)>& on_token) {
  DYT_CHECK(!ids.empty(), "generate: the prompt is empty; give at least one token");
  DYT_CHECK(o.temperature >= 0 && std::isfinite(o.temperature), "generate: temperature must be >= 0 (0: greedy), got {}",
            o.temperature);
  DYT_CHECK(o.top_k >= 0, "generate: top_k must be >= 0, got {}", o.top_k);
  NoGradGuard no_grad;
  bool was_training = model.is_training();
  model.eval();
  int64_t block = model.config().block_size;
  for (int64_t n = 0; n < o.tokens; ++n) {
    int64_t start = std::max<int64_t>(0, int64_t(ids.size()) - block);
    std::vector<int64_t> context(ids.begin() + start, ids.end());
    int64_t length = int64_t(context.size());
    Tensor idx = Tensor::from_vector<int64_t>(context, {1, length}, model.device());
    std::vector<double> logits = model.forward(idx).narrow(1, length - 1, 1).reshape({-1}).to_vector<double>();
    if (o.temperature == 0) {  // greedy: the likeliest token (the first of equals)
      ids.push_back(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (on_token) on_token(ids.back());
      continue;
    }
    // top-k: every logit below the k-th largest is dropped; the rest are weighted exp((l - max) / T)
    std::vector<double> sorted = logits;
    std::sort(sorted.rbegin(), sorted.rend());
    int64_t k = o.top_k == 0 ? int64_t(sorted.size()) : std::min<int64_t>(o.top_k, int64_t(sorted.size()));
    double cutoff = sorted[size_t(k - 1)], largest = sorted[0], total = 0;
    for (double& l : logits) total += (l = l >= cutoff ? std::exp((l - largest) / o.temperature) : 0);
    double u = Tensor::rand({1}, DType::Float64, Device::cpu(), &gen).item() * total;
    int64_t pick = 0;
    for (double acc = 0; pick < int64_t(logits.size()) - 1 && (acc += logits[size_t(pick)]) <= u;) ++pick;
    ids.push_back(pick);
    if (on_token) on_token(pick);
  }
  model.train(was_training);
  return ids;
}

}  // namespace dytgrad::models
