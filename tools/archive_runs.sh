#!/usr/bin/env bash
# Copies finished or stopped runs into the repository, small: for each run folder, log.jsonl.gz and
# final.txt (the command if known, the program's header lines, a GPT's sample, the final line).
# usage: tools/archive_runs.sh DEST RUN_FOLDER...   e.g. tools/archive_runs.sh docs/results/logs runs/study/*
# tools/study_table.py and tools/plot_study.sh read DEST as they read runs/study.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DEST RUN_FOLDER..." >&2; exit 2; }
dest=$1; shift
for run in "$@"; do
  [ -f "$run/log.jsonl" ] || { echo "skipped $run: no log.jsonl"; continue; }
  target="$dest/$(basename "$run")"
  mkdir -p "$target"
  gzip -9 -n -c "$run/log.jsonl" > "$target/log.jsonl.gz"
  {
    [ -f "$run/command.txt" ] && echo "command: $(cat "$run/command.txt")"
    if [ -f "$run/output.txt" ]; then
      tr '\r' '\n' < "$run/output.txt" | grep -aE '^(data|model|device|optimiser|resuming):' | sort -u
      # A GPT's sample and final line, or a ViT's final line.
      tr '\r' '\n' < "$run/output.txt" | grep -av '^\s*$' | awk '/^sample \(/ {s = ""; keep = 1} {s = s $0 "\n"} END {printf "%s", keep ? s : $0 "\n"}'
    fi
  } > "$target/final.txt"
  echo "archived $run -> $target"
done
