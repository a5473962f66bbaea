#!/usr/bin/env bash
# Nsight Compute over the kernels that miss their targets (attention, DyT backward): one launch
# each, the speed-of-light, occupancy and warp-stall sections. Run on the GPU machine after
# gpu_session.sh; BIN and OUT as there.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.gpu}
OUT=${OUT:-/tmp/dytgrad-gpu}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
for pattern in "regex:forward_kernel" "regex:backward_key_kernel" "regex:backward_query_kernel" "regex:dyt_backward"; do
  only=attention
  [[ $pattern == *dyt* ]] && only="dyt backward kernel"
  timeout 240 ncu --clock-control none --kernel-name "$pattern" --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats \
    "$BIN/bench-kernels" --only "$only" --warmup 2 --repeats 3 >"$OUT/ncu_${pattern#regex:}.txt" 2>&1
  echo "== $pattern"
  grep -E "Duration|Compute \(SM\) Throughput|Memory Throughput|Achieved Occupancy|Registers Per|Shared Memory Config|Stall|Warp Cycles Per Issued|Block Limit" "$OUT/ncu_${pattern#regex:}.txt" | head -16
done
