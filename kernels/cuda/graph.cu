// CUDA graphs (kernels/graph.h) by stream capture: begin_capture points stream() at a stream of
// its own and the allocator at the graph's pool, cudaStreamBeginCapture records from there on,
// end_capture instantiates the graph once, and replay launches it. The capture stream is created
// blocking, so a replay waits for earlier work on the legacy default stream and later work there
// waits for the replay.
#include <unordered_map>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/graph.h"
#include "kernels/memory.h"

namespace dytgrad::kernels::cuda {

namespace {

struct Captured {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  std::vector<unsigned long long*> index_checks;  // deferred FirstBadPosition flags
};

cudaStream_t g_stream = nullptr;  // stream(): the legacy default stream unless capturing
int g_capturing = 0;              // the graph being captured, 0 if none
int g_next_id = 1;
std::unordered_map<int, Captured> g_graphs;

cudaStream_t capture_stream() {
  static cudaStream_t s = [] {
    cudaStream_t created;
    DYT_CUDA_CHECK(cudaStreamCreate(&created));
    return created;
  }();
  return s;
}

Captured& graph_at(int graph) {
  auto it = g_graphs.find(graph);
  if (it == g_graphs.end()) fail("no CUDA graph with id " + std::to_string(graph), "graph_at", __FILE__, __LINE__);
  return it->second;
}

// Back to the legacy stream and the shared pool; returns what the capture recorded (or its error).
cudaError_t stop_capturing(cudaGraph_t* graph) {
  cudaError_t err = cudaStreamEndCapture(g_stream, graph);
  g_stream = nullptr;
  g_capturing = 0;
  use_pool(0);
  return err;
}

}  // namespace

cudaStream_t stream() { return g_stream; }

bool capturing() { return g_capturing != 0; }

int begin_capture() {
  if (g_capturing) fail("a CUDA graph is already being captured", "begin_capture", __FILE__, __LINE__);
  int id = g_next_id++;
  g_graphs[id] = Captured{};
  g_stream = capture_stream();
  use_pool(id);
  g_capturing = id;
  cudaError_t err = cudaStreamBeginCapture(g_stream, cudaStreamCaptureModeThreadLocal);
  if (err != cudaSuccess) {
    g_stream = nullptr, g_capturing = 0;
    use_pool(0);
    g_graphs.erase(id);
    release_pool(id);
    DYT_CUDA_CHECK(err);
  }
  return id;
}

void end_capture(int graph) {
  Captured& c = graph_at(graph);
  DYT_CUDA_CHECK(stop_capturing(&c.graph));
  DYT_CUDA_CHECK(cudaGraphInstantiate(&c.exec, c.graph, 0));
}

void abandon_capture(int graph) {
  cudaGraph_t recorded = nullptr;
  if (g_capturing == graph) stop_capturing(&recorded);
  cudaGetLastError();  // an invalidated capture leaves its error behind
  if (recorded) cudaGraphDestroy(recorded);
  destroy_graph(graph);
}

void replay(int graph) { DYT_CUDA_CHECK(cudaGraphLaunch(graph_at(graph).exec, capture_stream())); }

int64_t graph_nodes(int graph) {
  size_t count = 0;
  DYT_CUDA_CHECK(cudaGraphGetNodes(graph_at(graph).graph, nullptr, &count));
  return int64_t(count);
}

void destroy_graph(int graph) {
  auto it = g_graphs.find(graph);
  if (it == g_graphs.end()) return;
  if (it->second.exec) cudaGraphExecDestroy(it->second.exec);
  if (it->second.graph) cudaGraphDestroy(it->second.graph);
  for (unsigned long long* flag : it->second.index_checks) release(flag);
  g_graphs.erase(it);
  release_pool(graph);
}

void defer_index_check(unsigned long long* flag) { graph_at(g_capturing).index_checks.push_back(flag); }

int64_t first_bad_index(int graph) {
  int64_t first = -1;
  for (unsigned long long* flag : graph_at(graph).index_checks) {
    unsigned long long position = 0;
    copy_device_to_host(&position, flag, sizeof(position));
    if (position != ~0ull && (first < 0 || int64_t(position) < first)) first = int64_t(position);
  }
  return first;
}

}  // namespace dytgrad::kernels::cuda
