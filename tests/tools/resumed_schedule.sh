#!/usr/bin/env bash
# A resumed run with a larger --steps keeps its learning-rate schedule: the cosine still ends where
# the first run planned it, and the added steps run at --min-lr (the rate never jumps back up).
# Fails (exit status) unless the log's rates after the resume are exactly those.
# usage: tests/tools/resumed_schedule.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
rm -rf "$work"
small=(--width 16 --layers 1 --heads 1 --block-size 8 --batch 2 --eval-every 4 --eval-batches 1 --sample-chars 0)
"$build/train-gpt" "${small[@]}" --steps 4 --warmup 1 --min-lr 1e-4 --out "$work" > "$work.first.txt"
"$build/train-gpt" --resume "$work/checkpoint.safetensors" --steps 8 --out "$work" > "$work.resumed.txt"
grep -q 'cosine to 0.0001 at step 4' "$work.resumed.txt"
python3 - "$work/log.jsonl" <<'PY'
import json, sys
rates = {row["step"]: row["lr"] for row in map(json.loads, open(sys.argv[1]))}
assert sorted(rates) == list(range(1, 9)), f"steps in the log: {sorted(rates)}"
assert rates[4] > 1e-4, f"step 4 should still be on the cosine: {rates[4]}"
after = [rates[s] for s in range(5, 9)]
assert after == [1e-4] * 4, f"the steps added by the resume should run at min-lr 1e-4, got {after}"
print("rates by step:", rates)
PY
