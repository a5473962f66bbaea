#!/usr/bin/env bash
# One GPU session for the profiler (issue 5), run on the GPU machine after tools/build_for_gpu.sh:
#   bash tools/gpu_profile_session.sh      (binaries in .gpu/, results in $OUT or /tmp/profile)
# 1. the profiler tests on the GPU; 2. train-gpt --profile, DyT and LayerNorm, side by side
# (tools/profile_norms.sh: the norms' share of the step); 3. the cost of the profiler when off:
# the same run with a build without it (-DDYTGRAD_PROFILER=OFF); 4. Nsight Compute on one op
# picked by its NVTX range; 5. Nsight Systems, if installed. The norms' share is printed last.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.gpu}
OUT=${OUT:-/tmp/profile}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
# tools/build_for_gpu.sh ships the binaries compressed.
[ -f "$BIN/binaries.tar.xz" ] && tar -xJf "$BIN/binaries.tar.xz" -C "$BIN"
status=0
step() { printf '\n== %s\n' "$1"; }
gpt=("--gpu-config" "--data" "$BIN/fortunes" "--eval-every" "100000" "--sample-chars" "10" "--checkpoint-every" "0")

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
date -u

step "profiler tests on the GPU"
"$BIN/dytgrad_tests" "[profiler]" 2>&1 | tail -n 3 || status=1

step "train-gpt --profile 10, DyT and LayerNorm side by side (tools/profile_norms.sh)"
BUILD_DIR="$BIN" OUT="$OUT/norms" STEPS=10 tools/profile_norms.sh --gpu-config --data "$BIN/fortunes" --device cuda \
  > "$OUT/profile-norms.txt" 2>&1 || status=1
cat "$OUT/profile-norms.txt"

step "profiler off: step time with the profiler compiled in vs compiled out (200 steps each, twice)"
for round in 1 2; do
  for binary in train-gpt train-gpt-noprof; do
    "$BIN/$binary" "${gpt[@]}" --steps 200 --out "$OUT/overhead-$binary-$round" > /dev/null 2>&1 || status=1
    python3 - "$OUT/overhead-$binary-$round/log.jsonl" "$binary" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])][20:]
print(f"{sys.argv[2]:<18} median {statistics.median(r['tokens_per_s'] for r in rows):>10.0f} tokens/s")
PY
  done
done

step "Nsight Compute on the first dyt_forward of a step, found by its NVTX range"
if command -v ncu >/dev/null; then
  timeout 300 ncu --nvtx --nvtx-include "dyt_forward/" --clock-control none -c 1 --section SpeedOfLight \
    "$BIN/train-gpt" "${gpt[@]}" --steps 2 --out "$OUT/ncu-run" > "$OUT/ncu.txt" 2>&1 || status=1
  grep -E "dyt_forward|NVTX|Duration|Memory Throughput|DRAM Throughput" "$OUT/ncu.txt" | head -20
else
  echo "ncu not found"
fi

step "Nsight Systems: the NVTX ranges of 3 steps"
if command -v nsys >/dev/null; then
  timeout 300 nsys profile --trace cuda,nvtx -o "$OUT/steps" "$BIN/train-gpt" "${gpt[@]}" --steps 3 --out "$OUT/nsys-run" \
    > "$OUT/nsys.txt" 2>&1 && nsys stats --report nvtx_sum "$OUT/steps.nsys-rep" 2>&1 | head -30
else
  echo "nsys not found"
fi

step "summary: the norms' share of a step's GPU time"
tail -n 2 "$OUT/profile-norms.txt"
exit $status
