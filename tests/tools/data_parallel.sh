#!/usr/bin/env bash
# train-gpt over 2 processes (mpirun) trains the run one process trains with the same --batch: each
# step's loss, gradient norm and validation loss agree to float32 rounding (the sums over the batch
# run in another order), with dropout on. So does ZeRO-1 (--zero). A checkpoint written by 2
# processes resumes in 1, continuing the same run. And train-vit over 2 processes with ZeRO-1 trains
# its one-process run (when Fashion-MNIST is installed). Fails (exit status) otherwise.
# usage: tests/tools/data_parallel.sh BUILD_DIR WORK_DIR MPIRUN...
set -euo pipefail
build=$1 work=$2
shift 2
mpirun=("$@")
rm -rf "$work"
mkdir -p "$work"
run=(--steps 6 --batch 8 --width 32 --layers 2 --heads 2 --block-size 32 --dropout 0.1 --eval-every 3 --eval-batches 2
     --sample-chars 0 --threads 1)
"$build/train-gpt" "${run[@]}" --out "$work/one" > "$work/one.txt"
"${mpirun[@]}" "$build/train-gpt" "${run[@]}" --out "$work/two" > "$work/two.txt"
grep -q 'data parallel: 2 processes (MPI), 4 of the 8 sequences each' "$work/two.txt"
"${mpirun[@]}" "$build/train-gpt" "${run[@]}" --zero --checkpoint-every 3 --keep-checkpoints --out "$work/zero" > "$work/zero.txt"
grep -q 'ZeRO-1 (its state sharded over 2 processes)' "$work/zero.txt"
"$build/train-gpt" --resume "$work/zero/checkpoint-3.safetensors" --steps 6 --threads 1 --sample-chars 0 \
  --out "$work/resumed" > "$work/resumed.txt"
runs=(two zero resumed)
if [ -d /usr/share/datasets/fashion-mnist ]; then
  vit=(--steps 4 --batch 32 --width 16 --layers 1 --heads 1 --patch 7 --dropout 0.1 --eval-every 4 --threads 1)
  "$build/train-vit" "${vit[@]}" --out "$work/vit-one" > "$work/vit-one.txt"
  "${mpirun[@]}" "$build/train-vit" "${vit[@]}" --zero --out "$work/vit-zero" > "$work/vit-zero.txt"
  grep -q 'data parallel: 2 processes (MPI), 16 of the 32 images each' "$work/vit-zero.txt"
  runs+=(vit-zero)
else
  echo "train-vit not compared: Fashion-MNIST is not installed (Debian: dataset-fashion-mnist)"
fi
python3 - "$work" "${runs[@]}" <<'PY'
import json, pathlib, sys
work, runs = pathlib.Path(sys.argv[1]), sys.argv[2:]
def log(name):
    return {row["step"]: row for row in map(json.loads, (work / name / "log.jsonl").read_text().splitlines())}
for name in runs:
    one = log("vit-one" if name.startswith("vit") else "one")
    assert sorted(one) == list(range(1, len(one) + 1)) and len(one) >= 4, f"steps of the one-process run: {sorted(one)}"
    other = log(name)
    for step, row in other.items():
        for key in ("loss", "grad_norm", "val_loss", "test_loss"):
            if key not in row:
                continue
            a, b = one[step][key], row[key]
            assert abs(a - b) <= 1e-5 * abs(a), f"{name}, step {step}: {key} {b} against one process's {a}"
    print(f"{name}: steps {sorted(other)} agree with one process")
assert sorted(log("resumed")) == list(range(4, 7)), f"steps of the resumed run: {sorted(log('resumed'))}"
PY
