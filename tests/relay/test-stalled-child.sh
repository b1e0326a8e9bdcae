#!/bin/sh
# A stalled I/O child.  SIGSTOP disklinkd's I/O child (standing for a
# request stuck in the device): the parent keeps answering status and
# reports device_state "stalled"; SIGTERM ends the parent in bounded time
# (< 5 s) although the child is stopped; a new disklinkd on the same node
# binds the same sockets and carries traffic again.
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
MARK=$(new_marker S)

echo_round() {    # echo_round FIRST: 5 acknowledged datagrams 1 -> 2
	bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK" --count 5 \
		--timeout 20 --ack --ready "$WORK/ready$1" > "$WORK/recv$1.json" 2>&1
	r=$LAST_PID
	for _ in $(seq 50); do [ -e "$WORK/ready$1" ] && break; sleep 0.1; done
	in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" --first "$1" \
		--count 5 --ack --timeout 3 --retries 3 > "$WORK/send$1.json" 2>&1
	s=$?
	wait_pid $r 25 && [ $s = 0 ]
}
echo_round 0 || fail "no traffic before the stall"

parent=$(daemon_pid 1)
child=$(pgrep -P "$parent" | head -n 1)
[ -n "$child" ] || fail "disklinkd ($parent) has no child process"

log "disklinkd $parent, I/O child $child: SIGSTOP"
kill -STOP "$child"
# Traffic makes the parent hand the child work that never completes.
in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" --first 100 \
	--count 5 > /dev/null 2>&1

state=
for _ in $(seq 150); do
	state=$(top_field 1 device_state 2>/dev/null) || fail "the parent stopped answering status"
	[ "$state" = stalled ] && break
	sleep 0.1
done
[ "$state" = stalled ] || fail "device_state is '$state' 15 s after the child stopped"
log "status while stalled: $(status 1)"

t0=$(date +%s%N)
stop_daemon 1 5 || fail "disklinkd did not exit within 5 s of SIGTERM with its child stopped"
t1=$(date +%s%N)
log "parent exited $(( (t1 - t0) / 1000000 )) ms after SIGTERM"
# The parent kills the child it gave up on: no I/O child is left behind
# (a zombie waiting for init to reap it counts as gone).
gone=
for _ in $(seq 20); do
	st=$(awk '{print $3}' "/proc/$child/stat" 2>/dev/null)
	if [ -z "$st" ] || [ "$st" = Z ]; then gone=1; break; fi
	sleep 0.1
done
[ -n "$gone" ] || fail "the stopped I/O child $child (state $st) outlived its parent by 2 s"

start_daemon 1 2
[ "$(top_field 1 device_state)" != stalled ] || fail "the new daemon reports a stalled device"
echo_round 200 || fail "no traffic after the restart"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
