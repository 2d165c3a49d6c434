#!/bin/sh
# Installs the Debian 12 packages plugbox needs to build, test and run
# against the real plugins.  Safe to run again: apt-get skips what is there.
set -eu

PACKAGES="build-essential cmake pkg-config libuv1-dev libmsgpack-dev \
libcmocka-dev libseccomp-dev libsndfile1-dev libsmf-dev python3 valgrind \
clang-format git \
lsp-plugins-vst dpf-plugins-vst zam-plugins dragonfly-reverb-vst"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A mirror whose index fails to download must not stop us as long as the
# packages themselves install; the install below is the real check.
$SUDO apt-get update -q || echo "install-deps: apt-get update reported errors; continuing"
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
