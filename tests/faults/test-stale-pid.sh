#!/bin/sh
# The tests' cleanup (stop_pids, tests/relay/lib.sh) signals a tracked
# process only while it is still that process.  The pid of a tracked
# process that exited is the kernel's to give again, and with pid_max
# 32768 it is given within minutes while the suite runs: a test's cleanup
# killed another test's process that way (issue 18: test-stall's
# traffic.py of node 1 vanished, the link never came back after the
# stall).  In a PID namespace of its own the test hands a tracked pid
# that exited to a new process (ns_last_pid) and checks that stop_pids
# leaves it alone.  Failed before the fix: stop_pids killed it.
if [ -z "${DL_STALE_PID_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a PID namespace)"; exit 77; }
	command -v unshare >/dev/null 2>&1 || { echo "SKIP: unshare is not installed"; exit 77; }
	DL_STALE_PID_NS=1 exec unshare -p -f --mount-proc -- /bin/sh "$0" "$@"
fi
RELAY_KNET=no
. "$(dirname "$0")/lib.sh"

[ -w /proc/sys/kernel/ns_last_pid ] || fail "cannot write ns_last_pid in the test's PID namespace"

# A tracked process that exits while the test goes on (its pid stays in
# PIDS, as a test that forgot to untrack it leaves it).
sleep 30 &
old=$!
track $old
kill $old
wait $old 2>/dev/null
# start times count clock ticks: the next process starts a few later (a
# reuse after pid_max wrapped comes minutes later)
sleep 0.1

# The pid goes to another process (not this shell's child: stop_pids
# waits for its own): the subshell takes old - 1, its sleep old.
echo $((old - 2)) > /proc/sys/kernel/ns_last_pid
( sleep 30 > /dev/null 2>&1 & echo $! > "$WORK/victim.pid" )
victim=$(cat "$WORK/victim.pid")
[ "$victim" = "$old" ] || fail "could not hand pid $old to a new process (it got $victim)"

stop_pids
kill -0 "$victim" 2>/dev/null ||
	fail "stop_pids killed process $victim, which only reused the pid of a tracked process that had exited"
kill "$victim"
log "stop_pids left pid $old alone once another process held it"
log PASS
