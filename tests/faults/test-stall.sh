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
#   - the link carries datagrams both ways again within 5 s of the
#     recovery: the restart back-off after the abandonment is
#     restart_min_ms (500 ms: reset after 10 s of service), and while the
#     abandoned child is stuck the next start is retried at that period,
#     so the successor starts within 500 ms of the stuck one's exit
#     (doc/daemon.md, "Restart back-off after a stall");
#   - no datagram from before the recovery is delivered after it (the
#     device stalls writes first, so that a write of node 1 is caught and
#     lands at the recovery, 120 s late):
#     sequence-numbered datagrams sent both ways during the stall
#     (traffic.py) never arrive, and each disklinkd hands its knet after
#     the recovery exactly what its traffic.py received (its dgrams_to_knet
#     counter): nothing older, although node 1's last writes land late
#     and node 2's ring holds 120 s of backlog (max_age, doc/format.md
#     "Age rules").
# The traffic.py processes stand for knet: one that exits during the stall
# fails the test at once, with its exit status.  Any failure from the
# freeze on prints both nodes' status, the daemons' children (state, wait
# channel, kernel stack), the parent/child queues and each namespace's UDP
# sockets (node_diag, faults/lib.sh).
. "$(dirname "$0")/lib.sh"

command -v fusermount3 >/dev/null 2>&1 || command -v fusermount >/dev/null 2>&1 ||
	skip "fuse is not installed"
[ -c /dev/fuse ] || skip "no /dev/fuse"
/usr/bin/python3 -c 'import fusepy' 2>/dev/null || /usr/bin/python3 -c 'import fuse' 2>/dev/null ||
	skip "python3-fusepy is not installed"
# IO_ENGINE: the daemons' io_engine (faults/test-stall-uring.sh).
[ -z "${IO_ENGINE:-}" ] || { echo "io_engine = $IO_ENGINE" > "$WORK/engine.conf" &&
	DAEMON_ARGS="${DAEMON_ARGS:-} --config $WORK/engine.conf"; }

STALL_S=${STALL_S:-120}
# stall_fail MESSAGE: fail, after what the diagnosis needs (node_diag, and
# whether each node's traffic.py, standing for its knet, still runs).
stall_fail() {
	node_diag 1 2
	for _n in 1 2; do
		eval "_p=\${tr$_n:-}"
		[ -n "$_p" ] || continue
		echo "traffic.py of node $_n (pid $_p): $(kill -0 "$_p" 2>/dev/null && echo runs ||
			echo "exited: $(cat "$WORK/tr$_n.log")")"
		[ -s "$WORK/tr$_n.json" ] && echo "its result: $(cat "$WORK/tr$_n.json")"
	done
	fail "$@"
}
PING_TIMEOUT_MS=1500
PING_INTERVAL_MS=750
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# Node 1's device over the FUSE filesystem that freezes, node 2's on the
# same backing file directly.
freeze_fs
LOOP1=$LAST_LOOP
loop_attach --direct-io=on "$WORK/back/volume.img"
LOOP2=$LAST_LOOP
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

# Writes first, so that a write of node 1 is caught in the stall (it lands
# at the recovery, 120 s late), then everything.
log "freezing node 1's device for $STALL_S s"
touch "$FLAG.writes"
t_freeze=$(ms_now)
sleep 0.5
touch "$FLAG"
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

# 2. During the stall: traffic both ways at RATE/s per direction, by one
# process per node standing for its knet (traffic.py, sequence numbers on
# an absolute schedule: seq k leaves k/RATE s after its start); the
# watch: status within 2 s each time, the daemon's children and threads.
RATE=10
left=$(((STALL_S * 1000 - ($(ms_now) - t_freeze)) / 1000))
traffic_bg 1 tr1 $RATE $((left + 14)) --delay 1 --drain 3
tr1=$LAST_PID
traffic_bg 2 tr2 $RATE $((left + 14)) --delay 1 --drain 3
tr2=$LAST_PID
tr_t0=$(($(ms_now) + 1000))
threads0=$(ls "/proc/$D1/task" | wc -l)
max_children=0
polls=0
until [ $(($(ms_now) - t_freeze)) -ge $((STALL_S * 1000)) ]; do
	t=$(ms_now)
	timeout 2 "$DISKLINK" status --json --socket "$WORK/ctl1.sock" > "$WORK/st1.json" 2>&1 ||
		stall_fail "disklink status did not answer within 2 s, $(((t - t_freeze) / 1000)) s into the stall"
	timeout 2 "$DISKLINK" status --json --socket "$WORK/ctl2.sock" > /dev/null 2>&1 ||
		stall_fail "node 2's disklink status did not answer within 2 s during the stall"
	children=$(pgrep -c -P "$D1")
	threads=$(ls "/proc/$D1/task" | wc -l)
	[ "$children" -gt "$max_children" ] && max_children=$children
	[ "$children" -le 2 ] || stall_fail "node 1's disklinkd has $children children during the stall"
	[ "$threads" -le "$threads0" ] ||
		stall_fail "node 1's disklinkd grew from $threads0 to $threads threads during the stall"
	# traffic.py stands for the node's knet: without it nothing crosses
	# after the recovery (issue 18's one failure: node 1's vanished)
	for n in 1 2; do
		eval "p=\$tr$n"
		kill -0 "$p" 2>/dev/null && continue
		wait "$p"
		st=$?
		stall_fail "node $n's traffic.py (pid $p) exited during the stall with status $st" \
			"(over 128: killed by signal $((st - 128)), which this test never sends)" \
			"$(cat "$WORK/tr$n.log")"
	done
	polls=$((polls + 1))
	sleep 1
