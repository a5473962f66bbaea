// How many threads the CPU kernels use (OpenMP), and how idle ones wait.
//
// One knob: DYTGRAD_THREADS=N in the environment (the programs' --threads N sets the same).
// OMP_NUM_THREADS is honoured when DYTGRAD_THREADS is not set. The default is the number of CPUs
// this process may run on (its affinity mask: taskset, cpusets), never more, so the kernels never
// oversubscribe the cores they were given.
// Idle threads wait passively (they sleep instead of spinning), unless OMP_WAIT_POLICY says
// otherwise: with spinning threads, a GPT step on a 2-core machine where another process kept one
// core busy ran 3.4x slower with two threads than with one; passive, two threads ran as fast as one.
// OpenBLAS's own thread pool is not started (OPENBLAS_NUM_THREADS=1 unless set): the kernels call
// the BLAS from their OpenMP threads, one GEMM each.
// Every CPU kernel gives the same bits for any number of threads (tests/test_threads.cpp).
#pragma once

namespace dytgrad::kernels::cpu {

int threads();                 // the number the next parallel loop will use
void set_threads(int count);   // count >= 1
int available_cpus();          // the CPUs of this process's affinity mask

}  // namespace dytgrad::kernels::cpu
