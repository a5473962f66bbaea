// Matmul through cuBLAS: one handle and one 32 MiB workspace for the process, strided-batched
// GEMM, transposes as cuBLAS flags (no copies). Row-major C = op(A) op(B) is computed as the
// column-major product C^T = op(B)^T op(A)^T, i.e. with A and B swapped.
// float32 uses TF32 tensor cores unless set_tf32(false) asks for strict fp32; bfloat16 uses
// bfloat16 tensor cores with float32 accumulation (CUBLAS_COMPUTE_32F), bfloat16 C.
// linear and linear_gelu go through cuBLASLt, whose epilogues add the bias (and apply the gelu)
// before the result is stored; the workspace is shared.
#include <cublasLt.h>

#include <cstdint>
#include <memory>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

bool g_tf32 = true;

// One workspace for cuBLAS and cuBLASLt: every call runs on the same stream, so they never overlap.
constexpr size_t kWorkspaceBytes = size_t(32) << 20;
void* workspace() {
  static void* w = allocate(kWorkspaceBytes);
  return w;
}

// The handle issues on stream(). cublasSetStream hands cuBLAS its own workspace back, so the shared
// one is set again whenever the stream changes (a CUDA graph's capture, then back).
cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t created;
    DYT_CUBLAS_CHECK(cublasCreate(&created));
    DYT_CUBLAS_CHECK(cublasSetWorkspace(created, workspace(), kWorkspaceBytes));
    return created;
  }();
  static cudaStream_t issuing_on = nullptr;  // a new handle's stream: the legacy default stream
  if (stream() != issuing_on) {
    DYT_CUBLAS_CHECK(cublasSetStream(h, stream()));
    DYT_CUBLAS_CHECK(cublasSetWorkspace(h, workspace(), kWorkspaceBytes));
    issuing_on = stream();
  }
  return h;
}

cublasLtHandle_t lt_handle() {
  static cublasLtHandle_t h = [] {
    cublasLtHandle_t created;
    DYT_CUBLAS_CHECK(cublasLtCreate(&created));
    return created;
  }();
  return h;
}

cublasOperation_t op(bool transpose) { return transpose ? CUBLAS_OP_T : CUBLAS_OP_N; }

}  // namespace

void set_tf32(bool enabled) { g_tf32 = enabled; }
bool tf32_enabled() { return g_tf32; }

namespace {
// The strided-batched GEMM with operands of type ab and a result of type c, float32 scaling.
void gemm_ex(const GemmShape& s, const void* a, const void* b, void* c, cudaDataType_t ab, cudaDataType_t c_type,
             cublasComputeType_t compute) {
  const float one = 1.f, zero = 0.f;
  DYT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle(), op(s.transpose_b), op(s.transpose_a), int(s.n), int(s.m),
                                              int(s.k), &one, b, ab, int(s.ldb), s.stride_b, a, ab, int(s.lda),
                                              s.stride_a, &zero, c, c_type, int(s.ldc), s.stride_c, int(s.batch),
                                              compute, CUBLAS_GEMM_DEFAULT));
}
}  // namespace

template <> void gemm_batched<float>(const GemmShape& s, const float* a, const float* b, float* c) {
  gemm_ex(s, a, b, c, CUDA_R_32F, CUDA_R_32F, g_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
}

template <> void gemm_batched<double>(const GemmShape& s, const double* a, const double* b, double* c) {
  const double one = 1.0, zero = 0.0;
  DYT_CUBLAS_CHECK(cublasDgemmStridedBatched(handle(), op(s.transpose_b), op(s.transpose_a), int(s.n), int(s.m),
                                             int(s.k), &one, b, int(s.ldb), s.stride_b, a, int(s.lda), s.stride_a,
                                             &zero, c, int(s.ldc), s.stride_c, int(s.batch)));
}

// kernels/bfloat16.h's bfloat16 has the layout of CUDA's __nv_bfloat16 (its 16 bits), which cuBLAS
// reads as CUDA_R_16BF.
template <> void gemm_batched<bfloat16>(const GemmShape& s, const bfloat16* a, const bfloat16* b, bfloat16* c) {
  static_assert(sizeof(bfloat16) == 2);
  gemm_ex(s, a, b, c, CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F);
}

void gemm_batched_float_result(const GemmShape& s, const bfloat16* a, const bfloat16* b, float* c) {
  gemm_ex(s, a, b, c, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F);
}

namespace {

// cuBLASLt's descriptors, destroyed when they go out of scope (also when a call throws).
struct LtDeleter {
  void operator()(cublasLtMatmulDescOpaque_t* d) const { cublasLtMatmulDescDestroy(d); }
  void operator()(cublasLtMatrixLayoutOpaque_t* l) const { cublasLtMatrixLayoutDestroy(l); }
  void operator()(cublasLtMatmulPreferenceOpaque_t* p) const { cublasLtMatmulPreferenceDestroy(p); }
};
template <class T> using LtPtr = std::unique_ptr<std::remove_pointer_t<T>, LtDeleter>;

LtPtr<cublasLtMatrixLayout_t> layout(uint64_t rows, uint64_t cols, int64_t ld) {
  cublasLtMatrixLayout_t l;
  DYT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, CUDA_R_32F, rows, cols, ld));
  return LtPtr<cublasLtMatrixLayout_t>(l);
}

// The largest power of two (at most 256) that divides the address: the alignment the heuristic may
// assume (it assumes 256 unless told).
uint32_t alignment_of(const void* p) {
  uint32_t a = 256;
  while (a > 4 && reinterpret_cast<uintptr_t>(p) % a != 0) a /= 2;
  return a;
}

