// OpenMP only where a loop is big enough to pay for the threads, with the thread count of
// kernels/cpu/threads.h.
#pragma once
#include <cstdint>

#include "threads.h"

namespace dytgrad::kernels::cpu {
constexpr int64_t kParallelGrain = 1 << 15;  // elements of work below which loops stay serial
}

#define DYT_PRAGMA(text) _Pragma(#text)
#define DYT_PARALLEL_FOR(work)                                                             \
  DYT_PRAGMA(omp parallel for if ((work) > ::dytgrad::kernels::cpu::kParallelGrain)        \
                 num_threads(::dytgrad::kernels::cpu::threads()) schedule(static))
