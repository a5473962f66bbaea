#!/usr/bin/env bash
# The DyT study (docs/RESULTS.md): the same runs with each norm, and DyT's alpha0 sweep.
#   tools/study.sh vit     ViT on Fashion-MNIST with dyt, layernorm, rmsnorm, none
#   tools/study.sh gpt     GPT on the fortunes with dyt, layernorm, rmsnorm, none
#   tools/study.sh alpha   ViT with DyT at alpha0 0.1, 1, 2, 4, 8 (0.5, the paper's, is vit-dyt)
#   tools/study.sh gpt-dyt GPT with DyT at alpha0 1, 2, 8 (4 was the default then: gpt-dyt), and without
#                          the learnable scalar on the embeddings
#   tools/study.sh long    ViT with LayerNorm and with DyT (alpha0 LONG_ALPHA0) for LONG_EPOCHS
#   tools/study.sh augment ViT of width 96, 6 layers, patches of 4x4, trained on shifted and mirrored
#                          images for AUGMENT_EPOCHS, with DyT (alpha0 2, gamma0 1) and LayerNorm
#   tools/study.sh recipe  the GPT recipe study (docs/RESULTS.md, section 0): 600-step screens of
#                          DyT's start and of the learning rates, then 1200-step runs of the recipe
#                          (train-gpt's default now) and LayerNorm with two seeds, Derf, and the
#                          held-out configuration; batch 32, every DyT setting spelled out
#   tools/study.sh gpt-long the recipe (lr 2e-3) and LayerNorm (lr 8e-3 and 4e-3, its best rates at 1200
#                          steps) for GPT_LONG_STEPS: does either pull ahead late?
#   tools/study.sh vit-recipe the GPT's DyT recipe on the ViT: gamma0 at LayerNorm's output scale with alpha0
#                          0.5, 1 and 2 (VIT_EPOCHS), then a wider ViT (width 128, 6 layers, patches of
#                          4x4, shifts of 1 pixel and mirroring) for WIDE_EPOCHS with DyT and LayerNorm
#   tools/study.sh vit-wide the wide ViT of vit-recipe with DyT at each alpha0 of WIDE_ALPHA0S (gamma0
#                          matched): alpha0 2 turned unstable there (its training loss rose in epochs 1-3);
#                          with SEED other than 1, LayerNorm too, each run named "...-seedN"
#   tools/study.sh all     all of them
# Environment: STUDY_DIR (default runs/study), BUILD_DIR (default build), VIT_EPOCHS (default 3),
# GPT_STEPS (default 400), GPT_BATCH (default 16, the batch of the study's runs), GPT_LR (default 2e-3, for every norm), LONG_EPOCHS (default 10),
# LONG_ALPHA0 (default 2), AUGMENT_EPOCHS (default 15), GPT_LONG_STEPS (default 3000),
# RECIPE_ALPHA0 (default 2, the wide ViT's DyT), WIDE_EPOCHS (default 20), WIDE_ALPHA0S (default
# "0.5 1"), SEED (default 1);
# further arguments go to every training command.
# Each run writes STUDY_DIR/<name>/{log.jsonl,checkpoint.safetensors,output.txt}; a run whose
# output.txt has its final line is skipped, and an interrupted run resumes from its last checkpoint,
# so a stopped study continues where it was.
# Then: tools/plot_study.sh draws the plots and tools/study_table.py prints the tables.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in vit|gpt|alpha|gpt-dyt|long|augment|recipe|gpt-long|vit-recipe|vit-wide|all) shift ;; *) sed -n '2,30p' "$0" >&2; exit 2 ;; esac
dir=${STUDY_DIR:-runs/study}
build=${BUILD_DIR:-build}
# Every norm at the same learning rate (train-gpt's own default is lower for DyT).
gpt_lr=${GPT_LR:-2e-3}
seed=${SEED:-1}
# The DyT recipe these groups ran with (train-gpt's default before the recipe study); ignored by the
# other norms.
earlier_dyt="--alpha0 4 --gamma0 1"
# The ViT groups before vit-recipe ran with gamma0 1 (train-vit's default then; alpha0 2 was too).
earlier_vit_gamma0="--gamma0 1"
extra=("$@")

# The flags a resumed run may take (the others are settings, which come from its checkpoint).
run_flags() {
  while [ $# -gt 0 ]; do
    case $1 in
      --steps|--epochs|--threads|--device|--checkpoint-every) echo "$1" "$2"; shift 2 ;;
      --keep-checkpoints) echo "$1"; shift ;;
      *) shift ;;
    esac
  done
}