done
log "stalled for $((($(ms_now) - t_freeze) / 1000)) s: status answered $polls times, at most" \
	"$max_children children; node 1: $(json_get \
	"(d['device_state'], d['device_error'], d['io_restarts'])" < "$WORK/st1.json")"
grep -q "abandoning I/O child" "$WORK/disklinkd1.log" ||
	stall_fail "node 1's stuck I/O child was not abandoned during the stall"
grep -q "restarting the I/O child in 500 ms" "$WORK/disklinkd1.log" ||
	stall_fail "the restart back-off after the abandonment is not restart_min_ms (500 ms)"
in1_before=$(peer_field 1 2 dgrams_to_knet)
in2_before=$(peer_field 2 1 dgrams_to_knet)

# 3. Recovery: the link carries datagrams both ways within 5 s.
freeze_thaw
t_thaw=$(ms_now)
log "released"
back1=; back2=
while [ $(($(ms_now) - t_thaw)) -lt 10000 ] && { [ -z "$back1" ] || [ -z "$back2" ]; }; do
	got=$(peer_field 2 1 dgrams_to_knet 2>/dev/null)
	[ -z "$back2" ] && [ -n "$got" ] && [ "$got" -gt "$in2_before" ] && back2=$(($(ms_now) - t_thaw))
	got=$(peer_field 1 2 dgrams_to_knet 2>/dev/null)
	[ -z "$back1" ] && [ -n "$got" ] && [ "$got" -gt "$in1_before" ] && back1=$(($(ms_now) - t_thaw))
	sleep 0.1
done
[ -n "$back1" ] && [ -n "$back2" ] ||
	stall_fail "no datagram crossed within 10 s of the recovery (1 -> 2: ${back2:-none}, 2 -> 1:" \
		"${back1:-none})"
log "the link carried datagrams $back2 ms (1 -> 2) and $back1 ms (2 -> 1) after the recovery"
[ "$back1" -le 5000 ] && [ "$back2" -le 5000 ] ||
	stall_fail "the link came back more than 5 s after the recovery"
grep -q "restarting the I/O child in 500 ms" "$WORK/disklinkd1.log" ||
	stall_fail "the restart back-off after the abandonment is not restart_min_ms (500 ms)"
wait_pid $tr1 40; wait_pid $tr2 40
in1_after=$(peer_field 1 2 dgrams_to_knet)
in2_after=$(peer_field 2 1 dgrams_to_knet)

# 4. Nothing from before the recovery was delivered after it: no seq sent
# during the stall arrived (0.5 s of margin for the schedule), and each
# disklinkd handed its knet exactly what its traffic.py received (else
# something older, knet's own messages from before the stall included).
k_thaw=$(((t_thaw - tr_t0) * RATE / 1000))
for n in 1 2; do
	o=$((3 - n))
	[ -s "$WORK/tr$n.json" ] || stall_fail "no result from node $n's traffic: $(cat "$WORK/tr$n.log")"
	early=$(json_get "[r for r in d['peers']['$o']['ranges'] if (r[0] if isinstance(r, list) else r) < $k_thaw - $((RATE / 2))]" \
		< "$WORK/tr$n.json")
	[ "$early" = "[]" ] ||
		stall_fail "node $n got datagrams node $o sent during the stall (seq < $k_thaw): $early"
	# An old datagram (knet's, from before the stall) fails traffic.py's
	# check: counted bad.
	bad=$(json_get "d['peers']['$o']['bad'] + d['peers']['$o']['dups']" < "$WORK/tr$n.json")
	[ "$bad" = 0 ] ||
		stall_fail "node $n got $bad datagrams after the recovery that node $o's traffic.py did" \
			"not send then (sent before the stall, or twice)"
	got=$(json_get "d['peers']['$o']['received']" < "$WORK/tr$n.json")
	eval "before=\$in${n}_before; after=\$in${n}_after"
	[ $((after - before)) -eq "$got" ] ||
		stall_fail "node $n's disklinkd handed its knet $((after - before)) datagrams after the" \
			"recovery, its knet got $got of the ones sent after it: an old one was delivered"
	[ "$got" -ge $((RATE * 5)) ] || stall_fail "node $n got only $got datagrams after the recovery"
	log "node $n: $got datagrams after the recovery, none older; aged drops" \
		"$(status $n | json_get "d['aged_drops']")"
done
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
