#!/bin/sh
# A device that really hangs: a loop device (--direct-io=on) over a file on
# a FUSE filesystem of the tests (freezefs.py) whose reads and writes wait
# while a flag file exists.  Frozen for at least 10 s: the daemons keep
# answering status (device_state stalled), their I/O children sit in D
# state, the link stops; SIGTERM ends disklinkd in < 5 s although its
# child is stuck; a restarted disklinkd binds its sockets (the stuck child
# owns none); after the release both devices recover and the link carries
# traffic again.
. "$(dirname "$0")/lib.sh"

freeze_fs
"$DISKLINK" format "$LOOPDEV" --cluster relaytest --slots 4 --ring-blocks 1024 \
	> "$WORK/format.log" 2>&1 || fail "formatting $LOOPDEV: $(cat "$WORK/format.log")"

add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
MARK=$(new_marker H)

# send_burst FIRST SECONDS: 5 datagrams 1 -> 2; prints how many arrived.
send_burst() {
	bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK" --count 5 \
		--timeout "$2" --ready "$WORK/ready$1" > "$WORK/recv$1.json" 2>&1
	r=$LAST_PID
	for _ in $(seq 50); do [ -e "$WORK/ready$1" ] && break; sleep 0.1; done
	in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" --first "$1" \
		--count 5 --gap-ms 100 > /dev/null 2>&1
	wait_pid $r $(($2 + 10))
	json_get "d['distinct']" < "$WORK/recv$1.json"
}
got=$(send_burst 0 5)
[ "$got" = 5 ] || fail "only $got of 5 datagrams before the freeze"

log "freezing the device"
t_freeze=$(date +%s)
touch "$FLAG"
for n in 1 2; do
	wait_until $n "d['device_state'] == 'stalled'" 15 ||
		fail "node $n: device_state is '$(top_field $n device_state)' 15 s into the freeze"
done
child1=$(io_child 1)
st=$(awk '{print $3}' "/proc/$child1/stat")
# With psync the child sleeps in pread/pwrite (D); with io_uring in
# io_uring_enter (S), its requests in flight on the loop device.
inflight=$(awk '{print $1 + $2}' "/sys/block/${LOOPDEV#/dev/}/inflight")
[ "$st" = D ] || [ "$inflight" -gt 0 ] ||
	fail "node 1's I/O child $child1 is in state '$st', not D, and $LOOPDEV has no request in flight: the device does not really hang"
log "frozen: node 1's child $child1 in state $st, $inflight requests in flight on $LOOPDEV; status: $(status 1 | json_get "(d['device_state'], d['device_error'], d['io']['stalled_ms'])")"

got=$(send_burst 100 3)
[ "$got" = 0 ] || fail "$got datagrams crossed a frozen device"

t0=$(date +%s%N)
stop_daemon 1 5 || fail "disklinkd 1 did not exit within 5 s of SIGTERM with its child in D state"
log "disklinkd 1 exited $(( ($(date +%s%N) - t0) / 1000000 )) ms after SIGTERM (child $child1 state $(awk '{print $3}' "/proc/$child1/stat" 2>/dev/null))"

# A new daemon on the same node binds the same addresses at once.
start_daemon 1 2
grep -q 'EADDRINUSE\|Address already in use' "$WORK/disklinkd1.log" &&
	fail "the restarted disklinkd could not bind its sockets"
wait_until 1 "d['device_state'] in ('stalled', 'starting')" 5 ||
	fail "the restarted disklinkd reports '$(top_field 1 device_state)' on a frozen device"

# Hold the freeze for at least 10 s, then release.
while [ $(($(date +%s) - t_freeze)) -lt 10 ]; do sleep 0.5; done
log "releasing the device after $(($(date +%s) - t_freeze)) s"
freeze_thaw
for n in 1 2; do
	wait_until $n "d['device_state'] == 'ok'" 30 ||
		fail "node $n: device_state '$(top_field $n device_state)' 30 s after the release"
done
wait_attached 1 2 20
ok=
for i in 1 2 3 4 5 6; do
	got=$(send_burst $((200 + 10 * i)) 5)
	[ "$got" = 5 ] && { ok=1; break; }
	sleep 1
done
[ -n "$ok" ] || fail "the link did not come back after the release (last burst: $got of 5)"
gone=
for _ in $(seq 100); do
	st=$(awk '{print $3}' "/proc/$child1/stat" 2>/dev/null)
	if [ -z "$st" ] || [ "$st" = Z ]; then gone=1; break; fi
	sleep 0.1
done
[ -n "$gone" ] || fail "the stuck child $child1 still runs (state $st) 10 s after the release"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
