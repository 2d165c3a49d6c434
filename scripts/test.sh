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
# The 32-bit bridge's summary (tests/test_bridge32.c), passed or not.
# The real-plugin tests' summary lines (counts of files, matches, skips).
grep -hE "^(real plugins|audio|sandbox real plugins|i386 real plugins):" \
  build/Testing/Temporary/LastTest.log || true

echo "== build and test under ASan + UBSan =="
scripts/build.sh build-asan -DPLUGBOX_SANITIZE=ON -DPLUGBOX_BENCH=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
  ctest --output-on-failure -j "$jobs")

echo "== host library under valgrind =="
# valgrind 3.19 does not know pidfd_open (its warnings are filtered out): the
# library then takes its waitpid fallback, which this run covers as a bonus.
for t in test_host test_host_plugins test_audio test_audio_queue test_audio_events \
  test_isolation; do
  log="build/valgrind-$t.log"
  if ! (cd build && PB_TEST_PLUGIN_DIR="$PWD/test-plugins" \
        PB_BIN_DIR="$PWD/bin" valgrind --quiet --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
        "bin/$t" >"../$log" 2>&1); then
    grep -v '^--[0-9]*-- ' "$log"
    echo "valgrind: $t failed (log: $log)"
    exit 1
  fi
  grep -v '^--[0-9]*-- ' "$log" | tail -n 2
done

echo "== protocol decoder fuzz smoke run (libFuzzer, 20 s) =="
CC=clang cmake -S . -B build-fuzz -DPLUGBOX_FUZZ=ON -DPLUGBOX_BENCH=OFF \
  >/dev/null
cmake --build build-fuzz --target fuzz_message -j "$jobs" >/dev/null
mkdir -p build-fuzz/corpus
build-fuzz/bin/fuzz_message -max_total_time=20 -malloc_limit_mb=256 \
  build-fuzz/corpus tests/fuzz/corpus 2>&1 | tail -n 3

echo "== formatting =="
files=$(git ls-files '*.c' '*.h')
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "== all tests passed =="
