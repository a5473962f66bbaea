// How much of a layer's input is the same for every token: for x [..., channels] (tokens x
// channels, row-major), the root mean square over channels of each channel's mean over all tokens,
// over the root mean square of x. 0: the tokens' vectors average out to nothing; 1: every token
// carries the same vector. Used by norm-curves: LayerNorm takes each token's mean over channels
// out and rescales, DyT passes a common vector through its tanh as it is, and a large one
// saturates every token's tanh the same way.
#pragma once
#include <cstdint>
#include <vector>

namespace dytgrad::tools {

double common_part(const std::vector<float>& x, int64_t channels);

}  // namespace dytgrad::tools
