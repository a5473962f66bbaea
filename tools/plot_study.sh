#!/usr/bin/env bash
# Draws the study's loss curves (PNG, with gnuplot from Debian's gnuplot-nox) from the runs of
# tools/study.sh. usage: tools/plot_study.sh [STUDY_DIR [OUT_DIR]]  (defaults runs/study, docs/results)
#   gpt-loss.png     training loss (mean of 20 steps) and validation loss per norm
#   vit-loss.png     training loss (mean of 20 steps) and test accuracy per norm
#   vit-alpha0.png   training loss of DyT for each alpha0
#   gpt-dyt.png      validation loss of the GPT DyT variants (alpha0, embedding scalar) and LayerNorm
#   vit-long.png     the longer ViT runs, LayerNorm and DyT: test accuracy
#   vit-augment.png  the augmented ViT runs (study.sh augment), LayerNorm and DyT: test accuracy
#   vit-wide.png     the wide ViT (study.sh vit-recipe, vit-wide), LayerNorm and DyT's starts: test accuracy
#   gpu-gpt.png      GPT --gpu-config (tools/gpu_study_session.sh): validation loss per norm and DyT variant
#   gpu-vit.png      ViT --gpu-config: test accuracy, LayerNorm and DyT
#   gpt-recipe.png   the recipe study (study.sh recipe): validation loss, 1200 steps, each norm
#   gpt-recipe-screen.png  its 600-step screens of DyT's start
set -euo pipefail
cd "$(dirname "$0")/.."
study=${1:-runs/study}
out=${2:-docs/results}
mkdir -p "$out"
command -v gnuplot >/dev/null || { echo "gnuplot is missing: apt-get install gnuplot-nox" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The log of a run folder (log.jsonl, or log.jsonl.gz as archived in docs/results/logs); empty if none.
log_of() { for f in "$1/log.jsonl" "$1/log.jsonl.gz"; do [ -f "$f" ] && { echo "$f"; return; }; done; echo ""; }

# JSONL -> whitespace columns: step, <field> (rows without the field are skipped), with a running
# mean over `window` rows.
columns() {  # columns LOG FIELD WINDOW X_FIELD
  python3 - "$@" <<'PY'
import gzip, json, sys
path, field, window, x = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = [json.loads(l) for l in (gzip.open if path.endswith(".gz") else open)(path, "rt") if l.strip()]
rows = [r for r in rows if field in r]
for i, r in enumerate(rows):
    part = rows[max(0, i - window + 1): i + 1]
    print(r[x], sum(p[field] for p in part) / len(part))
PY
}

plots=""
for norm in dyt layernorm rmsnorm none; do
  for task in gpt vit; do
    log=$(log_of "$study/$task-$norm")
    [ -n "$log" ] || continue
    x=step; [ $task = vit ] && x=epoch
    columns "$log" loss 20 $x > "$tmp/$task-$norm-train.dat"
    if [ $task = gpt ]; then columns "$log" val_loss 1 $x > "$tmp/$task-$norm-eval.dat"
    else columns "$log" test_accuracy 1 $x > "$tmp/$task-$norm-eval.dat"; fi
  done
done
for alpha in 0.1 0.5 1 2 4 8; do
  folder="$study/vit-dyt-alpha$alpha"; [ $alpha = 0.5 ] && folder="$study/vit-dyt"
  log=$(log_of "$folder")
  [ -n "$log" ] && columns "$log" loss 20 epoch > "$tmp/alpha-$alpha.dat"
done

plot_task() {  # plot_task TASK XLABEL EVAL_LABEL
  local task=$1 xlabel=$2 eval_label=$3 train="" eval=""
  for norm in dyt layernorm rmsnorm none; do
    [ -s "$tmp/$task-$norm-train.dat" ] || continue
    train+="'$tmp/$task-$norm-train.dat' with lines lw 2 title '$norm', "
    eval+="'$tmp/$task-$norm-eval.dat' with linespoints lw 2 title '$norm', "
  done
  [ -n "$train" ] || { echo "no $task runs in $study"; return; }
  gnuplot <<GP
set terminal pngcairo size 1200,450 font ",11"
set output "$out/$task-loss.png"
set multiplot layout 1,2 title "$task: the same run with each norm ($study)"
set grid
set xlabel "$xlabel"
set ylabel "training loss (mean of 20 steps)"
plot ${train%, }
set ylabel "$eval_label"
set key bottom right
plot ${eval%, }
unset multiplot
GP
  echo "wrote $out/$task-loss.png"
}
plot_task gpt step "validation loss"
plot_task vit epoch "test accuracy"

alpha_plot=""
for alpha in 0.1 0.5 1 2 4 8; do
  [ -s "$tmp/alpha-$alpha.dat" ] && alpha_plot+="'$tmp/alpha-$alpha.dat' with lines lw 2 title 'alpha0 $alpha', "
done
if [ -n "$alpha_plot" ]; then
  gnuplot <<GP
set terminal pngcairo size 800,450 font ",11"
set output "$out/vit-alpha0.png"
set title "ViT with DyT: training loss by alpha0"
set grid
set xlabel "epoch"
set ylabel "training loss (mean of 20 steps)"
plot ${alpha_plot%, }
GP
  echo "wrote $out/vit-alpha0.png"
fi

# Curves of named runs in one plot each: plot_runs OUTPUT TITLE X_FIELD FIELD WINDOW YLABEL RUN:LABEL...
plot_runs() {
  local output=$1 title=$2 x=$3 field=$4 window=$5 ylabel=$6 curves=""
  shift 6
  for entry in "$@"; do
    local run=${entry%%:*} label=${entry#*:} log
    log=$(log_of "$study/$run")
    [ -n "$log" ] || continue
    columns "$log" "$field" "$window" "$x" > "$tmp/$run-$field.dat"
    [ -s "$tmp/$run-$field.dat" ] && curves+="'$tmp/$run-$field.dat' with linespoints lw 2 title '$label', "
  done
  [ -n "$curves" ] || return 0
  gnuplot <<GP
set terminal pngcairo size 800,450 font ",11"
set output "$out/$output"
set title "$title"
set grid
set xlabel "$x"
set ylabel "$ylabel"
$( [[ $field == *accuracy* ]] && echo "set key bottom right" )
plot ${curves%, }
GP
  echo "wrote $out/$output"
}
plot_runs gpt-dyt.png "GPT with DyT: variants against LayerNorm" step val_loss 1 "validation loss" \
  gpt-layernorm:layernorm gpt-dyt-alpha1:"dyt alpha0 1" gpt-dyt-alpha2:"dyt alpha0 2" gpt-dyt:"dyt alpha0 4" \
  gpt-dyt-alpha8:"dyt alpha0 8" gpt-dyt-unscaled:"dyt alpha0 4, no embedding scalar"
plot_runs vit-long.png "ViT, the longer runs: test accuracy" epoch test_accuracy 1 "test accuracy" \
  vit-long-layernorm:layernorm vit-long-dyt:"dyt (alpha0 2)"
plot_runs vit-augment.png "ViT, width 96, 6 layers, patches 4x4, shifted and mirrored images: test accuracy" epoch \
  test_accuracy 1 "test accuracy" vit-augment-layernorm:layernorm vit-augment-dyt:"dyt (alpha0 2)"
plot_runs vit-wide.png "ViT, width 128, 6 layers, patches 4x4, shifted and mirrored images: test accuracy" epoch \
  test_accuracy 1 "test accuracy" vit-wide-layernorm:layernorm vit-wide-layernorm-seed2:"layernorm, seed 2" \
  vit-wide-dyt:"dyt alpha0 2, gamma0 matched" vit-wide-dyt-alpha0.5:"dyt alpha0 0.5, gamma0 matched" \
  vit-wide-dyt-alpha0.5-seed2:"dyt alpha0 0.5, gamma0 matched, seed 2"
plot_runs gpu-gpt.png "GPT on an H100 (--gpu-config, 1000 steps)" step val_loss 1 "validation loss" \
  gpt-gpu-layernorm:layernorm gpt-gpu-rmsnorm:rmsnorm gpt-gpu-none:none gpt-gpu-dyt:"dyt alpha0 4" \
  gpt-gpu-dyt-alpha1:"dyt alpha0 1" gpt-gpu-dyt-unscaled:"dyt alpha0 4, no embedding scalar" \
  gpt-gpu-dyt-alpha1-unscaled:"dyt alpha0 1, no embedding scalar"
plot_runs gpu-vit.png "ViT on an H100 (--gpu-config, 20 epochs): test accuracy" epoch test_accuracy 1 "test accuracy" \
  vit-gpu-layernorm:layernorm vit-gpu-dyt-alpha0.5:"dyt alpha0 0.5"
plot_runs gpt-recipe.png "GPT, CPU default (1200 steps): DyT's recipe against LayerNorm" step val_loss 1 "validation loss" \
  r1200-dyt-old-seed1:"dyt, earlier recipe (alpha0 4, gamma0 1, lr 1e-3)" r1200-none-seed1:"no norm" \
  r1200-layernorm-lr2e-3-seed1:"layernorm, lr 2e-3" r1200-layernorm-lr4e-3-seed1:"layernorm, lr 4e-3" \
  r1200-layernorm-lr8e-3-seed1:"layernorm, lr 8e-3" r1200-derf-seed1:"derf, the recipe" \
  r1200-dyt-seed1:"dyt, the recipe (lr 2e-3)" r1200-dyt-lr4e-3-seed1:"dyt, the recipe, lr 4e-3"
plot_runs gpt-recipe-screen.png "GPT, 600-step screens: where DyT starts (DyT at lr 1e-3 unless said)" step val_loss 1 "validation loss" \
  s600-dyt:"alpha0 4, gamma0 1" s600-dyt-g1.67:"alpha0 4, gamma0 1.67 (matched)" s600-dyt-a2-g2.6:"alpha0 2, gamma0 2.6 (matched)" \
  s600-dyt-a1-g4.6:"alpha0 1, gamma0 4.6 (matched)" s600-dyt-a0.5-g8.9:"alpha0 0.5, gamma0 8.9 (matched)" \
  s600-dyt-a0.25-g17.7:"alpha0 0.25, gamma0 17.7 (matched)" s600-layernorm:"layernorm, lr 2e-3" \
  s600-dyt-g0-a0.5-lr2e-3:"alpha0 0.5, matched, lr 2e-3"
