// CUDA events for the profiler (core/profiler.h): recorded on the stream the kernels run on, taken
// from a pool so that recording costs no allocation. Without CUDA these are never called.
#pragma once

namespace dytgrad::kernels::cuda {
int record_event();                // records a new event now; returns its id
float elapsed_ms(int from, int to);  // waits for `to`, then the GPU time between the two events
void reset_events();               // ids become invalid; the events go back to the pool
}  // namespace dytgrad::kernels::cuda
