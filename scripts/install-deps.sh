#!/bin/sh
# Installs the Debian 12 packages plugbox needs to build, test and run
# against the real plugins, then the i386 set-up of the 32-bit bridge
# (scripts/fetch-i386.sh).  Safe to run again: apt-get skips what is there.
# PLUGBOX_NO_I386=1 skips the i386 part (no 32-bit bridge is built then).
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential cmake pkg-config libuv1-dev libmsgpack-dev \
libcmocka-dev libseccomp-dev libsndfile1-dev libsmf-dev python3 valgrind \
clang libclang-rt-14-dev clang-format git \
lsp-plugins-vst dpf-plugins-vst zam-plugins dragonfly-reverb-vst"
# The 32-bit bridge: see docs/architecture.md, "32-bit bridge".
# libmsgpack-dev:i386 is not here: apt cannot install it beside the amd64
# one, fetch-i386.sh unpacks it.
I386_PACKAGES="gcc-multilib libuv1-dev:i386 libseccomp-dev:i386 \
libmsgpackc2:i386"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

i386="${PLUGBOX_NO_I386:-0}"
[ "$i386" = 1 ] && i386=0 || i386=1
need_update=0
if [ "$i386" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx i386
then
  echo "install-deps: adding the i386 architecture"
  $SUDO dpkg --add-architecture i386
  need_update=1
fi

missing_of() {
  out=""
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
        grep -q "ok installed"; then
      out="$out $p"
    fi
  done
  echo "$out"
}

# shellcheck disable=SC2086
missing=$(missing_of $PACKAGES)
missing_i386=""
if [ "$i386" = 1 ]; then
  # shellcheck disable=SC2086
  missing_i386=$(missing_of $I386_PACKAGES)
fi

if [ -n "$missing$missing_i386" ] || [ "$need_update" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # A mirror whose index fails to download (the security mirror's i386
  # index does, here) must not stop us as long as the packages themselves
  # install; the installs below are the real check.
  $SUDO apt-get update -q ||
    echo "install-deps: apt-get update reported errors; continuing"
fi
if [ -n "$missing" ]; then
  echo "install-deps: installing$missing"
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q --no-install-recommends $missing
else
  echo "install-deps: all packages present"
fi

# The 32-bit part is an extra: if this machine cannot install it, the
# 32-bit bridge is not built and its tests say they are skipped, but the
# rest of plugbox builds and runs.
if [ "$i386" = 1 ] && [ -n "$missing_i386" ]; then
  echo "install-deps: installing$missing_i386"
  # shellcheck disable=SC2086
  if ! $SUDO apt-get install -y -q --no-install-recommends $missing_i386; then
    echo "install-deps: WARNING: the i386 packages did not install;" \
      "no 32-bit bridge will be built"
    i386=0
  fi
fi
if [ "$i386" = 1 ] && ! scripts/fetch-i386.sh; then
  echo "install-deps: WARNING: fetching the i386 msgpack headers and" \
    "plugins failed; the 32-bit build or its real-plugin tests will skip"
fi
