#!/bin/sh
# Unpacks what the 32-bit build and tests need but apt cannot install beside
# the amd64 system, into a cache folder (default build-deps/i386):
#   msgpack/   libmsgpack-dev:i386 (its libc6-dev:i386 dependency lags the
#              amd64 libc6-dev, so apt refuses it; the headers and the .pc
#              are all the build needs, libmsgpackc2:i386 is installed)
#   pkgconfig/ msgpack.pc pointing into msgpack/
#   plugins/   the i386 builds of lsp-plugins-vst and dpf-plugins-vst and
#              the i386 runtime libraries they need that apt cannot install
#              for the same reason (usr/lib/i386-linux-gnu, lib/...)
# Idempotent: a stamp file names what was unpacked; run again, it does
# nothing.  Needs `dpkg --add-architecture i386` and an apt-get update.
#   scripts/fetch-i386.sh [DIR]
set -eu
cd "$(dirname "$0")/.."
dir="${1:-build-deps/i386}"

MSGPACK_DEV="libmsgpack-dev:i386"
PLUGINS="lsp-plugins-vst:i386 dpf-plugins-vst:i386"
# The plugins' NEEDED libraries, closed over their own dependencies, less
# what gcc-multilib and the packages install-deps.sh installs provide
# (libc, libm, libstdc++, libgcc_s).  Only loaded, never run for a GUI.
RUNTIME="libsndfile1:i386 libogg0:i386 libflac12:i386 libvorbis0a:i386 \
libvorbisenc2:i386 libopus0:i386 libmpg123-0:i386 libmp3lame0:i386 \
libcairo2:i386 libpixman-1-0:i386 libpng16-16:i386 zlib1g:i386 \
libfontconfig1:i386 libexpat1:i386 libfreetype6:i386 libbrotli1:i386 \
libx11-6:i386 libxcb1:i386 libxau6:i386 libxdmcp6:i386 libbsd0:i386 \
libmd0:i386 libxrandr2:i386 libxrender1:i386 libxext6:i386 \
libxcursor1:i386 libxfixes3:i386 libxcb-render0:i386 libxcb-shm0:i386 \
libgl1:i386 libglx0:i386 libglvnd0:i386 libprojectm3:i386"
stamp="$dir/.stamp"
want="v2 $MSGPACK_DEV $PLUGINS $RUNTIME"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "fetch-i386: $dir is up to date"
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/msgpack" "$dir/pkgconfig" "$dir/plugins"
abs="$(cd "$dir" && pwd)"
# shellcheck disable=SC2086
(cd "$abs/debs" && apt-get download -q $MSGPACK_DEV $PLUGINS $RUNTIME)

for deb in "$abs"/debs/libmsgpack-dev_*.deb; do
  dpkg -x "$deb" "$abs/msgpack"
done
# The -dev symlink points at libmsgpackc.so.2, which libmsgpackc2:i386
# installed in the system folder, not in the unpacked tree.
ln -sf /usr/lib/i386-linux-gnu/libmsgpackc.so.2 \
  "$abs/msgpack/usr/lib/i386-linux-gnu/libmsgpackc.so"
sed -e "s|^prefix=.*|prefix=$abs/msgpack/usr|" \
  -e "s|^libdir=.*|libdir=$abs/msgpack/usr/lib/i386-linux-gnu|" \
  "$abs/msgpack/usr/lib/i386-linux-gnu/pkgconfig/msgpack.pc" \
  >"$abs/pkgconfig/msgpack.pc"

for deb in "$abs"/debs/*.deb; do
  case "$deb" in
    */libmsgpack-dev_*) ;;
    *) dpkg -x "$deb" "$abs/plugins" ;;
  esac
done
rm -rf "$abs/debs" "$abs/plugins/usr/share"
echo "$want" >"$stamp"
echo "fetch-i386: unpacked into $dir"
