// bfloat16 GEMM on the CPU: C = op(A) op(B), bfloat16 operands and result, float32 accumulation.
// With oneDNN (DYTGRAD_ONEDNN): its matmul primitive, which runs on the CPU's bfloat16 matrix
// units where it has them (AMX tiles on recent Xeons, AVX-512 BF16 dot products on others, a plain
// AVX-512 kernel otherwise); on a 2-core Xeon VM with AMX it measured about 2 TFLOP/s per
// core against 230 GFLOP/s for the float32 GEMM (GPT shapes, 2026-12-01). Each shape's primitive
// is created once per thread and kept (creating one costs far more than running it). Without
// oneDNN, or where its build has no bfloat16 matmul for this CPU (oneDNN 2.6 needs AVX-512; an
// AVX2 CPU gets none): the float32 GEMM of converted copies, rounded once (a reference, not a fast
// path).
// Either way each element of C is its float32 sum rounded once to bfloat16; only the order of the
// sums differs between the two, which can move a result by one bfloat16 step.
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/cpu/blas.h"

#ifdef DYTGRAD_ONEDNN
#include <omp.h>

#include <dnnl.hpp>
#endif

namespace dytgrad::kernels::cpu::blas {

namespace {

[[maybe_unused]] std::string shape_text(bool ta, bool tb, int64_t m, int64_t n, int64_t k) {
  return "m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " + std::to_string(k) +
         (ta ? ", A transposed" : "") + (tb ? ", B transposed" : "");
}

#ifdef DYTGRAD_ONEDNN
// A row-major matrix of rows x cols as stored (transposed: its transpose is stored row-major with
// leading dimension ld).
dnnl::memory::desc matrix(int64_t rows, int64_t cols, int64_t ld, bool transposed) {
  using dnnl::memory;
  memory::dims strides = transposed ? memory::dims{1, ld} : memory::dims{ld, 1};
  return memory::desc({rows, cols}, memory::data_type::bf16, strides);
}

// The primitives of this thread, by shape and layout.
using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
struct ThreadPrimitives {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<Key, dnnl::matmul> matmuls;
};

void onednn_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const bfloat16* a, int64_t lda,
                 const bfloat16* b, int64_t ldb, bfloat16* c, int64_t ldc) {
  thread_local ThreadPrimitives mine;
  Key key{ta, tb, m, n, k, lda, ldb, ldc};
  dnnl::memory::desc a_md = matrix(m, k, lda, ta), b_md = matrix(k, n, ldb, tb), c_md = matrix(m, n, ldc, false);
  auto found = mine.matmuls.find(key);
  if (found == mine.matmuls.end()) {
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), mine.engine);
    found = mine.matmuls.emplace(key, dnnl::matmul(pd)).first;
  }
  dnnl::memory A(a_md, mine.engine, const_cast<bfloat16*>(a)), B(b_md, mine.engine, const_cast<bfloat16*>(b));
  dnnl::memory C(c_md, mine.engine, c);
  found->second.execute(mine.stream, {{DNNL_ARG_SRC, A}, {DNNL_ARG_WEIGHTS, B}, {DNNL_ARG_DST, C}});
  mine.stream.wait();
}

// Whether oneDNN has a bfloat16 matmul for this CPU: asked once, with a small one.
bool onednn_has_bfloat16_matmul() {
  static const bool has = [] {
    try {
      dnnl::engine engine(dnnl::engine::kind::cpu, 0);
      dnnl::memory::desc md = matrix(16, 16, 16, false);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(md, md, md), engine);
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return has;
}
#endif

// The reference: float32 copies of op(A) and op(B) as stored, the float32 GEMM, each result rounded.
void converted_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const bfloat16* a, int64_t lda,
                    const bfloat16* b, int64_t ldb, bfloat16* c, int64_t ldc) {
  auto to_float32 = [](const bfloat16* x, int64_t rows, int64_t cols, int64_t ld) {
    std::vector<float> y(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j) y[size_t(r * cols + j)] = x[r * ld + j].to_float();
    return y;
  };
  int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  std::vector<float> a32 = to_float32(a, a_rows, a_cols, lda), b32 = to_float32(b, b_rows, b_cols, ldb);
  std::vector<float> c32(size_t(m * n));
  gemm(ta, tb, m, n, k, 1.f, a32.data(), a_cols, b32.data(), b_cols, 0.f, c32.data(), n);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) c[r * ldc + j] = bfloat16::from_float(c32[size_t(r * n + j)]);
}

}  // namespace

void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const bfloat16* a,
          int64_t lda, const bfloat16* b, int64_t ldb, float beta, bfloat16* c, int64_t ldc) {
  if (alpha != 1.f || beta != 0.f)
    throw std::invalid_argument("bfloat16 GEMM: only C = op(A) op(B) (alpha 1, beta 0), got alpha " +
                                std::to_string(alpha) + ", beta " + std::to_string(beta));
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t r = 0; r < m; ++r)
      for (int64_t j = 0; j < n; ++j) c[r * ldc + j] = bfloat16::from_float(0.f);
    return;
  }
#ifdef DYTGRAD_ONEDNN
  if (!onednn_has_bfloat16_matmul()) return converted_gemm(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc);
  std::string failure;
  // As the float32 GEMM: a region of one thread whose setting is 1 keeps oneDNN to the calling thread.
#pragma omp parallel num_threads(1)
  {
    omp_set_num_threads(1);
    try {
      onednn_gemm(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc);
    } catch (const std::exception& e) {  // nothing may leave an OpenMP region
      failure = e.what();
    }
  }
  if (!failure.empty())
    throw std::runtime_error("oneDNN bfloat16 matmul failed (" + failure + ") for " +
                             shape_text(transpose_a, transpose_b, m, n, k));
  return;
#endif
  converted_gemm(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace dytgrad::kernels::cpu::blas
