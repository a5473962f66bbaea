// Thread count and waiting policy of the CPU kernels (see threads.h).
#include "kernels/cpu/threads.h"

#include <omp.h>
#include <sched.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace dytgrad::kernels::cpu {

namespace {

// libgomp reads OMP_WAIT_POLICY once, while the program is being loaded, before any constructor of
// ours could run; an executable's .preinit_array runs earlier still, so this is where the default
// is set (only when the user has not chosen). Every CPU kernel's parallel loop calls threads(), so
// this file, and the entry below, are in every program that runs one.
// OpenBLAS likewise reads OPENBLAS_NUM_THREADS as it loads: dytgrad calls it from one thread at a
// time per GEMM (kernels/cpu/blas.h), so its own pool of threads, which spin for a while after
// starting, is not wanted.
void set_threading_defaults(int, char**, char**) {
  setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0);
  setenv("OPENBLAS_NUM_THREADS", "1", /*overwrite=*/0);
}

int configured_threads() {
  const char* knob = std::getenv("DYTGRAD_THREADS");
  if (knob && *knob) {
    char* end = nullptr;
    long n = std::strtol(knob, &end, 10);
    if (*end != '\0' || n < 1 || n > 4096)
      throw std::invalid_argument("DYTGRAD_THREADS must be a whole number of threads >= 1, got '" + std::string(knob) + "'");
    return int(n);
  }
  if (std::getenv("OMP_NUM_THREADS")) return omp_get_max_threads();  // the user's OpenMP setting
  return available_cpus();
}

bool configure_once() {
  omp_set_num_threads(configured_threads());
  return true;
}

}  // namespace

int available_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return omp_get_num_procs();
  return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

int threads() {
  static const bool configured = configure_once();
  (void)configured;
  return omp_get_max_threads();
}

void set_threads(int count) {
  if (count < 1) throw std::invalid_argument("set_threads: the number of threads must be >= 1, got " + std::to_string(count));
  threads();  // the environment is read first, so that it cannot override this call later
  omp_set_num_threads(count);
}

}  // namespace dytgrad::kernels::cpu

extern "C" {
// Runs before the shared libraries' initialisers (libgomp's among them); see set_threading_defaults.
__attribute__((section(".preinit_array"), used)) void (*const dytgrad_preinit_wait_policy)(int, char**, char**) =
    dytgrad::kernels::cpu::set_threading_defaults;
}
