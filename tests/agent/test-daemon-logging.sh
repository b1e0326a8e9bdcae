#!/bin/sh
# disklinkd's logging as an operator meets it (doc/daemon.md, Logging):
# stderr carries the log in the foreground, but not when stderr is the
# journal (JOURNAL_STREAM names it: syslog reaches the journal already, so
# no line twice); the log file is reopened on SIGHUP (logrotate); a fatal
# signal dumps libqb's blackbox into $STATE_DIRECTORY.  The daemon runs in
# explicit mode on a device that does not exist (it serves and retries),
# in a network namespace of its own when root, else on a random port.
. "$(dirname "$0")/lib.sh"
need_daemon
if [ "$(id -u)" = 0 ] && [ -z "${DL_AGENT_NETNS:-}" ] && command -v unshare >/dev/null 2>&1; then
	trap - EXIT
	rm -rf "$WORK" "$AGENT_DIR"
	DL_AGENT_NETNS=1 exec unshare -n -- /bin/sh "$0" "$@"
fi
[ -n "${DL_AGENT_NETNS:-}" ] && { ip link set lo up || fail "lo up"; }
PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))

# run_daemon NAME [ENV...]: disklinkd in the foreground, stderr to
# $WORK/NAME.err; sets DPID once its control socket answers.
run_daemon() {
	_name=$1
	shift
	env "$@" setsid "$DISKLINKD" --foreground --device "$WORK/nonexistent" --node-id 1 \
		--local-addr 127.0.0.1 --port "$PORT" --peer 2=127.0.0.2 \
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

stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
}

log "stderr that is not the journal carries the log"
run_daemon plain
stop_daemon
grep -q "disklinkd .* starting" "$WORK/plain.err" || fail "no start line on stderr: $(cat "$WORK/plain.err")"

log "stderr that is the journal: nothing there (syslog reaches the journal)"
: >"$WORK/journal.err"
js=$(stat -c '%d:%i' "$WORK/journal.err")
run_daemon journal JOURNAL_STREAM="$js"
stop_daemon
[ ! -s "$WORK/journal.err" ] || fail "the daemon wrote to the journal's stream: $(cat "$WORK/journal.err")"
grep -q "disklinkd .* starting" "$WORK/journal.log" || fail "the log file lacks the start line"

log "SIGHUP reopens the log file (logrotate)"
run_daemon rot
mv "$WORK/rot.log" "$WORK/rot.log.1"
kill -HUP "$DPID"
for _ in $(seq 50); do
	grep -q "SIGHUP" "$WORK/rot.log" 2>/dev/null && break
	sleep 0.1
done
grep -q "SIGHUP: rereading" "$WORK/rot.log" 2>/dev/null || fail "no new log file after SIGHUP"
grep -q "SIGHUP" "$WORK/rot.log.1" && fail "the moved log file still gets the lines"
stop_daemon

log "a fatal signal dumps the blackbox into \$STATE_DIRECTORY"
mkdir -p "$WORK/state"
# shellcheck disable=SC3045 # dash and bash have ulimit -c
ulimit -c 0 2>/dev/null   # no core file from the signal
run_daemon crash STATE_DIRECTORY="$WORK/state"
pid=$DPID
kill -SEGV "$pid"
wait "$pid" 2>/dev/null
[ -s "$WORK/state/fdata-disklinkd-$pid" ] || fail "no blackbox in $WORK/state: $(ls "$WORK/state")"
if command -v qb-blackbox >/dev/null 2>&1; then
	qb-blackbox "$WORK/state/fdata-disklinkd-$pid" 2>&1 | grep -q "starting" ||
		fail "the blackbox lacks the start line"
fi
echo "PASS: $TEST"
