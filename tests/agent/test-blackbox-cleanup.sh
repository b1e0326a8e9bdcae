#!/bin/sh
# The blackbox files a killed disklinkd leaves in /dev/shm (libqb's
# qb-disklinkd-PID-blackbox-header|data, daemon/common/shm_cleanup.h) are
# removed by the next daemon that starts, in its PID namespace or in
# another; a running daemon's are kept, even when its PID is not to be seen
# from the namespace of the daemon that starts.  The daemons run in
# explicit mode on a device that does not exist (they serve and retry),
# in a network namespace of the test's own.
. "$(dirname "$0")/lib.sh"
need_daemon
[ "$(id -u)" = 0 ] || skip "needs root (PID namespaces)"
for t in unshare pgrep setsid; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done
if [ -z "${DL_AGENT_NETNS:-}" ]; then
	trap - EXIT
	rm -rf "$WORK" "$AGENT_DIR"
	DL_AGENT_NETNS=1 exec unshare -n -- /bin/sh "$0" "$@"
fi
ip link set lo up || fail "lo up"
PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
SHM=/dev/shm

N=0

# run_daemon NAME [COMMAND...]: disklinkd (behind COMMAND, e.g. unshare) in
# the foreground, on addresses of its own; sets DPID (COMMAND's pid) once
# its control socket answers.
run_daemon() {
	_name=$1
	shift
	N=$((N + 1))
	"$@" setsid "$DISKLINKD" --foreground --device "$WORK/nonexistent" --node-id 1 \
		--local-addr "127.0.$N.1" --port "$PORT" --peer "2=127.0.$N.2" \
		--control "$WORK/$_name.sock" --log-file "$WORK/$_name.log" \
		</dev/null >/dev/null 2>>"$WORK/$_name.err" &
	DPID=$!
	track $DPID
	for _ in $(seq 100); do
		"$DISKLINK" status --json --socket "$WORK/$_name.sock" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "disklinkd ($_name) does not answer: $(cat "$WORK/$_name.err")"
}

# has_files PID: both blackbox files of PID are in /dev/shm.
has_files() {
	[ -f "$SHM/qb-disklinkd-$1-blackbox-header" ] && [ -f "$SHM/qb-disklinkd-$1-blackbox-data" ]
}

# no_files PID: none of PID's disklinkd files is left in /dev/shm.
no_files() {
	for _f in "$SHM"/*disklinkd-"$1"-*; do
		[ -e "$_f" ] && return 1
	done
	return 0
}

# left_files PID: LEFT=1 when the killed PID left its files; 0 when the
# start of a daemon of another test (/dev/shm is the machine's) removed
# them already.
left_files() {
	LEFT=1
	has_files "$1" && return 0
	LEFT=0
	log "the files of $1 are gone already (another daemon started meanwhile)"
}

# kill9 PID: SIGKILL the daemon, wait for it and for its I/O child (which
# dies with it, and holds the blackbox's lock until then).
kill9() {
	_kids=$(pgrep -P "$1")
	kill -KILL "$1"
	wait "$1" 2>/dev/null
	for _k in $_kids; do
		for _ in $(seq 50); do alive "$_k" || break; sleep 0.1; done
		alive "$_k" && fail "the I/O child $_k of $1 outlived it"
	done
}

log "a running daemon"
run_daemon live
live=$DPID
has_files "$live" || fail "no blackbox files for the running daemon $live: $(ls "$SHM")"

log "a daemon killed with SIGKILL leaves its files; the next one removes them"
run_daemon crash1
crash1=$DPID
kill9 "$crash1"
left_files "$crash1"
run_daemon next
next=$DPID
no_files "$crash1" || fail "the files of the killed daemon $crash1 are left: $(ls "$SHM")"
has_files "$live" || fail "the running daemon's ($live) files were removed"
has_files "$next" || fail "no blackbox files for the new daemon $next"
[ "$LEFT" = 0 ] || grep -q "removed [0-9]* blackbox files of stopped daemons" "$WORK/next.log" ||
	fail "the new daemon did not log the removal"
kill -TERM "$next"
wait "$next" 2>/dev/null
no_files "$next" || fail "a daemon stopped by SIGTERM left its files"

log "a daemon in a PID namespace of its own: a running daemon it cannot see keeps its files"
run_daemon crash2
crash2=$DPID
kill9 "$crash2"
left_files "$crash2"
run_daemon pidns unshare -p -f --kill-child=TERM --
nspid=$(pgrep -P "$DPID")
[ -n "$nspid" ] || fail "no daemon under unshare $DPID"
track "$nspid"
no_files "$crash2" || fail "the files of the killed daemon $crash2 are left: $(ls "$SHM")"
has_files "$live" || fail "the running daemon's ($live) files were removed from another PID namespace"
kill -TERM "$nspid"
wait "$DPID" 2>/dev/null

kill -TERM "$live"
wait "$live" 2>/dev/null
no_files "$live" || fail "a daemon stopped by SIGTERM left its files"
echo "PASS: $TEST"
