#!/usr/bin/env bash
# Fuzzes the readers of files a user hands to dytgrad, with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer (tests/fuzz/: safetensors checkpoints, GPT checkpoint metadata, IDX
# images, text datasets). Builds the harnesses with clang in build-fuzz/, then runs each for
# SECONDS_EACH seconds from its seed corpus in tests/fuzz/corpus/<name>/, JOBS of them at once. A
# finding (a crash, a sanitizer report, a hang, an exception that is not a dytgrad::Error) stops
# that harness, leaves the input that caused it in build-fuzz/findings/, and fails the script.
#   tools/fuzz.sh                 every harness, 30 s each (what CI runs: a smoke run)
#   SECONDS_EACH=600 tools/fuzz.sh safetensors idx     a longer campaign of some of them
# New inputs that reach new code go to build-fuzz/corpus/<name>/ (kept between runs; the seeds in
# the repository are not modified). Environment: BUILD_DIR (default build-fuzz), JOBS, SECONDS_EACH.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-$(nproc)}
seconds=${SECONDS_EACH:-30}
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(safetensors gpt_metadata idx text_dataset)

# Debian's clang with libFuzzer and its OpenMP, and what the library needs (tools/quickstart.sh's list;
# not oneDNN, which is built against GCC's OpenMP: two OpenMP runtimes in one process do not mix).
bash tools/install_missing.sh clang libclang-rt-dev libomp-dev cmake ninja-build libfmt-dev libopenblas-dev libsleef-dev \
  libcli11-dev nlohmann-json3-dev zlib1g-dev
# -O0, but the readers under fuzz and the harnesses at -O1 (CMakeLists.txt, DYTGRAD_FUZZ)
flags="-g -O0 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
echo "== configuring and building the fuzz harnesses in $build"
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDYTGRAD_CUDA=OFF -DDYTGRAD_MPI=OFF -DDYTGRAD_ONEDNN=OFF -DDYTGRAD_FUZZ=ON \
  -DDYTGRAD_BUILD_TESTS=OFF -DCMAKE_CXX_FLAGS="$flags" >/dev/null
targets=()
for name in "${harnesses[@]}"; do targets+=("fuzz-${name//_/-}"); done
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

mkdir -p "$build/findings"
status=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1 DYTGRAD_THREADS=1
# One harness on one core: as many run at once as there are cores ($jobs), each its own process.
fuzz_one() {
  local name=$1 corpus="$build/corpus/$1" rc=0
  mkdir -p "$corpus"
  "$build/fuzz-${name//_/-}" "$corpus" "tests/fuzz/corpus/$name" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$build/findings/$name-" -print_final_stats=1 > "$build/$name.log" 2>&1 || rc=$?
  echo $rc > "$build/$name.status"
}
running=0
for name in "${harnesses[@]}"; do rm -f "$build/$name.status"; done
for name in "${harnesses[@]}"; do
  echo "== fuzz-${name//_/-}: $seconds s from tests/fuzz/corpus/$name"
  fuzz_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
for name in "${harnesses[@]}"; do
  echo -n "fuzz-${name//_/-}: "
  if [ "$(cat "$build/$name.status")" = 0 ]; then
    grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" "$build/$name.log" | tr '\n' ' '
    echo "corpus: $(ls "$build/corpus/$name" | wc -l) inputs"
  else
    echo "finding, see $build/$name.log and $build/findings/:"
    grep -E "ERROR|finding|SUMMARY|Test unit written" "$build/$name.log" | head -8
    status=1
  fi
done
exit $status
