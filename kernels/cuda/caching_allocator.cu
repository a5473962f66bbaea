// The caching device allocator. Freed blocks go to a free list keyed by size instead of back to
// cudaFree; an allocation takes the smallest cached block that fits (and is at most twice the
// request, so big blocks are not wasted on small tensors). Sizes are rounded up to 512 bytes
// below 1 MiB and to 2 MiB above, so that a training loop's repeated shapes find their blocks
// again: after the first step no cudaMalloc happens. If cudaMalloc fails, the cache is emptied
// and the allocation retried once. All work is on one stream at a time (kernels/cuda/launch.cuh's
// stream()), so a block freed on the host can be reused at once: later kernels are ordered after
// earlier ones.
//
// Pools, for CUDA graphs (kernels/graph.h): every block belongs to a pool, 0 being the shared cache.
// While a graph is captured, allocations come from its pool (its free blocks, else the shared
// cache's, which then join the pool, else cudaMalloc), and shared blocks freed meanwhile join it
// too: the recorded kernels may read them on every replay, so nothing outside the graph may get
// them. When the graph is destroyed its pool's blocks return to the shared cache.
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "kernels/cuda/check.cuh"
#include "kernels/graph.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

struct Block {
  size_t size;
  int pool;
};

struct Cache {
  std::mutex mutex;
  std::map<int, std::multimap<size_t, void*>> free_blocks;  // pool -> size -> block
  std::unordered_map<void*, Block> blocks;                  // every block we own
  std::set<int> released_pools;                             // their live blocks return to 0 when freed
  int active_pool = 0;
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
  for (auto& [size, ptr] : c.free_blocks[0]) {
    cudaFree(ptr);
    c.blocks.erase(ptr);
    c.stats.cached_bytes -= int64_t(size);
  }
  c.free_blocks[0].clear();
}

// The smallest free block of `pool` that fits `size` without wasting more than half of it.
void* take_free(Cache& c, int pool, size_t size) {
  auto& free = c.free_blocks[pool];
  auto it = free.lower_bound(size);
  if (it == free.end() || it->first > 2 * size) return nullptr;
  void* ptr = it->second;
  c.stats.cached_bytes -= int64_t(it->first);
  free.erase(it);
  return ptr;
}

// cudaMalloc is not stream-ordered, so a capture would refuse it as unsafe; the block it returns
// outlives the graph's replays (the pool keeps it), which makes it safe here.
cudaError_t device_malloc(void** ptr, size_t size, bool capturing) {
  if (!capturing) return cudaMalloc(ptr, size);
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  DYT_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  cudaError_t err = cudaMalloc(ptr, size);
  DYT_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  return err;
}

}  // namespace

void* allocate(size_t bytes) {
  Cache& c = cache();
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(c.mutex);
  int pool = c.active_pool;
  void* ptr = take_free(c, pool, size);
  if (!ptr && pool != 0) ptr = take_free(c, 0, size);
  if (!ptr) {
    if (device_malloc(&ptr, size, pool != 0) != cudaSuccess) {
      cudaGetLastError();  // clear the error
      if (pool != 0) fail("out of device memory while capturing a CUDA graph", "cudaMalloc", __FILE__, __LINE__);
      DYT_CUDA_CHECK(cudaDeviceSynchronize());  // free the cache and try once more
      release_cached_locked(c);
      DYT_CUDA_CHECK(cudaMalloc(&ptr, size));
    }
    ++c.stats.device_malloc_calls;
    c.blocks[ptr] = Block{size, pool};
  }
  Block& block = c.blocks.at(ptr);
  block.pool = pool;
  c.stats.allocated_bytes += int64_t(block.size);
  c.stats.peak_allocated_bytes = std::max(c.stats.peak_allocated_bytes, c.stats.allocated_bytes);
  return ptr;
}

void release(void* ptr) {
  if (!ptr) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.blocks.find(ptr);
  if (it == c.blocks.end()) return;
  Block& block = it->second;
  if (block.pool == 0) block.pool = c.active_pool;   // a capture may have recorded reads of it
  else if (c.released_pools.count(block.pool)) block.pool = 0;
  c.free_blocks[block.pool].insert({block.size, ptr});
  c.stats.allocated_bytes -= int64_t(block.size);
  c.stats.cached_bytes += int64_t(block.size);
}

void use_pool(int pool) {
  std::lock_guard<std::mutex> lock(cache().mutex);
  cache().active_pool = pool;
}

void release_pool(int pool) {
  if (pool == 0) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto found = c.free_blocks.find(pool);
  if (found != c.free_blocks.end()) {
    for (auto& [size, ptr] : found->second) {
      c.blocks.at(ptr).pool = 0;
      c.free_blocks[0].insert({size, ptr});
    }
    c.free_blocks.erase(found);
  }
  c.released_pools.insert(pool);
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
