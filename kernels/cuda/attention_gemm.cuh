// Attention as batched cuBLAS GEMMs (tensor cores) and small row kernels, float32; defined in
// attention_gemm.cu, called by attention.cu while unverified kernels are allowed.
#pragma once
#include "../attention.h"

namespace dytgrad::kernels::cuda {

// false: a single head's scores would not fit the scratch budget; nothing done
bool gemm_attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                            float* logsumexp);
bool gemm_attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out,
                             const float* logsumexp, const float* dout, float* dq, float* dk, float* dv);

}  // namespace dytgrad::kernels::cuda
