// Device discovery, host <-> device copies, and the switch for kernels not yet run on a GPU.
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/graph.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: not an error here, just none
    return 0;
  }
  return n;
}

bool is_available() {
  static const bool available = device_count() > 0;
  return available;
}

void copy_host_to_device(void* dst, const void* src, size_t bytes) {
  DYT_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

void copy_device_to_host(void* dst, const void* src, size_t bytes) {
  DYT_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void synchronize() { DYT_CUDA_CHECK(cudaDeviceSynchronize()); }

namespace {
bool g_unverified = false;  // constant-initialised: set by core/ops/checks.cpp's static initialiser
}  // namespace

void allow_unverified_kernels(bool on) { g_unverified = on; }
bool unverified_kernels_allowed() { return g_unverified; }

FirstBadPosition::FirstBadPosition() : flag_(static_cast<unsigned long long*>(allocate(sizeof(unsigned long long)))) {
  DYT_CUDA_CHECK(cudaMemsetAsync(flag_, 0xff, sizeof(unsigned long long), stream()));
}

FirstBadPosition::~FirstBadPosition() { release(flag_); }

int64_t FirstBadPosition::read() {
  if (capturing()) {  // nothing has run yet: the graph keeps the flag and reads it after each replay
    defer_index_check(flag_);
    flag_ = nullptr;
    return -1;
  }
  unsigned long long first = 0;
  copy_device_to_host(&first, flag_, sizeof(first));
  return first == ~0ull ? -1 : int64_t(first);
}

}  // namespace dytgrad::kernels::cuda
