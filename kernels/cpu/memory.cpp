// CPU memory: 64-byte aligned allocations, the large ones cached. A block of 1 MiB or more
// (rounded up to 64 KiB) goes, when freed, to a free list keyed by its size instead of back to the
// C library, and the next allocation it fits (at most twice the request) takes it again. The C
// library returns such blocks to the kernel and asks for fresh zeroed pages on the next step, one
// page fault per 4 KiB: with the cache a training loop's activations reuse warm memory (page
// faults were about a tenth of a GPT step on one thread). At most kMaxCachedBytes wait in the
// cache; empty_cache() frees them all. In builds without CUDA, the CUDA memory functions are
// defined here too, reporting that no GPU backend exists.
#include "kernels/graph.h"
#include "kernels/memory.h"
#include "kernels/profiling.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <unordered_map>

namespace dytgrad::kernels {

namespace cpu {

namespace {

constexpr size_t kCachedFrom = size_t(1) << 20, kLargeRounding = size_t(64) << 10;
constexpr size_t kMaxCachedBytes = size_t(2) << 30;

struct Cache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_blocks;        // size -> block
  std::unordered_map<void*, size_t> large_blocks;  // every large block handed out, with its size
  size_t cached_bytes = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may be freed during static teardown
  return *c;
}

void* aligned(size_t bytes) {
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

void* allocate(size_t bytes) {
  if (bytes < kCachedFrom) return aligned(bytes == 0 ? 64 : (bytes + 63) / 64 * 64);
  size_t size = (bytes + kLargeRounding - 1) / kLargeRounding * kLargeRounding;
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.lower_bound(size);
    if (it != c.free_blocks.end() && it->first <= 2 * size) {
      void* p = it->second;
      c.cached_bytes -= it->first;
      c.large_blocks[p] = it->first;
      c.free_blocks.erase(it);
      return p;
    }
  }
  void* p = aligned(size);
  std::lock_guard<std::mutex> lock(c.mutex);
  c.large_blocks[p] = size;
  return p;
}

void release(void* ptr) {
  if (!ptr) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.large_blocks.find(ptr);
  if (it == c.large_blocks.end() || c.cached_bytes + it->second > kMaxCachedBytes) {
    if (it != c.large_blocks.end()) c.large_blocks.erase(it);
    std::free(ptr);
    return;
  }
  c.free_blocks.emplace(it->second, ptr);
  c.cached_bytes += it->second;
  c.large_blocks.erase(it);
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [size, p] : c.free_blocks) std::free(p);
  c.free_blocks.clear();
  c.cached_bytes = 0;
}

size_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.cached_bytes;
}

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
bool capturing() { return false; }
int begin_capture() { no_cuda(); }
void end_capture(int) { no_cuda(); }
void abandon_capture(int) {}
void replay(int) { no_cuda(); }
int64_t graph_nodes(int) { no_cuda(); }
void destroy_graph(int) {}
void defer_index_check(unsigned long long*) { no_cuda(); }
int64_t first_bad_index(int) { no_cuda(); }
void use_pool(int) {}
void release_pool(int) {}
}  // namespace cuda
#endif

}  // namespace dytgrad::kernels
