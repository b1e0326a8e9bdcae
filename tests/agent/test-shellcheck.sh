#!/bin/sh
# The agent and the agents' shared helpers are POSIX sh: shellcheck -s sh
# finds nothing (not even infos).
. "$(dirname "$0")/lib.sh"
command -v shellcheck >/dev/null 2>&1 || skip "shellcheck is not installed"
shellcheck -s sh "$AGENT" >"$WORK/sc.log" 2>&1 || { cat "$WORK/sc.log"; fail "shellcheck -s sh agent/disklink"; }
shellcheck -s sh "$top_srcdir"/agent/dl-* >"$WORK/sc.log" 2>&1 ||
	{ cat "$WORK/sc.log"; fail "shellcheck -s sh agent/dl-* (dl-shellfuncs, the agents' modules)"; }
shellcheck -s sh -x -P "$top_srcdir/tests/agent" "$top_srcdir"/tests/agent/*.sh >"$WORK/sc.log" 2>&1 ||
	{ cat "$WORK/sc.log"; fail "shellcheck tests/agent"; }
echo "PASS: $TEST"
