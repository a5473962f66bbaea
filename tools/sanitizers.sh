#!/usr/bin/env bash
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer: a CPU-only Debug build with
# -O1 (the sanitizers' usual level) for the CPU kernels and -O0 for the rest (the graph, the programs
# and the tests run little and compile four times faster so) in build-sanitizers/, then ctest. Any
# report fails the run (ASan aborts; UBSan is set to stop at the first finding). CI runs it after
# the main suite. The tests labelled `learning` (whole training runs that check what a recipe
# learns; 40-60 s each here) are left out: the code they run is covered by the shorter runs.
# Environment: BUILD_DIR (default build-sanitizers), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-sanitizers}
jobs=${JOBS:-$(nproc)}
flags="-O0 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
echo "== configuring and building the sanitizer build in $build"
# (MPI off: OpenMPI's runtime is not built with the sanitizers; the data-parallel code still runs
# here, as one process, in the [distributed] tests.)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDYTGRAD_CUDA=OFF -DDYTGRAD_MPI=OFF \
  -DCMAKE_CXX_FLAGS="$flags" -DDYTGRAD_CPU_KERNEL_CXX_OPTIONS=-O1 -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j "$jobs"
echo "== running the test suite under AddressSanitizer and UndefinedBehaviorSanitizer"
cd "$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --output-on-failure -j "$jobs" --label-exclude learning "$@"
