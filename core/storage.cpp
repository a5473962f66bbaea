#include "core/storage.h"

#include "core/error.h"
#include "kernels/memory.h"

namespace dytgrad {

bool cuda_is_available() { return kernels::cuda::is_available(); }

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cuda()) {
    DYT_CHECK(cuda_is_available(),
              "cannot place a tensor on {}: {}", device.str(),
#ifdef DYTGRAD_CUDA
              "no CUDA device is visible on this machine"
#else
              "this build of dytgrad has no CUDA backend (configure with -DDYTGRAD_CUDA=ON)"
#endif
    );
    data_ = kernels::cuda::allocate(bytes);
  } else {
    data_ = kernels::cpu::allocate(bytes);
  }
}

Storage::~Storage() {
  if (device_.is_cuda()) kernels::cuda::release(data_);
  else kernels::cpu::release(data_);
}

}  // namespace dytgrad
