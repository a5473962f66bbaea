// Tiled flash attention for float32 and head dims 32, 64 and 128.
// Declared here, defined in attention_tiled.cu; attention.cu calls it when it applies.
#pragma once
#include "../attention.h"

namespace dytgrad::kernels::cuda {

bool tiled_attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                             float* logsumexp);  // false: shape not supported, nothing done
bool tiled_attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v,
                              const float* out, const float* logsumexp, const float* dout, float* dq, float* dk,
                              float* dv);

}  // namespace dytgrad::kernels::cuda
