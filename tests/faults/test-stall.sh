#!/bin/sh
# A device that stalls for 120 s and then recovers, as a multipath
# failover does (issue 18).  Node 1's device is a loop device (direct I/O)
# over a file on a FUSE filesystem of the tests (freezefs.py) that can be
# frozen; node 2 reaches the same backing file through a loop device of
# its own, which never stalls.  Asserted:
#   - real libknet peers (knet_peer) see their link go down within knet's
#     ping timeout (plus one ping interval: knet's check period), once
#     knet's own back-off of a new link's pong timeout has decayed;
#   - no process piles up: disklinkd keeps at most two children (the stuck
#     one, abandoned after abandon_ms, and its successor), its threads do
#     not grow;
#   - `disklink status` answers throughout, every call within 2 s;
#   - the link carries datagrams again within 5 s of the recovery: the
#     successor child, started restart_min_ms (500 ms) after the
#     abandonment and waiting in its attach, goes on at once (the back-off
#     is reset after 10 s of service, so one abandonment costs 500 ms;
#     doc/daemon.md, "Restart back-off");
#   - no datagram from before the stall is delivered after it: sequence
#     numbered datagrams sent both ways during the stall never arrive, and
#     node 2's disklinkd hands its knet nothing after the recovery but the
#     datagrams sent after it (its dgrams_in counter), although node 1's
#     last writes land late (max_age, doc/format.md "Age rules").
. "$(dirname "$0")/lib.sh"

command -v fusermount3 >/dev/null 2>&1 || command -v fusermount >/dev/null 2>&1 ||
	skip "fuse is not installed"
[ -c /dev/fuse ] || skip "no /dev/fuse"
/usr/bin/python3 -c 'import fusepy' 2>/dev/null || /usr/bin/python3 -c 'import fuse' 2>/dev/null ||
	skip "python3-fusepy is not installed"

STALL_S=${STALL_S:-120}
PING_TIMEOUT_MS=1500
PING_INTERVAL_MS=750
FLAG=$WORK/freeze
MNT=$WORK/mnt
FSPID=
LOOP1=
thaw() { rm -f "$FLAG"; }
unmount() {
	[ -n "$LOOP1" ] && losetup -d "$LOOP1" 2>/dev/null
	if mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount -u "$MNT" 2>/dev/null ||
			umount -l "$MNT"
	fi
	[ -n "$FSPID" ] && kill "$FSPID" 2>/dev/null
	for _ in $(seq 50); do [ -n "$FSPID" ] && kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
}
PRE_CLEANUP=thaw
POST_CLEANUP=unmount
ms_now() { echo $(($(date +%s%N) / 1000000)); }

mkdir -p "$WORK/back" "$MNT"
truncate -s 64M "$WORK/back/volume.img"
( /usr/bin/python3 "$top_srcdir/tests/faults/freezefs.py" "$MNT" "$WORK/back" "$FLAG" \
	"$WORK/fs.pid" > "$WORK/freezefs.log" 2>&1 & )
for _ in $(seq 100); do mountpoint -q "$MNT" && [ -s "$WORK/fs.pid" ] && break; sleep 0.1; done
FSPID=$(cat "$WORK/fs.pid" 2>/dev/null)
mountpoint -q "$MNT" || skip "cannot mount the FUSE filesystem: $(tail -n 3 "$WORK/freezefs.log")"
# Node 2's device (the lib's LOOPDEV, detached by its cleanup), then node 1's.
LOOPDEV=$("$top_srcdir/tests/loop-attach" --find --direct-io=on "$WORK/back/volume.img") ||
	skip "no loop device available"
LOOP2=$LOOPDEV
LOOP1=$("$top_srcdir/tests/loop-attach" --find --direct-io=on "$MNT/volume.img") ||
	skip "no second loop device available"
[ "$(cat "/sys/block/$(basename "$LOOP1")/loop/dio" 2>/dev/null)" = 1 ] ||
	skip "the loop device does not do direct I/O over FUSE (cached pages would be served)"
