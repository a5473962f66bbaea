// Every op of dytgrad. Each checks its inputs, runs the kernel of the inputs' device, and records
// its backward when an input requires grad (see core/autograd/node.h, and docs/ARCHITECTURE.md for the op pattern).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "../tensor.h"
#include "autocast.h"  // AutocastGuard: bfloat16 mixed precision

namespace dytgrad {

// ---- elementwise (core/ops/elementwise.cpp); binary ops broadcast ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor tanh(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // tanh approximation
// g * gelu'(x): gelu's backward (one pass where its kernel runs; ops, so differentiable, under create_graph)
Tensor gelu_backward(const Tensor& x, const Tensor& g);
Tensor silu(const Tensor& x);  // x * sigmoid(x), also called swish

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(const Tensor& a, double b) { return add(a, -b); }
inline Tensor operator-(double a, const Tensor& b) { return add(neg(b), a); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, double b) { return mul(a, 1.0 / b); }
inline Tensor operator/(double a, const Tensor& b) { return mul(pow(b, -1.0), a); }

// Comparisons give bool tensors (no gradient).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
// out = cond ? a : b, all three broadcast; gradients flow to a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
bool has_nonfinite(const Tensor& x);  // any NaN or Inf (no gradient)

// ---- reductions (core/ops/reduction.cpp); empty dims = all dims ----
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
struct MaxResult { Tensor values, indices; };
MaxResult max(const Tensor& x, int64_t dim, bool keepdim = false);
// Sums a broadcast gradient back to `shape` (the inverse of expand).
Tensor sum_to_shape(const Tensor& x, const Shape& shape);

// ---- matmul (core/ops/matmul.cpp): 2-D, or batched with broadcast batch dims ----
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x W^T + bias for x [..., in], weight [out, in], bias [out] (or undefined: none). Equal to
// add(matmul(x, weight^T), bias); on the CPU the bias is the GEMM's starting value, not a pass.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);
// gelu(linear(x, weight, bias)) as one op (the MLP's first half): the bias and the gelu in the GEMM's
// epilogue on CUDA (once it has run on a GPU), the gelu of each block of rows right after its GEMM on
// the CPU; pre-activations kept for the backward as gelu keeps its input.
Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- shape ops (core/ops/shape_ops.cpp); views are Tensor methods ----
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim);
// zeros of `shape` with x placed at [start, start + x.size(dim)) along dim: the backward of narrow.
Tensor narrow_backward(const Tensor& x, const Shape& shape, int64_t dim, int64_t start);

// ---- softmax family and loss (core/ops/softmax.cpp, core/ops/cross_entropy.cpp) ----
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
// Mean cross-entropy of logits [..., classes] (class dim last) against int64 targets [...];
// rows whose target is ignore_index do not count.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100);

// ---- embedding, dropout (core/ops/embedding.cpp, core/ops/dropout.cpp) ----
Tensor embedding(const Tensor& weight, const Tensor& indices);
// Scatter-adds rows of grad into a [vocab, dim] tensor: the backward of embedding.
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t vocab);
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

// ---- normalisation family over the last dim (core/ops/norms.cpp) ----
Tensor dyt(const Tensor& x, const Tensor& alpha, const Tensor& gamma, const Tensor& beta);
// The residual add and the DyT after it in one pass: returns {sum, out} with sum = x + y and
// out = dyt(sum, alpha, gamma, beta), the same values and gradients as add then dyt (x and y of
// one shape). set_cuda_add_dyt_kernel(false) makes CUDA run add then dyt instead of the fused
// kernel (to compare them).
std::pair<Tensor, Tensor> add_dyt(const Tensor& x, const Tensor& y, const Tensor& alpha, const Tensor& gamma,
                                  const Tensor& beta);
void set_cuda_add_dyt_kernel(bool on);
bool cuda_add_dyt_kernel();
// Derf (Dynamic erf, arXiv 2512.10938): gamma * erf(alpha x + shift) + beta, alpha and shift one
// element each.
Tensor derf(const Tensor& x, const Tensor& alpha, const Tensor& shift, const Tensor& gamma, const Tensor& beta);
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);
Tensor rms_norm(const Tensor& x, const Tensor& gamma, double eps = 1e-6);

// CUDA kernels written and compiled but not yet run on a GPU are kept off until this is called
// with true or DYTGRAD_CUDA_UNVERIFIED=1 is set: an op that would run one raises an error saying
// so (require_verified_cuda, core/ops/dispatch.h); code with a verified way round asks
// unverified_kernels_run_on(device) and takes it. Unverified now, with what runs meanwhile:
// - sum over a few long rows (sum_dim's one block a row);
// - sum_of_squares, and AdamW with clipping (adamw_step with a norm; nn::AdamW::step_clipped scales
//   the gradients first);
// - cross_entropy with bfloat16 logits, the bfloat16 unary and binary kernels (float32 kernels
//   between casts);
// - binary ops with one operand broadcast over leading dims (a bias add: the strided kernel);
// - gelu's one-pass backward (a gelu_grad and a mul); silu (none: it raises);
// - linear_forward and linear_gelu_forward, the bias and the gelu in cuBLASLt's GEMM epilogue (a
//   matmul, an add and a gelu);
// - attention as batched GEMMs on tensor cores (float32: the SIMT flash kernels; bfloat16, and
//   self_attention on a bfloat16 qkv: float32 attention between casts);
// - sum and mean of bfloat16 outside autocast (float32 sums between casts);
// - a training step captured as a CUDA graph (nn::CapturedStep; none: it raises, train-gpt's
//   --cuda-graph with it).
void allow_unverified_cuda_kernels(bool on);
bool unverified_kernels_run_on(Device device);  // on the CPU: always; on CUDA: when allowed

// ---- attention (core/ops/attention.cpp): q [..., tq, d], k and v [..., tk, d] ----
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal);
// Multi-head self-attention on a packed qkv [batch, time, 3 width] (q, k, v side by side, as one
// Linear makes them; each split into `heads` heads of width / heads) -> [batch, time, width], the
// heads side by side. Equal to splitting, attending per head and merging; on the CPU one kernel
// reads qkv in place and writes the gradient of qkv in place (no copies, no split backward).
Tensor self_attention(const Tensor& qkv, int64_t heads, bool causal);

}  // namespace dytgrad
