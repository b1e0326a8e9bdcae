# shellcheck shell=sh disable=SC2034,SC2059
# Shared by the tests of the `disklink` tool (sourced).  Every test runs
# its scenario on a regular file and, when it can (root, losetup), on
# loop devices with 512- and 4096-byte logical sectors.
set -u

: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
DISKLINK="$top_builddir/knet-transport/disklink"
WRITER="$top_builddir/tests/tool/dl_test_writer"
# A sanitizer report must fail the test even where an exit status of 1
# is expected.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=99"
export ASAN_OPTIONS UBSAN_OPTIONS
TMPD=$(mktemp -d /var/tmp/disklink-tool.XXXXXX) || exit 1
LOOPS=""
PIDS=""
OUT="$TMPD/out"
ERR="$TMPD/err"

# pid_start, remember, ours, track: a pid is signalled only while it is
# still the process this test started.
# shellcheck source=../pidtrack.sh
. "$top_srcdir/tests/pidtrack.sh"

cleanup() {
	for p in $PIDS; do ours "$p" && kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for l in $LOOPS; do
		blockdev --setrw "$l" 2>/dev/null
		losetup -d "$l" 2>/dev/null
	done
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	echo "--- stdout:" >&2; cat "$OUT" >&2 2>/dev/null
	echo "--- stderr:" >&2; cat "$ERR" >&2 2>/dev/null
	exit 1
}

# Geometry used by the tests (keeps volumes small and offsets simple).
BS=4096
RING=64
REGION=4096
SLOTS=4                      # as format_vol makes them
HEADS=$((SLOTS * BS))        # the head area (a multiple of REGION here)
STRIDE=$((2 * REGION + RING * BS))
head_off() { echo $((REGION + $1 * BS)); }
slot_off() { echo $((REGION + HEADS + $1 * STRIDE)); }
hdr_off() { echo $(($(slot_off "$1") + $2 * REGION)); }
block_off() { echo $(($(slot_off "$1") + 2 * REGION + $2 * BS)); }

# run EXPECTED_RC CMD...: stdout to $OUT, stderr to $ERR.
run() {
	want=$1; shift
	"$@" >"$OUT" 2>"$ERR"
	got=$?
	[ "$got" -lt 128 ] || fail "'$*' crashed (exit $got)"
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want"
}

# A failure must be one line on stderr that names the problem.
one_line_err() {
	n=$(wc -l <"$ERR")
	[ "$n" -eq 1 ] || fail "expected a one-line error, got $n lines"
	if [ $# -gt 0 ]; then
		grep -q -- "$1" "$ERR" || fail "error does not mention '$1'"
	fi
}

out_has() { grep -q -- "$1" "$OUT" || fail "output lacks '$1'"; }
out_lacks() { ! grep -q -- "$1" "$OUT" || fail "output has '$1'"; }
err_has() { grep -q -- "$1" "$ERR" || fail "stderr lacks '$1'"; }

# Valid JSON on stdout (when python3 is there to tell).
json_ok() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -m json.tool <"$OUT" >/dev/null || fail "output is not valid JSON"
	fi
}

# json_get EXPR: evaluate a python expression over the JSON in $OUT as j.
json_get() {
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); r=($1); print(r)" "$OUT"
}

digest() { sha256sum <"$1" | cut -d' ' -f1; }

# poke DEV OFFSET OCTAL-ESCAPES: overwrite bytes in place.
poke() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc,fsync status=none ||
		fail "poke $1 at $2"
}

new_file() {
	f="$TMPD/$1.img"
	rm -f "$f"
	truncate -s "${2:-8M}" "$f" || fail "truncate $f"
	echo "$f"
}

# loop_attach FILE SECTOR: sets LOOP (empty when loop devices are unusable).
loop_attach() {
	LOOP=""
	[ "$(id -u)" -eq 0 ] || return 1
	command -v losetup >/dev/null 2>&1 || return 1
	LOOP=$("$top_srcdir/tests/loop-attach" --find --sector-size "$2" "$1" 2>/dev/null) || { LOOP=""; return 1; }
	LOOPS="$LOOPS $LOOP"
	return 0
}

loop_detach() {
	blockdev --setrw "$1" 2>/dev/null
	losetup -d "$1" 2>/dev/null
	LOOPS=$(echo "$LOOPS" | sed "s#[[:space:]]$1\$##; s#[[:space:]]$1[[:space:]]# #")
}

format_small() {
	run 0 "$DISKLINK" format "$1" --cluster "${2:-c1}" --slots 4 --ring-blocks $RING --force
}

# for_each_target SCENARIO: SCENARIO TARGET LABEL SECTOR on a file, then
# on 512- and 4096-byte-sector loop devices.  Exits 77 (after the file
# run passed) when loop devices cannot be used.
for_each_target() {
	f=$(new_file file)
	echo "== $1 on a regular file"
	"$1" "$f" file 512
	skipped=0
	for sector in 512 4096; do
		f=$(new_file "loop$sector")
		if ! loop_attach "$f" "$sector"; then
			skipped=1
			continue
		fi
		echo "== $1 on $LOOP ($sector-byte sectors)"
		"$1" "$LOOP" loop "$sector"
		loop_detach "$LOOP"
	done
	if [ "$skipped" -eq 1 ]; then
		echo "SKIP: loop devices unavailable (needs root and losetup)"
		exit 77
	fi
}
