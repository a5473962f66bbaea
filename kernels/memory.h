// Raw memory of each backend: allocation and copies between host and device. The CUDA side is a
// caching allocator (kernels/cuda/caching_allocator.cu): no cudaMalloc in a training loop's steady
// state.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dytgrad::kernels {

namespace cpu {  // blocks of 1 MiB and more are cached (kernels/cpu/memory.cpp)
void* allocate(size_t bytes);
void release(void* ptr);
void empty_cache();     // frees the cached blocks
size_t cached_bytes();  // held by the cache, free for reuse
}  // namespace cpu

namespace cuda {
bool is_available();        // built with CUDA and a device is visible
int device_count();
void* allocate(size_t bytes);
void release(void* ptr);
void copy_host_to_device(void* dst, const void* src, size_t bytes);
void copy_device_to_host(void* dst, const void* src, size_t bytes);
void synchronize();

struct AllocatorStats {
  int64_t allocated_bytes = 0;  // handed out to tensors now
  int64_t cached_bytes = 0;     // held by the cache, free for reuse
  int64_t peak_allocated_bytes = 0;
  int64_t device_malloc_calls = 0;  // cudaMalloc calls so far
};
AllocatorStats allocator_stats();
void empty_cache();
void set_tf32(bool enabled);      // matmul precision: TF32 (default) or strict fp32
bool tf32_enabled();
// Kernels not yet run on a GPU, chosen inside a launcher (core/ops/ops.h's switch, handed down).
void allow_unverified_kernels(bool on);
bool unverified_kernels_allowed();
}  // namespace cuda

}  // namespace dytgrad::kernels
