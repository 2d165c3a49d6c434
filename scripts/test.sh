#!/bin/sh
# Installs what is needed, builds, and runs the whole test suite: the normal
# build, then the same tests under AddressSanitizer + UBSan, the host
# library under valgrind, and the formatting check.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="$(nproc)"

echo "== build and test =="
scripts/build.sh build
(cd build && ctest --output-on-failure -j "$jobs")

echo "== build and test under ASan + UBSan =="
scripts/build.sh build-asan -DPLUGBOX_SANITIZE=ON -DPLUGBOX_BENCH=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
  ctest --output-on-failure -j "$jobs")

echo "== host library under valgrind =="
(cd build && PB_VALGRIND=1 valgrind --quiet --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
  --trace-children=no bin/test_host)

echo "== formatting =="
files=$(git ls-files '*.c' '*.h')
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "== all tests passed =="
