#!/bin/sh
# Build the libFuzzer targets with clang (the library instrumented with
# -fsanitize=fuzzer-no-link,address,undefined) in a build directory of
# their own, and run each for FUZZ_SECONDS (default 40) over a copy of the
# seed corpus in tests/fuzz/corpus.  Fails if any target finds a crash,
# a sanitizer report or a broken invariant; the input is printed as hex.
# Usage: tests/run-fuzz.sh [BUILD_DIR]   (default: a temporary directory,
# removed afterwards)
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-40}
CC=${CC:-clang}
case "$CC" in *clang*) ;; *) echo "run-fuzz.sh: libFuzzer needs clang (CC=$CC)" >&2; exit 1 ;; esac
command -v "$CC" >/dev/null || { echo "run-fuzz.sh: $CC not found (apt-get install clang)" >&2; exit 1; }

if [ $# -ge 1 ]; then
	build=$1
	mkdir -p "$build"
else
	build=$(mktemp -d "${TMPDIR:-/var/tmp}/disklink-fuzz-build.XXXXXX")
	trap 'rm -rf "$build"' EXIT
fi
[ -x "$srcdir/configure" ] || (cd "$srcdir" && autoreconf -fi)

cd "$build"
"$srcdir/configure" -q --enable-fuzzing CC="$CC" \
	CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
jobs=$(nproc 2>/dev/null || echo 2)
make -s -C tests -j"$jobs" fuzz-targets
make -s -C tests fuzz FUZZ_SECONDS="$FUZZ_SECONDS"
