// CUDA graphs: the device work of a stretch of host code recorded once (stream capture) and then
// replayed with one launch, without the host code. While a graph is captured, every kernel, copy
// and cuBLAS call goes to the graph's stream and is recorded instead of run, and allocations come
// from the graph's own memory pool: blocks its kernels use are never handed to anything else while
// the graph lives, so each replay finds its buffers where the capture put them. Host reads of device
// memory cannot happen during a capture (the work has not run); nn/captured_step.h builds a training
// step on this.
#pragma once
#include <cstdint>

namespace dytgrad::kernels::cuda {

bool capturing();     // between begin_capture and end_capture (or abandon_capture)
int begin_capture();  // returns the graph's id; one capture at a time
void end_capture(int graph);      // instantiates the recorded work; raises if the capture failed
void abandon_capture(int graph);  // after an error inside the captured code: drops what was recorded
void replay(int graph);           // launches the graph once, ordered after all earlier work
int64_t graph_nodes(int graph);   // kernels, copies and memsets recorded (the launches a replay saves)
void destroy_graph(int graph);    // its pool's blocks go back to the shared cache

// Index checks inside a captured kernel (embedding, cross_entropy targets) cannot be read back
// while capturing: each check's device flag is kept with the graph, reset by every replay, and
// read here after it: the first offending position over the graph's checks, or -1.
void defer_index_check(unsigned long long* flag);  // the flag's ownership passes to the graph
int64_t first_bad_index(int graph);

// The allocator's side (kernels/cuda/caching_allocator.cu): allocations come from `pool` (0: the
// shared cache; a graph's id while it is captured); blocks of the shared cache freed meanwhile join
// the pool, since the recorded work may still read them on replay.
void use_pool(int pool);
void release_pool(int pool);  // the pool's free blocks, and its live ones once freed, return to 0

}  // namespace dytgrad::kernels::cuda