run() {  # run NAME PROGRAM ARGS...
  local name=$1 program=$2
  shift 2
  local out="$dir/$name"
  if [ -f "$out/output.txt" ] && grep -q '^final:' "$out/output.txt"; then
    echo "== $name: done before, skipped"
    return
  fi
  mkdir -p "$out"
  # A run that stopped is continued from its checkpoint; one that failed before its first starts again.
  local command=("$build/$program" "$@" --out "$out" --seed "$seed" --overwrite)
  if [ -f "$out/checkpoint.safetensors" ]; then
    # shellcheck disable=SC2046  # run_flags prints flags and values, split into words on purpose
    command=("$build/$program" --resume "$out/checkpoint.safetensors" $(run_flags "$@") --out "$out")
  fi
  echo "== $name: ${command[*]}"
  "${command[@]}" >> "$out/output.txt" 2>&1 || true
  grep '^final:' "$out/output.txt" || { echo "   failed, see $out/output.txt"; tail -3 "$out/output.txt"; }
}

if [ "$what" = vit ] || [ "$what" = all ]; then
  for norm in dyt layernorm rmsnorm none; do
    run "vit-$norm" train-vit --norm "$norm" --alpha0 0.5 $earlier_vit_gamma0 --epochs "${VIT_EPOCHS:-3}" "$@"  # alpha0: DyT's, the paper's
  done
fi
if [ "$what" = alpha ] || [ "$what" = all ]; then
  for alpha in 0.1 1 2 4 8; do  # 0.5 is vit-dyt
    run "vit-dyt-alpha$alpha" train-vit --norm dyt --alpha0 "$alpha" $earlier_vit_gamma0 --epochs "${VIT_EPOCHS:-3}" "$@"
  done
fi
if [ "$what" = gpt ] || [ "$what" = all ]; then
  for norm in dyt layernorm rmsnorm none; do
    run "gpt-$norm" train-gpt --norm "$norm" $earlier_dyt --steps "${GPT_STEPS:-400}" --batch "${GPT_BATCH:-16}" --lr "$gpt_lr" "$@"
  done
fi
if [ "$what" = gpt-dyt ] || [ "$what" = all ]; then
  for alpha in 1 2 8; do
    run "gpt-dyt-alpha$alpha" train-gpt --norm dyt $earlier_dyt --alpha0 "$alpha" --steps "${GPT_STEPS:-400}" --batch "${GPT_BATCH:-16}" --lr "$gpt_lr" "$@"
  done
  run "gpt-dyt-unscaled" train-gpt --norm dyt $earlier_dyt --no-scale-embeddings --steps "${GPT_STEPS:-400}" --batch "${GPT_BATCH:-16}" --lr "$gpt_lr" "$@"
fi
if [ "$what" = long ] || [ "$what" = all ]; then
  run "vit-long-layernorm" train-vit --norm layernorm --epochs "${LONG_EPOCHS:-10}" "$@"
  run "vit-long-dyt" train-vit --norm dyt --alpha0 "${LONG_ALPHA0:-2}" $earlier_vit_gamma0 --epochs "${LONG_EPOCHS:-10}" "$@"
fi
if [ "$what" = augment ] || [ "$what" = all ]; then
  augmented=(--width 96 --layers 6 --heads 4 --patch 4 --shift 2 --flip --epochs "${AUGMENT_EPOCHS:-15}")
  run "vit-augment-dyt" train-vit --norm dyt --alpha0 2 $earlier_vit_gamma0 "${augmented[@]}" "$@"
  run "vit-augment-layernorm" train-vit --norm layernorm "${augmented[@]}" "$@"
