// The caching device allocator. Freed blocks go to a free list keyed by size instead of back to
// cudaFree; an allocation takes the smallest cached block that fits (and is at most twice the
// request, so big blocks are not wasted on small tensors). Sizes are rounded up to 512 bytes
// below 1 MiB and to 2 MiB above, so that a training loop's repeated shapes find their blocks
// again: after the first step no cudaMalloc happens. If cudaMalloc fails, the cache is emptied
// and the allocation retried once. All work is on the default stream, so a block freed on the host
// can be reused at once: later kernels are ordered after earlier ones.
#include <map>
#include <mutex>
#include <unordered_map>

#include "kernels/cuda/check.cuh"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

struct Cache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_blocks;        // size -> block
  std::unordered_map<void*, size_t> block_sizes;   // every block we own
  AllocatorStats stats;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may be freed during static teardown
  return *c;
}

size_t round_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t(2) << 20;
  if (bytes < (size_t(1) << 20)) return (bytes + kSmall - 1) / kSmall * kSmall + (bytes == 0 ? kSmall : 0);
  return (bytes + kLarge - 1) / kLarge * kLarge;
}

void release_cached_locked(Cache& c) {
  for (auto& [size, ptr] : c.free_blocks) {
    cudaFree(ptr);
    c.block_sizes.erase(ptr);
    c.stats.cached_bytes -= int64_t(size);
  }
  c.free_blocks.clear();
}

}  // namespace

void* allocate(size_t bytes) {
  Cache& c = cache();
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.free_blocks.lower_bound(size);
  if (it != c.free_blocks.end() && it->first <= 2 * size) {
    void* ptr = it->second;
    c.stats.cached_bytes -= int64_t(it->first);
    c.stats.allocated_bytes += int64_t(it->first);
    c.free_blocks.erase(it);
    c.stats.peak_allocated_bytes = std::max(c.stats.peak_allocated_bytes, c.stats.allocated_bytes);
    return ptr;
  }
  void* ptr = nullptr;
  if (cudaMalloc(&ptr, size) != cudaSuccess) {
    cudaGetLastError();  // clear the error, free the cache and try once more
    DYT_CUDA_CHECK(cudaDeviceSynchronize());
    release_cached_locked(c);
    DYT_CUDA_CHECK(cudaMalloc(&ptr, size));
  }
  ++c.stats.device_malloc_calls;
  c.block_sizes[ptr] = size;
  c.stats.allocated_bytes += int64_t(size);
  c.stats.peak_allocated_bytes = std::max(c.stats.peak_allocated_bytes, c.stats.allocated_bytes);
  return ptr;
}

void release(void* ptr) {
  if (!ptr) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.block_sizes.find(ptr);
  if (it == c.block_sizes.end()) return;
  c.free_blocks.insert({it->second, ptr});
  c.stats.allocated_bytes -= int64_t(it->second);
  c.stats.cached_bytes += int64_t(it->second);
}

AllocatorStats allocator_stats() {
  std::lock_guard<std::mutex> lock(cache().mutex);
  return cache().stats;
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  DYT_CUDA_CHECK(cudaDeviceSynchronize());
  release_cached_locked(c);
}

}  // namespace dytgrad::kernels::cuda
