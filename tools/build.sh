#!/bin/bash
# Build disklink out of tree in ./build (or $DL_BUILD): autogen, configure, make.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${DL_BUILD:-$src/build}
cd "$src"
if [ ! -x configure ] || [ configure.ac -nt configure ] || \
   [ -n "$(find . -name Makefile.am -newer configure -print -quit)" ]; then
	./autogen.sh >/dev/null
fi
mkdir -p "$build"
cd "$build"
if [ ! -f config.status ] || [ "$src/configure" -nt config.status ]; then
	"$src/configure" -q
fi
make -j"$(nproc)" >/dev/null
echo "built in $build"