fi
if [ "$what" = recipe ] || [ "$what" = all ]; then
  # 600-step screens, seed 1. gamma0 0: LayerNorm's output scale (the numbers given by hand in the
  # first screens are the same values to 2-3 digits).
  screen() { local name=$1; shift; run "s600-$name" train-gpt --steps 600 --batch 32 "$@" "${extra[@]}"; }
  screen layernorm --norm layernorm --lr 2e-3
  screen layernorm-lr1e-3 --norm layernorm --lr 1e-3
  screen layernorm-lr4e-3 --norm layernorm --lr 4e-3
  screen layernorm-lr8e-3 --norm layernorm --lr 8e-3
  screen dyt --alpha0 4 --gamma0 1 --lr 1e-3
  screen dyt-nobeta --alpha0 4 --gamma0 1 --no-beta --lr 1e-3
  screen dyt-g1.67 --alpha0 4 --gamma0 1.67 --lr 1e-3
  screen dyt-a2-g2.6 --alpha0 2 --gamma0 2.6 --lr 1e-3
  screen dyt-a1-g4.6 --alpha0 1 --gamma0 4.6 --lr 1e-3
  screen dyt-a1-g4.6-nobeta --alpha0 1 --gamma0 4.6 --no-beta --lr 1e-3
  screen dyt-a0.5-g8.9 --alpha0 0.5 --gamma0 8.9 --lr 1e-3
  screen dyt-a0.25-g17.7 --alpha0 0.25 --gamma0 17.7 --lr 1e-3
  screen dyt-a1-g4.6-lr2e-3 --alpha0 1 --gamma0 4.6 --lr 2e-3
  screen dyt-g0-a1-lr4e-3 --alpha0 1 --gamma0 0 --lr 4e-3
  screen dyt-g0-a0.25-lr2e-3 --alpha0 0.25 --gamma0 0 --lr 2e-3
  screen dyt-g0-a0.5-lr2e-3 --alpha0 0.5 --gamma0 0 --lr 2e-3
  screen dyt-g0-a0.5-lr4e-3 --alpha0 0.5 --gamma0 0 --lr 4e-3
  screen dyt-g0-a0.5-lr8e-3 --alpha0 0.5 --gamma0 0 --lr 8e-3
  screen dyt-g0-att1-a0.5 --alpha0 0.5 --alpha0-attention 1 --gamma0 0 --lr 2e-3
  screen dyt-g0-a0.5-scalepos --alpha0 0.5 --gamma0 0 --scale-positions --lr 2e-3
  screen dyt-g0-a0.5-noscale --alpha0 0.5 --gamma0 0 --no-scale-embeddings --lr 2e-3
  screen derf --norm derf --alpha0 0.5 --gamma0 0 --lr 2e-3
  # 1200 steps (train-gpt's default length), the recipe against LayerNorm at its two best rates.
  full() { local name=$1 run_seed=$2; shift 2; (seed=$run_seed; run "r1200-$name-seed$run_seed" train-gpt --steps 1200 --batch 32 "$@" "${extra[@]}"); }
  for s in 1 2; do
    full dyt "$s" --alpha0 0.5 --gamma0 0 --lr 2e-3
    full layernorm-lr2e-3 "$s" --norm layernorm --lr 2e-3
    full layernorm-lr4e-3 "$s" --norm layernorm --lr 4e-3
  done
  full dyt-lr4e-3 1 --alpha0 0.5 --gamma0 0 --lr 4e-3
  full layernorm-lr8e-3 1 --norm layernorm --lr 8e-3
  full layernorm-lr8e-3 2 --norm layernorm --lr 8e-3
  full dyt-old 1 --alpha0 4 --gamma0 1 --lr 1e-3
  full derf 1 --norm derf --alpha0 0.5 --gamma0 0 --lr 2e-3
  full none 1 --norm none --lr 2e-3
  # The recipe again, keeping a checkpoint every 300 steps for norm-curves over training (the same
  # numbers as r1200-dyt-seed1: runs are deterministic).
  (seed=1; run trace-dyt train-gpt --steps 1200 --batch 32 --alpha0 0.5 --gamma0 0 --lr 2e-3 --checkpoint-every 300 --keep-checkpoints "${extra[@]}")
  # The held-out configuration, fixed before the screens and run once at the end.
  held_out() { (seed=11; run "held-out-$1" train-gpt --width 96 --layers 6 --heads 3 --steps 1200 --batch 32 "${@:2}" "${extra[@]}"); }
  held_out dyt --alpha0 0.5 --gamma0 0 --lr 2e-3
  held_out layernorm --norm layernorm --lr 2e-3
fi
if [ "$what" = gpt-long ] || [ "$what" = all ]; then
  long_gpt() { local name=$1; shift; run "gpt-long-$name" train-gpt --steps "${GPT_LONG_STEPS:-3000}" --batch 32 "$@" "${extra[@]}"; }
  long_gpt dyt --alpha0 0.5 --gamma0 0 --lr 2e-3
  long_gpt layernorm-lr8e-3 --norm layernorm --lr 8e-3
  long_gpt layernorm-lr4e-3 --norm layernorm --lr 4e-3
fi
# The wide ViT (vit-recipe, vit-wide).
wide=(--width 128 --layers 6 --heads 4 --patch 4 --shift 1 --flip --epochs "${WIDE_EPOCHS:-20}")
if [ "$what" = vit-recipe ] || [ "$what" = all ]; then
  for alpha in 0.5 1 2; do
    run "vit-recipe-dyt-alpha$alpha" train-vit --norm dyt --alpha0 "$alpha" --gamma0 0 --epochs "${VIT_EPOCHS:-3}" "$@"
  done
  run "vit-recipe-layernorm" train-vit --norm layernorm --epochs "${VIT_EPOCHS:-3}" "$@"  # the same build's reference
  run "vit-wide-dyt" train-vit --norm dyt --alpha0 "${RECIPE_ALPHA0:-2}" --gamma0 0 "${wide[@]}" "$@"
  run "vit-wide-layernorm" train-vit --norm layernorm "${wide[@]}" "$@"
fi
if [ "$what" = vit-wide ] || [ "$what" = all ]; then
  # Another SEED adds "-seedN" to the names and runs LayerNorm at that seed too (seed 1's is vit-recipe's).
  seed_suffix=""
  [ "$seed" = 1 ] || seed_suffix="-seed$seed"
  for alpha in ${WIDE_ALPHA0S:-0.5 1}; do
    run "vit-wide-dyt-alpha$alpha$seed_suffix" train-vit --norm dyt --alpha0 "$alpha" --gamma0 0 "${wide[@]}" "$@"
  done
  [ "$seed" = 1 ] || run "vit-wide-layernorm$seed_suffix" train-vit --norm layernorm "${wide[@]}" "$@"
fi
