#!/bin/sh
# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (gcc,
# configure --enable-sanitizers), then under valgrind (make check-valgrind
# in a normal build), each in a build directory of its own.  The lab and
# relay suites are run by the main build, not here.
# Fails on any failed test, any sanitizer report (also from child
# processes and from tests that would not fail on it: every report is
# logged to a file and any such file fails the run) and any valgrind error.
# Usage: tests/run-sanitizers.sh [BUILD_DIR]   (default: a temporary
# directory, removed afterwards)
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
	base=$1
	mkdir -p "$base"
	base=$(cd "$base" && pwd)
else
	base=$(mktemp -d "${TMPDIR:-/var/tmp}/disklink-san.XXXXXX")
	trap 'rm -rf "$base"' EXIT
fi
[ -x "$srcdir/configure" ] || (cd "$srcdir" && autoreconf -fi)
jobs=$(nproc 2>/dev/null || echo 2)
rc=0

echo "== ASan/UBSan: unit tests (build in $base/san)"
mkdir -p "$base/san"
rm -rf "$base/san/reports"
mkdir -p "$base/san/reports"
cd "$base/san"
"$srcdir/configure" -q --enable-sanitizers CC="${CC:-gcc}"
make -s -j"$jobs"
ASAN_OPTIONS="log_path=$base/san/reports/asan:detect_leaks=1:abort_on_error=1:halt_on_error=1"
UBSAN_OPTIONS="log_path=$base/san/reports/ubsan:print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS UBSAN_OPTIONS
# TESTS is expanded by make: only the unit tests (incl. the fault test).
if ! make -s -j"$jobs" -C tests check TESTS='$(UNIT_TESTS)'; then
	echo "FAIL: unit tests under ASan/UBSan" >&2
	for f in tests/unit/*.log tests/fault/*.log; do
		[ -f "$f" ] && grep -q ':test-result: \(FAIL\|ERROR\)' "${f%.log}.trs" 2>/dev/null && cat "$f" >&2
	done
	rc=1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS
for f in "$base/san/reports"/*; do
	[ -f "$f" ] || continue
	echo "FAIL: sanitizer report $(basename "$f"):" >&2
	cat "$f" >&2
	rc=1
done

echo "== valgrind: unit tests (build in $base/plain)"
mkdir -p "$base/plain"
cd "$base/plain"
"$srcdir/configure" -q
make -s -j"$jobs"
if ! make -s -C tests check-valgrind; then
	echo "FAIL: unit tests under valgrind" >&2
	rc=1
fi

[ $rc -eq 0 ] && echo "sanitizers and valgrind: all clean"
exit $rc
