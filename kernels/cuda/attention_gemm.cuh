// Attention as batched cuBLAS GEMMs (tensor cores) and small row kernels, float32 and bfloat16; defined in
// attention_gemm.cu, called by attention.cu while unverified kernels are allowed.
#pragma once
#include "../attention.h"

namespace dytgrad::kernels::cuda {

// E is float or bfloat16 (logsumexp float32 for both). false: a single head's scores would not fit
// the scratch budget (or there are no keys); nothing done.
template <class E>
bool gemm_attention_forward(const AttentionShape& s, const E* q, const E* k, const E* v, E* out, float* logsumexp);
template <class E>
bool gemm_attention_backward(const AttentionShape& s, const E* q, const E* k, const E* v, const E* out,
                             const float* logsumexp, const E* dout, E* dq, E* dk, E* dv);

}  // namespace dytgrad::kernels::cuda
