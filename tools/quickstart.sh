#!/usr/bin/env bash
# One entry point that does all the setup on a fresh Debian machine, then runs something:
#   tools/quickstart.sh train   installs what is missing, builds, trains the default GPT (train-gpt)
#   tools/quickstart.sh test    installs what is missing, builds, runs the whole test suite
# Environment: BUILD_DIR (default build), DYTGRAD_CUDA (AUTO, ON or OFF; default AUTO),
# JOBS (parallel build jobs; default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
  train|test) shift ;;
  *) echo "usage: tools/quickstart.sh train|test [args for the program]" >&2; exit 2 ;;
esac

# Debian packages the build needs (see README.md, "Dependencies").
packages=(build-essential cmake ninja-build catch2 libfmt-dev libdnnl-dev libopenblas-dev libsleef-dev libcli11-dev nlohmann-json3-dev zlib1g-dev python3
          libopenmpi-dev openmpi-bin fortunes dataset-fashion-mnist)
bash tools/install_missing.sh "${packages[@]}"

build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
echo "== configuring and building in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDYTGRAD_CUDA="${DYTGRAD_CUDA:-AUTO}" >/dev/null
cmake --build "$build" -j "$jobs"

if [ "$mode" = test ]; then
  echo "== running the test suite"
  cd "$build"
  ctest --output-on-failure -j "$jobs" "$@"
else
  echo "== training the default GPT (train-gpt --help for the options)"
  "$build/train-gpt" "$@"
fi
