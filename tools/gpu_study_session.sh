#!/usr/bin/env bash
# The study's GPU runs (issue 4's larger configs), in one call on the GPU machine:
#   BIN=.gpu OUT=/tmp/study bash tools/gpu_study_session.sh [RUN...]
# RUN names a run:
#   gpt-gpu-<norm>[-alpha<a>][-unscaled][-untied]  train-gpt --gpu-config (-unscaled: no learnable
#                                                  scalar on the embeddings; -untied: an output matrix)
#   vit-gpu-<norm>[-alpha<a>]                      train-vit --gpu-config
# Default: the GPT with all four norms, the ViT with LayerNorm and DyT. The runs go one after
# another (five at once on an H100 each ran at a fifth of the speed: nothing gained); whatever is
# still running BUDGET_S seconds after the start is stopped with SIGINT (it saves a checkpoint; its
# log says how far it got) and the runs after it are skipped. $BIN holds the binaries, fortunes/
# and fashion-mnist/ (tools/build_for_gpu.sh; the GPU machine has neither Debian package). Each
# run's command.txt, output.txt and log.jsonl land in $OUT/<run>/ (checkpoints stay in $WORK); the
# tables of tools/study_table.py are printed last. The device tool brings back only a few files:
# tar $OUT into one. Back here: tools/archive_runs.sh docs/results/logs <the runs>.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.gpu}
OUT=${OUT:-/tmp/study}
WORK=${WORK:-/tmp/study-work}
BUDGET_S=${BUDGET_S:-540}
VIT_EPOCHS=${VIT_EPOCHS:-20}
GPT_STEPS=${GPT_STEPS:-2000}
GPT_LR=${GPT_LR:-2e-3}  # every norm at the same learning rate (train-gpt's own default is lower for DyT)
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
# tools/build_for_gpu.sh ships the binaries compressed.
[ -f "$BIN/binaries.tar.xz" ] && tar -xJf "$BIN/binaries.tar.xz" -C "$BIN"
runs=("$@")
[ ${#runs[@]} -eq 0 ] && runs=(gpt-gpu-layernorm gpt-gpu-dyt gpt-gpu-rmsnorm gpt-gpu-none vit-gpu-layernorm vit-gpu-dyt)

nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
date -u

# The command line of one run, from its name.
command_of() {
  local name=$1 norm alpha="" unscaled="" untied=""
  norm=${name#*-gpu-}; norm=${norm%%-*}
  [[ $name =~ -alpha([0-9.]+) ]] && alpha="--alpha0 ${BASH_REMATCH[1]}"
  [[ $name == *-unscaled* ]] && unscaled="--no-scale-embeddings"
  [[ $name == *-untied* ]] && untied="--untied-head"
  case $name in
    gpt-gpu-*) echo "$BIN/train-gpt --gpu-config --steps $GPT_STEPS --lr $GPT_LR --norm $norm $alpha $unscaled $untied --data $BIN/fortunes" ;;
    vit-gpu-*) echo "$BIN/train-vit --gpu-config --epochs $VIT_EPOCHS --norm $norm $alpha --data $BIN/fashion-mnist" ;;
    *) echo "unknown run '$name' (expected gpt-gpu-<norm>[-alpha<a>][-unscaled][-untied] or vit-gpu-<norm>[-alpha<a>])" >&2; return 1 ;;
  esac
}

deadline=$((SECONDS + BUDGET_S))
for name in "${runs[@]}"; do
  cmd=$(command_of "$name") || exit 2
  left=$((deadline - SECONDS))
  if [ "$left" -le 10 ]; then echo "$name: skipped, the budget is spent"; continue; fi
  mkdir -p "$OUT/$name" "$WORK/$name"
  echo "$cmd --device cuda --checkpoint-every 0 --out $WORK/$name" > "$OUT/$name/command.txt"
  # shellcheck disable=SC2086  # the command is split into words on purpose
  timeout -s INT -k 30 "$left" $cmd --device cuda --checkpoint-every 0 --out "$WORK/$name" > "$OUT/$name/output.txt" 2>&1
  cp "$WORK/$name/log.jsonl" "$OUT/$name/"
  printf '%-32s %s\n' "$name" "$(tail -c 300 "$OUT/$name/output.txt" | tr '\r' '\n' | grep -v '^$' | tail -n 1)"
done
python3 tools/study_table.py "$OUT"