template <class T> void set(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t what, const T& value) {
  DYT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d, what, &value, sizeof(value)));
}
template <class T> void set(cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t what, const T& value) {
  DYT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(p, what, &value, sizeof(value)));
}

// y[r][c] = bias[c] for every row r of y [rows, out]. Traffic: write y, read bias (cached).
template <class T> __global__ void fill_rows_kernel(T* y, const T* bias, int64_t n, int64_t out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = bias[i % out];
}

// y = epilogue(x W^T + bias) in one cuBLASLt GEMM, float32 (TF32 under the same switch as
// gemm_batched). Column-major, as gemm_batched: y^T [out, rows] = op_T(W^T [in, out]) x^T [in, rows],
// the bias one value per row of y^T. With GELU_AUX_BIAS, pre (x W^T + bias, laid out as y) is stored
// beside y = gelu(pre). Returns false when cuBLASLt has no algorithm for it (nothing done).
bool lt_linear(const float* x, const float* weight, const float* bias, float* y, int64_t rows, int64_t in,
               int64_t out, cublasLtEpilogue_t epilogue, float* pre = nullptr) {
  cublasLtMatmulDesc_t raw_desc;
  DYT_CUBLAS_CHECK(
      cublasLtMatmulDescCreate(&raw_desc, g_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F));
  LtPtr<cublasLtMatmulDesc_t> desc(raw_desc);
  set(raw_desc, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T);
  set(raw_desc, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N);
  set(raw_desc, CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue);
  set(raw_desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, static_cast<const void*>(bias));
  if (pre) {
    set(raw_desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, static_cast<void*>(pre));
    set(raw_desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, out);
  }
  auto a = layout(uint64_t(in), uint64_t(out), in);    // W^T, column-major
  auto b = layout(uint64_t(in), uint64_t(rows), in);   // x^T
  auto d = layout(uint64_t(out), uint64_t(rows), out); // y^T
  cublasLtMatmulPreference_t raw_pref;
  DYT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&raw_pref));
  LtPtr<cublasLtMatmulPreference_t> pref(raw_pref);
  set(raw_pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, uint64_t(kWorkspaceBytes));
  set(raw_pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignment_of(weight));
  set(raw_pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignment_of(x));
  set(raw_pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignment_of(y));
  set(raw_pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignment_of(y));
  cublasLtMatmulHeuristicResult_t found;
  int count = 0;
  DYT_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(lt_handle(), raw_desc, a.get(), b.get(), d.get(), d.get(), raw_pref,
                                                  1, &found, &count));
  if (count == 0) return false;
  const float one = 1.f, zero = 0.f;
  DYT_CUBLAS_CHECK(cublasLtMatmul(lt_handle(), raw_desc, &one, weight, a.get(), x, b.get(), &zero, y, d.get(), y,
                                  d.get(), &found.algo, workspace(), kWorkspaceBytes, stream()));
  return true;
}

}  // namespace

// float32: the bias added in the GEMM's epilogue before y is stored, so y is written once (a GEMM
// then a bias add write it, read it and write it again: 8 bytes an element more). Traffic: read x
// and W (from L2 as the tiles need them), write y.
template <> void linear_forward<float>(const float* x, const float* weight, const float* bias, float* y,
                                       int64_t rows, int64_t in, int64_t out) {
  if (!lt_linear(x, weight, bias, y, rows, in, out, CUBLASLT_EPILOGUE_BIAS))
    fail("no cuBLASLt algorithm for linear with a bias epilogue, " + std::to_string(rows) + " x " +
             std::to_string(in) + " by " + std::to_string(out),
         "cublasLtMatmulAlgoGetHeuristic", __FILE__, __LINE__);
}

// float32: pre and y = gelu(pre) stored by the GEMM's GELU_AUX_BIAS epilogue (that cuBLASLt's GELU is
// the tanh approximation, as dytgrad's, is what the [cuda] parity test checks), or, where it has no
// algorithm for the shape, the bias epilogue and a gelu pass. Traffic: read x and W, write pre and y.
template <> void linear_gelu_forward<float>(const float* x, const float* weight, const float* bias, float* pre,
                                            float* y, int64_t rows, int64_t in, int64_t out) {
  if (lt_linear(x, weight, bias, y, rows, in, out, CUBLASLT_EPILOGUE_GELU_AUX_BIAS, pre)) return;
  linear_forward<float>(x, weight, bias, pre, rows, in, out);
  unary<float>(UnaryOp::Gelu, pre, y, rows * out, 0);
}

// float64 (cuBLASLt's epilogues are for the tensor-core types): each row of y starts as the bias and
// a GEMM with beta = 1 adds x W^T, as on the CPU. Traffic: write y, then the GEMM reads and writes it.
template <> void linear_forward<double>(const double* x, const double* weight, const double* bias, double* y,
                                        int64_t rows, int64_t in, int64_t out) {
  fill_rows_kernel<<<grid_for(rows * out), kThreads, 0, stream()>>>(y, bias, rows * out, out);
  DYT_CUDA_LAUNCHED();
  const double one = 1.0;
  DYT_CUBLAS_CHECK(cublasDgemm(handle(), CUBLAS_OP_T, CUBLAS_OP_N, int(out), int(rows), int(in), &one, weight,
                               int(in), x, int(in), &one, y, int(out)));
}

// float64: linear_forward<double> and a gelu pass.
template <> void linear_gelu_forward<double>(const double* x, const double* weight, const double* bias, double* pre,
                                             double* y, int64_t rows, int64_t in, int64_t out) {
  linear_forward<double>(x, weight, bias, pre, rows, in, out);
  unary<double>(UnaryOp::Gelu, pre, y, rows * out, 0);
}

}  // namespace dytgrad::kernels::cuda
