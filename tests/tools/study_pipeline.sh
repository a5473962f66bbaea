#!/usr/bin/env bash
# The study's pipeline end to end on two tiny GPT runs: train-gpt -> tools/archive_runs.sh ->
# tools/study_table.py reading the archive (gzip logs, final.txt) -> norm-curves on the checkpoints.
# Fails (exit status) unless the table has the finished DyT run and norm-curves a row for the final
# norm of each checkpoint (the last ones and the kept ones of steps 2 and 4, each under its own name).
# usage: tests/tools/study_pipeline.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
root="$(dirname "$0")/../.."
rm -rf "$work"
for norm in dyt layernorm; do
  run="$work/runs/gpt-$norm"
  mkdir -p "$run"
  "$build/train-gpt" --norm "$norm" --device cpu --width 32 --layers 2 --heads 2 --block-size 32 --batch 4 \
    --steps 4 --eval-every 2 --eval-batches 1 --sample-chars 20 --checkpoint-every 2 --keep-checkpoints --out "$run" \
    > "$run/output.txt" 2>&1
done
bash "$root/tools/archive_runs.sh" "$work/archive" "$work/runs/gpt-dyt" "$work/runs/gpt-layernorm"
grep -q '^final: validation loss' "$work/archive/gpt-dyt/final.txt"
python3 "$root/tools/study_table.py" "$work/archive" | tee "$work/table.md"
grep -Eq '^\| dyt \| 4 \| [0-9.]+ \| [-+][0-9.]+% \|.*\| yes \|$' "$work/table.md"
# The look inside a GPT: norm-curves on the tiny checkpoints prints a row per norm layer.
"$build/norm-curves" "$work/runs/gpt-dyt/checkpoint.safetensors" "$work/runs/gpt-layernorm/checkpoint.safetensors" \
  "$work/runs/gpt-dyt/checkpoint-2.safetensors" "$work/runs/gpt-dyt/checkpoint-4.safetensors" \
  --windows 2 --points 200 --out "$work/norm-curves" | tee "$work/norm-curves.md"
[ "$(grep -Ec '^\| final \| [0-9.]+ \|' "$work/norm-curves.md")" = 4 ]
[ -f "$work/norm-curves/gpt-dyt-2.layers.dat" ] && [ -f "$work/norm-curves/gpt-dyt-4.layers.dat" ]
