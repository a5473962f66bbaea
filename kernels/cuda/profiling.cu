// The profiler's CUDA events: a pool that grows to the most events one profiling window needs.
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/profiling.h"

namespace dytgrad::kernels::cuda {

namespace {
std::vector<cudaEvent_t> pool;
size_t used = 0;
}  // namespace

int record_event() {
  if (used == pool.size()) {
    cudaEvent_t e;
    DYT_CUDA_CHECK(cudaEventCreate(&e));
    pool.push_back(e);
  }
  DYT_CUDA_CHECK(cudaEventRecord(pool[used], 0));  // the legacy default stream, which every kernel uses
  return int(used++);
}

float elapsed_ms(int from, int to) {
  DYT_CUDA_CHECK(cudaEventSynchronize(pool[size_t(to)]));
  float ms = 0;
  DYT_CUDA_CHECK(cudaEventElapsedTime(&ms, pool[size_t(from)], pool[size_t(to)]));
  return ms;
}

void reset_events() { used = 0; }

}  // namespace dytgrad::kernels::cuda
