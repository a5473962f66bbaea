// CPU memory: 64-byte aligned allocations. In builds without CUDA, the CUDA memory functions are
// defined here too, reporting that no GPU backend exists.
#include "kernels/memory.h"
#include "kernels/profiling.h"

#include <cstdlib>
#include <new>
#include <stdexcept>

namespace dytgrad::kernels {

namespace cpu {
void* allocate(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw std::bad_alloc();
  return p;
}
void release(void* ptr) { std::free(ptr); }
}  // namespace cpu

#ifndef DYTGRAD_CUDA
namespace cuda {
[[noreturn]] static void no_cuda() {
  throw std::runtime_error("this build of dytgrad has no CUDA backend (configure with -DDYTGRAD_CUDA=ON)");
}
bool is_available() { return false; }
int device_count() { return 0; }
void* allocate(size_t) { no_cuda(); }
void release(void*) {}
void copy_host_to_device(void*, const void*, size_t) { no_cuda(); }
void copy_device_to_host(void*, const void*, size_t) { no_cuda(); }
void synchronize() {}
AllocatorStats allocator_stats() { return {}; }
void empty_cache() {}
void set_tf32(bool) {}
bool tf32_enabled() { return false; }
int record_event() { no_cuda(); }
float elapsed_ms(int, int) { no_cuda(); }
void reset_events() {}
}  // namespace cuda
#endif

}  // namespace dytgrad::kernels
