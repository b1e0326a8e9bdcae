#!/bin/sh
# Run libFuzzer targets for a bounded time each over a copy of their seed
# corpus; fail if any finds a crash, a sanitizer report or a broken
# invariant, printing the input that did it as hex.
# Usage: run-targets.sh CORPUS_DIR SECONDS TARGET...   (run in tests/ of a
# build configured with --enable-fuzzing)
set -u

corpus_src=$1
seconds=$2
shift 2

work=$(mktemp -d "${TMPDIR:-/var/tmp}/disklink-fuzz-run.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

rc=0
for target in "$@"; do
	name=$(basename "$target")
	short=${name#fuzz_}
	mkdir -p "$work/$short/corpus" "$work/$short/artifacts"
	if [ -d "$corpus_src/$short" ]; then
		cp "$corpus_src/$short"/* "$work/$short/corpus/" 2>/dev/null
	fi
	echo "fuzz: $name for ${seconds}s ($(ls "$work/$short/corpus" | wc -l) seeds)"
	start=$(date +%s)
	"./$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/$short/artifacts/" \
		"$work/$short/corpus" >"$work/$short/log" 2>&1
	r=$?
	end=$(date +%s)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$short/log")
	cov=$(grep -o 'cov: [0-9]*' "$work/$short/log" | tail -n 1)
	echo "fuzz: $name exit $r after $((end - start))s, ${runs:-?} runs, ${cov:-cov: ?}," \
		"corpus $(ls "$work/$short/corpus" | wc -l)"
	found=$(ls "$work/$short/artifacts" 2>/dev/null)
	if [ "$r" -ne 0 ] || [ -n "$found" ]; then
		rc=1
		echo "FAIL: $name" >&2
		grep -E 'ERROR|invariant|SUMMARY|runtime error|#[0-9]+ 0x' "$work/$short/log" \
			| head -n 40 >&2
		for a in "$work/$short/artifacts"/*; do
			[ -f "$a" ] || continue
			echo "input $(basename "$a") ($(wc -c <"$a") bytes), add it to" \
				"tests/fuzz/corpus/$short/ as a regression seed:" >&2
			od -An -v -tx1 "$a" >&2
		done
	fi
done
exit $rc