"$DISKLINK" format "$LOOP2" --cluster relaytest --slots 4 --ring-blocks 1024 \
	> "$WORK/format.log" 2>&1 || fail "formatting $LOOP2: $(cat "$WORK/format.log")"

add_node 1; add_node 2
LOOPDEV=$LOOP1; start_daemon 1 2
LOOPDEV=$LOOP2; start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
MARK=$(new_marker S)
D1=$(daemon_pid 1)

# 1. Real knet peers over the link; the device freezes while they linger.
knet_peer_bg 1 kp1 2 -- --marker "$MARK" --count 20 --timeout 20 --linger-ms 14000 \
	--ping-interval $PING_INTERVAL_MS --ping-timeout $PING_TIMEOUT_MS --log-level info
kp1=$LAST_PID; kp1_t0=$(ms_now)
knet_peer_bg 2 kp2 1 -- --marker "$MARK" --count 20 --timeout 20 --linger-ms 14000 \
	--ping-interval $PING_INTERVAL_MS --ping-timeout $PING_TIMEOUT_MS --log-level info
kp2=$LAST_PID; kp2_t0=$(ms_now)
for _ in $(seq 300); do
	grep -q "phase linger" "$WORK/kp1.log" && grep -q "phase linger" "$WORK/kp2.log" && break
	kill -0 $kp1 2>/dev/null || break
	sleep 0.1
done
grep -q "phase linger" "$WORK/kp1.log" && grep -q "phase linger" "$WORK/kp2.log" ||
	fail "the knet peers did not exchange their messages before the stall"
# knet starts a link's pong timeout at ten times the configured one and
# brings it down to it over ten pongs: let it settle first.
sleep 9

log "freezing node 1's device for $STALL_S s"
touch "$FLAG"
t_freeze=$(ms_now)
wait_pid $kp1 20 || fail "knet_peer 1 failed: $(cat "$WORK/kp1.json")"
wait_pid $kp2 20 || fail "knet_peer 2 failed: $(cat "$WORK/kp2.json")"
for n in 1 2; do
	eval "t0=\$kp${n}_t0"
	down=$(sed -n 's/^\[\([0-9]*\) ms\].*link: 0 is down.*/\1/p' "$WORK/kp$n.log" | head -n 1)
	[ -n "$down" ] || fail "knet on node $n never marked its link down during the stall"
	after=$((t0 + down - t_freeze))
	log "knet on node $n: link down $after ms into the stall (ping timeout $PING_TIMEOUT_MS ms)"
	[ $after -le $((PING_TIMEOUT_MS + PING_INTERVAL_MS)) ] ||
		fail "knet on node $n marked the link down $after ms into the stall"
done

# 2. During the stall: datagrams both ways (never to arrive), and the
# watch: status within 2 s each time, the daemon's children and threads.
bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK" --count 1000 \
	--timeout $((STALL_S + 60)) --quiet-ms $(((STALL_S + 60) * 1000)) > "$WORK/recv2.json" 2>&1
r2=$LAST_PID
bg_in_node 1 $UDP recv --bind "$A1:$PORT" --src "$A2:$PORT" --marker "$MARK" --count 1000 \
	--timeout $((STALL_S + 60)) --quiet-ms $(((STALL_S + 60) * 1000)) > "$WORK/recv1.json" 2>&1
