#!/usr/bin/env bash
# The norms compared where the time goes: train-gpt --profile with DyT and with LayerNorm (the same
# model otherwise), then the two summaries side by side (tools/compare_profiles.py): kernel time per
# step, the norm layers' time and share, the step's kernel time.
# usage: tools/profile_norms.sh [TRAIN_GPT_ARGS...]   e.g. --device cuda --gpu-config
# Environment: BUILD_DIR (default build), OUT (default runs/profile), STEPS (profiled steps,
# default 10; two more run first as warm-up).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
out=${OUT:-runs/profile}
steps=${STEPS:-10}
mkdir -p "$out"
for norm in dyt layernorm; do
  echo "== train-gpt --norm $norm --profile $steps $*"
  "$build/train-gpt" --norm "$norm" --steps $((steps + 2)) --profile "$steps" --eval-every 1000000 --sample-chars 0 \
    --checkpoint-every 0 --overwrite --out "$out/$norm" "$@" > "$out/$norm.txt" 2>&1 ||
    { echo "train-gpt failed:"; tail -5 "$out/$norm.txt"; exit 1; }
done
python3 "$(dirname "$0")/compare_profiles.py" "$out/dyt" "$out/layernorm"
