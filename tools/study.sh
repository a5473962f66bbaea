#!/usr/bin/env bash
# The DyT study (docs/RESULTS.md): the same runs with each norm, and DyT's alpha0 sweep.
#   tools/study.sh vit     ViT on Fashion-MNIST with dyt, layernorm, rmsnorm, none
#   tools/study.sh gpt     GPT on the fortunes with dyt, layernorm, rmsnorm, none
#   tools/study.sh alpha   ViT with DyT at alpha0 0.1, 1, 2, 4, 8 (0.5, the paper's, is vit-dyt)
#   tools/study.sh gpt-dyt GPT with DyT at alpha0 1, 2, 8 (4 is the default: gpt-dyt), and without
#                          the learnable scalar on the embeddings
#   tools/study.sh long    ViT with LayerNorm and with DyT (alpha0 LONG_ALPHA0) for LONG_EPOCHS
#   tools/study.sh all     all of them
# Environment: STUDY_DIR (default runs/study), BUILD_DIR (default build), VIT_EPOCHS (default 3),
# GPT_STEPS (default 400), GPT_BATCH (default 16, the batch of the study's runs), GPT_LR (default 2e-3, for every norm), LONG_EPOCHS (default 10),
# LONG_ALPHA0 (default 2), SEED (default 1);
# further arguments go to every training command.
# Each run writes STUDY_DIR/<name>/{log.jsonl,checkpoint.safetensors,output.txt}; a run whose
# output.txt has its final line is skipped, and an interrupted run resumes from its last checkpoint,
# so a stopped study continues where it was.
# Then: tools/plot_study.sh draws the plots and tools/study_table.py prints the tables.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in vit|gpt|alpha|gpt-dyt|long|all) shift ;; *) sed -n '2,15p' "$0" >&2; exit 2 ;; esac
dir=${STUDY_DIR:-runs/study}
build=${BUILD_DIR:-build}
# Every norm at the same learning rate (train-gpt's own default is lower for DyT).
gpt_lr=${GPT_LR:-2e-3}
seed=${SEED:-1}

run() {  # run NAME PROGRAM ARGS...
  local name=$1 program=$2
  shift 2
  local out="$dir/$name"
  if [ -f "$out/output.txt" ] && grep -q '^final:' "$out/output.txt"; then
    echo "== $name: done before, skipped"
    return
  fi
  mkdir -p "$out"
  local resume=()
  [ -f "$out/checkpoint.safetensors" ] && resume=(--resume "$out/checkpoint.safetensors")
  echo "== $name: $program $* --out $out --seed $seed ${resume[*]}"
  "$build/$program" "$@" --out "$out" --seed "$seed" "${resume[@]}" >> "$out/output.txt" 2>&1 || true
  grep '^final:' "$out/output.txt" || { echo "   failed, see $out/output.txt"; tail -3 "$out/output.txt"; }
}

if [ "$what" = vit ] || [ "$what" = all ]; then
  for norm in dyt layernorm rmsnorm none; do
    run "vit-$norm" train-vit --norm "$norm" --alpha0 0.5 --epochs "${VIT_EPOCHS:-3}" "$@"  # alpha0: DyT's, the paper's
  done
fi
if [ "$what" = alpha ] || [ "$what" = all ]; then
  for alpha in 0.1 1 2 4 8; do  # 0.5 is vit-dyt
    run "vit-dyt-alpha$alpha" train-vit --norm dyt --alpha0 "$alpha" --epochs "${VIT_EPOCHS:-3}" "$@"
  done
fi
if [ "$what" = gpt ] || [ "$what" = all ]; then
  for norm in dyt layernorm rmsnorm none; do
    run "gpt-$norm" train-gpt --norm "$norm" --steps "${GPT_STEPS:-400}" --batch "${GPT_BATCH:-16}" --lr "$gpt_lr" "$@"
  done
fi
if [ "$what" = gpt-dyt ] || [ "$what" = all ]; then
  for alpha in 1 2 8; do
    run "gpt-dyt-alpha$alpha" train-gpt --norm dyt --alpha0 "$alpha" --steps "${GPT_STEPS:-400}" --batch "${GPT_BATCH:-16}" --lr "$gpt_lr" "$@"
  done
  run "gpt-dyt-unscaled" train-gpt --norm dyt --no-scale-embeddings --steps "${GPT_STEPS:-400}" --batch "${GPT_BATCH:-16}" --lr "$gpt_lr" "$@"
fi
if [ "$what" = long ] || [ "$what" = all ]; then
  run "vit-long-layernorm" train-vit --norm layernorm --epochs "${LONG_EPOCHS:-10}" "$@"
  run "vit-long-dyt" train-vit --norm dyt --alpha0 "${LONG_ALPHA0:-2}" --epochs "${LONG_EPOCHS:-10}" "$@"
fi