r1=$LAST_PID
threads0=$(ls "/proc/$D1/task" | wc -l)
seq_during=1000
max_children=0
slow=0
until [ $(($(ms_now) - t_freeze)) -ge $((STALL_S * 1000)) ]; do
	t=$(ms_now)
	timeout 2 "$DISKLINK" status --json --socket "$WORK/ctl1.sock" > "$WORK/st1.json" 2>&1 ||
		fail "disklink status did not answer within 2 s, $(((t - t_freeze) / 1000)) s into the stall"
	timeout 2 "$DISKLINK" status --json --socket "$WORK/ctl2.sock" > /dev/null 2>&1 ||
		fail "node 2's disklink status did not answer within 2 s during the stall"
	[ $(($(ms_now) - t)) -gt 2000 ] && slow=$((slow + 1))
	children=$(pgrep -c -P "$D1")
	threads=$(ls "/proc/$D1/task" | wc -l)
	[ "$children" -gt "$max_children" ] && max_children=$children
	[ "$children" -le 2 ] || fail "node 1's disklinkd has $children children during the stall"
	[ "$threads" -le "$threads0" ] ||
		fail "node 1's disklinkd grew from $threads0 to $threads threads during the stall"
	in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" \
		--first $seq_during --count 1 > /dev/null 2>&1
	in_node 2 $UDP send --src "$A2:$PORT" --dst "$A1:$PORT" --marker "$MARK" \
		--first $seq_during --count 1 > /dev/null 2>&1
	seq_during=$((seq_during + 1))
	sleep 1
done
log "stalled for $((($(ms_now) - t_freeze) / 1000)) s: status answered every time, at most" \
	"$max_children children, $seq_during datagrams sent each way; node 1: $(json_get \
	"(d['device_state'], d['io']['stalled_ms'], d['io_restarts'])" < "$WORK/st1.json")"
grep -q "abandon" "$WORK/disklinkd1.log" ||
	fail "node 1's stuck I/O child was not abandoned during the stall"
grep -q "restarting the I/O child in 500 ms" "$WORK/disklinkd1.log" ||
	fail "the restart back-off after the abandonment is not restart_min_ms (500 ms)"
in2_before=$(peer_field 2 1 dgrams_in)

# 3. Recovery: the link is back within 5 s.
thaw
t_thaw=$(ms_now)
log "released"
seq_after=5000
back=
while [ $(($(ms_now) - t_thaw)) -lt 10000 ]; do
	in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" \
		--first $seq_after --count 1 > /dev/null 2>&1
	seq_after=$((seq_after + 1))
	got=$(peer_field 2 1 dgrams_in 2>/dev/null)
	if [ -n "$got" ] && [ "$got" -gt "$in2_before" ]; then back=$(($(ms_now) - t_thaw)); break; fi
	sleep 0.1
done
[ -n "$back" ] || fail "no datagram crossed within 10 s of the recovery"
log "the link carried a datagram $back ms after the recovery"
[ "$back" -le 5000 ] || fail "the link came back $back ms after the recovery (> 5 s)"
for i in $(seq 10); do
	in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" \
		--first $seq_after --count 1 > /dev/null 2>&1
	in_node 2 $UDP send --src "$A2:$PORT" --dst "$A1:$PORT" --marker "$MARK" \
		--first $seq_after --count 1 > /dev/null 2>&1
	seq_after=$((seq_after + 1))
	sleep 0.2
done
sleep 2
kill -TERM $r1 $r2 2>/dev/null
wait_pid $r1 10; wait_pid $r2 10

# 4. Nothing from before or during the stall was delivered.
for n in 1 2; do
	during=$(json_get "sorted(s for s in d['seqs'] if s < 5000)" < "$WORK/recv$n.json") ||
		fail "no result from node $n's receiver: $(cat "$WORK/recv$n.json")"
	[ "$during" = "[]" ] || fail "node $n got datagrams sent during the stall: $during"
	after=$(json_get "len([s for s in d['seqs'] if s >= 5000])" < "$WORK/recv$n.json")
	[ "$after" -ge 5 ] || fail "node $n got only $after datagrams after the recovery"
done
in2_after=$(peer_field 2 1 dgrams_in)
got2=$(json_get "d['received']" < "$WORK/recv2.json")
[ $((in2_after - in2_before)) -eq "$got2" ] ||
	fail "node 2's disklinkd handed its knet $((in2_after - in2_before)) datagrams after the" \
		"recovery, its receiver got $got2: something from before the stall was delivered"
log "after the recovery: $got2 datagrams handed on by node 2, all sent after it; aged drops:" \
	"node 1 $(status 1 | json_get "d['aged_drops']"), node 2 $(status 2 | json_get "d['aged_drops']")"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
