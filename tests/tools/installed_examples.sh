#!/usr/bin/env bash
# dytgrad as a library, the way a user's project gets it: installs the build in BUILD_DIR to a
# prefix (checking that its programs run from there), builds examples/ against it with find_package(dytgrad) in a separate CMake project, and
# runs each example (each one's exit status says whether its own check passed); then does the same
# with README.md's "A taste" block, exactly as the README shows it.
# usage: tests/tools/installed_examples.sh BUILD_DIR WORK_DIR [extra cmake arguments for examples/]
set -euo pipefail
build=$1 work=$2
shift 2
root="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.txt"
[ -f "$work/prefix/include/dytgrad/dytgrad.h" ] && [ -f "$work/prefix/lib/cmake/dytgrad/dytgradConfig.cmake" ]
# The programs, as dytgrad-<name>, run from the prefix.
for program in train-gpt train-vit sample norm-curves; do
  "$work/prefix/bin/dytgrad-$program" --help | grep -- '--help' > /dev/null
done
cmake -S "$root/examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" "$@" > "$work/configure.txt"
cmake --build "$work/build" -j 2
cd "$work"
for example in custom_op custom_module training_loop; do
  echo "== $example"
  "$work/build/$example"
done

echo "== README.md, A taste"
mkdir -p "$work/taste"
awk '/^## A taste/ {in_section = 1} in_section && /^```$/ {exit} in_block {print} in_section && /^```cpp$/ {in_block = 1}' \
  "$root/README.md" > "$work/taste/taste.cpp"
grep -q 'int main' "$work/taste/taste.cpp"
cat > "$work/taste/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.24)
project(readme_taste LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(dytgrad REQUIRED)
add_executable(taste taste.cpp)
target_link_libraries(taste PRIVATE dytgrad::dytgrad)
CMAKE
cmake -S "$work/taste" -B "$work/taste/build" -DCMAKE_PREFIX_PATH="$work/prefix" "$@" > "$work/taste/configure.txt"
cmake --build "$work/taste/build"
"$work/taste/build/taste" | tee "$work/taste/output.txt"
grep -q 'shape=\[1\], dtype=float32' "$work/taste/output.txt"
