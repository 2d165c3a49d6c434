#!/bin/sh
# The main job: install what is needed, build, then describe the bundled
# example plugin and every real VST2 plugin installed on this machine
# through the sandboxed bridge.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
bin=build/bin/plugbox

echo "== bundled example plugin =="
"$bin" info build/test-plugins/pb_test_gain.so

echo "== a sine sweep through the example plugin and a real reverb =="
mkdir -p build/demo
python3 examples/make_sweep.py build/demo/sweep.wav 2
"$bin" process --param "Output Gain=-6" build/test-plugins/pb_test_gain.so \
  build/demo/sweep.wav build/demo/sweep-gain.wav
if [ -e /usr/lib/vst/MVerb-vst.so ]; then
  "$bin" process /usr/lib/vst/MVerb-vst.so build/demo/sweep.wav \
    build/demo/sweep-mverb.wav
fi
echo "(written to build/demo/)"

echo "== real plugins =="
total=0
ok=0
failed=0
for f in $(find /usr/lib/vst /usr/lib/lxvst -name '*.so' 2>/dev/null | sort); do
  total=$((total + 1))
  if out=$("$bin" info "$f" 2>&1); then
    ok=$((ok + 1))
    name=$(printf '%s\n' "$out" | sed -n 's/^Plugin name: //p')
    params=$(printf '%s\n' "$out" | sed -n 's/^numParams = //p')
    printf '%-64s %s (%s params)\n' "$f" "$name" "$params"
  else
    failed=$((failed + 1))
    printf '%-64s ERROR %s\n' "$f" "$(printf '%s' "$out" | tail -n 1)"
  fi
done
echo "== $total plugin files: $ok described, $failed refused =="
echo "Full listing of one: build/bin/plugbox info /usr/lib/vst/MVerb-vst.so"
