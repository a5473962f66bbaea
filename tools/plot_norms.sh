#!/usr/bin/env bash
# The study's look inside the trained ViTs (docs/RESULTS.md): runs norm-curves on the study's
# LayerNorm and DyT checkpoints and draws, with gnuplot (Debian's gnuplot-nox),
#   vit-layernorm-curves.png  input vs output (before gamma, beta) of four LayerNorm layers, coloured
#                             by channel, with the best fit k tanh(a x) - the paper's Figure 2
#   vit-dyt-alpha.png         each DyT layer's learned alpha next to 1/std of its input - Figure 8
# usage: tools/plot_norms.sh [STUDY_DIR [OUT_DIR]]  (defaults runs/study, docs/results)
# Environment: BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
study=${1:-runs/study}
out=${2:-docs/results}
build=${BUILD_DIR:-build}
command -v gnuplot >/dev/null || { echo "gnuplot is missing: apt-get install gnuplot-nox" >&2; exit 1; }
for run in vit-layernorm vit-dyt; do
  [ -f "$study/$run/checkpoint.safetensors" ] || { echo "no $study/$run/checkpoint.safetensors: run tools/study.sh vit" >&2; exit 1; }
done
mkdir -p "$out"
data="$study/norm-curves"
"$build/norm-curves" "$study/vit-layernorm/checkpoint.safetensors" "$study/vit-dyt/checkpoint.safetensors" --out "$data"

# Layer rows of a .layers.dat file: index name input_std inverse_std alpha tanh_a tanh_k r2_tanh line_slope r2_line
layer_field() {  # layer_field FILE INDEX COLUMN (numbers to 3 significant digits)
  awk -v i="$2" -v c="$3" '!/^#/ && $1 == i { print ($c + 0 == $c ? sprintf("%.3g", $c) : $c) }' "$1"
}

panels=""
for layer in 0 3 7 8; do  # block0.attention, block1.mlp, block3.mlp, final
  file="$data/vit-layernorm.layers.dat"
  name=$(layer_field "$file" $layer 2)
  a=$(layer_field "$file" $layer 6) k=$(layer_field "$file" $layer 7)
  r2=$(layer_field "$file" $layer 8) r2_line=$(layer_field "$file" $layer 10)
  panels+="set title \"$name: fit ${k} tanh(${a} x)\\nR^2 ${r2} (best line: ${r2_line})\"
plot '$data/vit-layernorm.points.dat' index $layer using 2:3:1 with points pt 7 ps 0.25 lc palette notitle, \
     $k * tanh($a * x) with lines lw 2 lc rgb 'black' title 'k tanh(a x)'
"
done
gnuplot <<GP
set terminal pngcairo size 1600,460 font ",11"
set output "$out/vit-layernorm-curves.png"
set multiplot layout 1,4 title "ViT with LayerNorm ($study/vit-layernorm): input vs output before the affine part, 256 test images, colour = channel"
set grid
set xlabel "input x"
set ylabel "output (x - mean) / std"
set key top left
unset colorbox
set palette rgbformulae 33,13,10
$panels
unset multiplot
GP
echo "wrote $out/vit-layernorm-curves.png"

gnuplot <<GP
set terminal pngcairo size 900,460 font ",11"
set output "$out/vit-dyt-alpha.png"
set title "ViT with DyT ($study/vit-dyt): learned alpha and 1/std of each DyT layer's input"
set grid
set xlabel "norm layer"
set key top right
set yrange [0:*]
set xtics rotate by -30
plot '$data/vit-dyt.layers.dat' using 1:5:xtic(2) with linespoints lw 2 pt 7 title 'learned alpha (DyT)', \
     '' using 1:4 with linespoints lw 2 pt 5 title '1/std of the input (DyT model)', \
     '$data/vit-layernorm.layers.dat' using 1:4 with linespoints lw 2 pt 9 dt 2 title '1/std of the input (LayerNorm model)'
GP
echo "wrote $out/vit-dyt-alpha.png"
