// Input checks shared by many ops; each error names the op and what it got.
#include <cstdlib>
#include <string>

#include "core/ops/dispatch.h"
#include "kernels/memory.h"

namespace dytgrad {

void check_same_device(const char* op, const std::vector<Tensor>& tensors) {
  for (const Tensor& t : tensors)
    DYT_CHECK(t.device() == tensors[0].device(),
              "{}: all tensors must be on the same device, got {} and {}", op,
              tensors[0].device().str(), t.device().str());
}

void check_same_dtype(const char* op, const std::vector<Tensor>& tensors) {
  for (const Tensor& t : tensors)
    DYT_CHECK(t.dtype() == tensors[0].dtype(), "{}: dtype mismatch, got {} and {}", op,
              dtype_name(tensors[0].dtype()), dtype_name(t.dtype()));
}

namespace {

// The switch lives here; a CUDA build also hands it to the kernels' launchers, for the choices they
// make inside (a faster layout of a verified op).
bool set_unverified_cuda(bool on) {
#ifdef DYTGRAD_CUDA
  kernels::cuda::allow_unverified_kernels(on);
#endif
  return on;
}

bool unverified_cuda_allowed = [] {
  const char* v = std::getenv("DYTGRAD_CUDA_UNVERIFIED");
  return set_unverified_cuda(v && std::string(v) == "1");
}();

}  // namespace

void allow_unverified_cuda_kernels(bool on) { unverified_cuda_allowed = set_unverified_cuda(on); }
bool unverified_kernels_run_on(Device device) { return !device.is_cuda() || unverified_cuda_allowed; }

void require_verified_cuda(const char* op, Device device) {
  DYT_CHECK(!device.is_cuda() || unverified_cuda_allowed,
            "{}: its CUDA kernel has not been run on a GPU yet, so it is off; DYTGRAD_CUDA_UNVERIFIED=1 runs it "
            "anyway (the op's [cuda] tests check it against the CPU)", op);
}

void refuse_bfloat16(const char* op) {
  DYT_FAIL("{}: no bfloat16 kernel for this op (the ops of models take bfloat16, computing in float32: "
           "core/ops/mixed_precision.h); convert with .to(DType::Float32)", op);
}

void check_dtype(const char* op, const char* what, const Tensor& t, DType expected) {
  DYT_CHECK(t.dtype() == expected, "{}: {} must be {}, got {}", op, what, dtype_name(expected),
            dtype_name(t.dtype()));
}

}  // namespace dytgrad
