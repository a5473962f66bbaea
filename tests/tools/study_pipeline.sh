#!/usr/bin/env bash
# The study's pipeline end to end on two tiny GPT runs: train-gpt -> tools/archive_runs.sh ->
# tools/study_table.py reading the archive (gzip logs, final.txt). CTest checks the printed table.
# usage: tests/tools/study_pipeline.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
root="$(dirname "$0")/../.."
rm -rf "$work"
for norm in dyt layernorm; do
  run="$work/runs/gpt-$norm"
  mkdir -p "$run"
  "$build/train-gpt" --norm "$norm" --device cpu --width 32 --layers 2 --heads 2 --block-size 32 --batch 4 \
    --steps 4 --eval-every 2 --eval-batches 1 --sample-chars 20 --checkpoint-every 0 --out "$run" > "$run/output.txt" 2>&1
done
bash "$root/tools/archive_runs.sh" "$work/archive" "$work/runs/gpt-dyt" "$work/runs/gpt-layernorm"
grep -q '^final: validation loss' "$work/archive/gpt-dyt/final.txt"
python3 "$root/tools/study_table.py" "$work/archive"
