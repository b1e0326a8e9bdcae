#!/bin/sh
# A peer that restarts while we run (issue 18): nothing it sent before is
# delivered again, and what it sends after the restart is delivered.
#
# Node 1 sends numbered datagrams (udp.py's format: 300 to 65507 bytes,
# the largest spread over many blocks) from its knet address to node 2's,
# through the volume; one receiver on node 2 records every arrival, in
# order, for the whole test.  Node 1's side restarts three ways while a
# stream runs:
#   term   disklinkd gets SIGTERM (it releases its slot) and starts again;
#   kill   disklinkd gets SIGKILL (its slot stays active: the new daemon
#          watches it before it takes it over) and starts again;
#   child  only its I/O child gets SIGKILL; the daemon starts a new one;
#   lagging  SIGKILL while node 2's reader is behind (its I/O child
#          stopped): node 2 finds the old generation's tail and the new
#          generation in the ring at once (a resynchronisation); the 40
#          written meanwhile are not delivered (max_age, incarnations), counted.
# Node 2's daemon runs throughout.  Checked:
#   - the arrivals are in strictly increasing sequence: no datagram twice,
#     and nothing written before a restart arrives after something
#     written later (a replay of the old ring);
#   - every datagram of a batch sent before each restart arrives, and every
#     datagram of a batch sent once node 1 runs again arrives or, on a
#     loaded machine, is dropped by node 2's age rules and counted
#     (counted_rest);
#   - each restart started a new generation (and, for `child`, an I/O
#     child restart), and node 2 counted the generation change.
# Datagrams sent while node 1 is down are lost (counted in the output).
# Checked to fail: with node 2 re-attaching to node 1's slot at each new
# generation and forgetting its attach point (io_read.c: attach_gen 1,
# attach_after_seq 0), the batch sent before the first restart arrives
# again ("datagram 100000 arrived after 101094").
# Test-restart.sh restarts the reader and the writer with SIGKILL and
# checks acknowledged traffic; this one is the writer's three restarts,
# with unacknowledged streams across them.
RELAY_KNET=no
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
cat >"$WORK/tun.conf" <<EOF
restart_min_ms = 100
EOF
DAEMON_ARGS="--config $WORK/tun.conf"
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
wait_peer_state 1 2 up 15 || fail "node 1 does not see node 2 up"
wait_peer_state 2 1 up 15 || fail "node 2 does not see node 1 up"
A1=$(addr 1); A2=$(addr 2)
MARK=$(new_marker P)
ARR=$WORK/arrivals.txt

# The receiver: one line "SEQ TRY" per datagram as it arrives ("bad" for
# a damaged one, "foreign SRC" from another source).  It stands in for
# node 2's knet, for the whole test.
cat >"$WORK/seqrecv.py" <<'EOF'
import hashlib, socket, struct, sys
bind, src, marker, out, ready = sys.argv[1:6]
host, port = bind.rsplit(":", 1)
shost, sport = src.rsplit(":", 1)
want = (shost, int(sport))
marker = marker.encode()
HDR = struct.Struct("<QII")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((host, int(port)))
f = open(out, "a", buffering=1)
open(ready, "w").close()
def good(data):
    n = len(marker)
    if len(data) < n + HDR.size or data[:n] != marker:
        return None
    seq, tries, size = HDR.unpack_from(data, n)
    fill = hashlib.sha256(b"%d" % seq).digest()
    head = marker + HDR.pack(seq, tries, size)
    body = (fill * (size // len(fill) + 1))[: size - len(head)]
    return (seq, tries) if size == len(data) and data == head + body else None
while True:
    data, a = s.recvfrom(65535)
    if a != want:
        f.write("foreign %s:%d\n" % a)
        continue
    k = good(data)
    f.write("%d %d\n" % k if k else "bad\n")
EOF
: >"$ARR"
bg_in_node 2 /usr/bin/python3 "$WORK/seqrecv.py" "$A2:$PORT" "$A1:$PORT" "$MARK" "$ARR" \
	"$WORK/ready" 2>"$WORK/seqrecv.log"
for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
[ -e "$WORK/ready" ] || fail "the receiver did not start"

# send FIRST COUNT GAP_MS: numbered datagrams from node 1's knet address.
send() {
	in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" \
		--first "$1" --count "$2" --gap-ms "$3" --sizes 300,5000,70,65507 \
		>>"$WORK/send.log" 2>&1
}
# got FIRST COUNT: how many of FIRST..FIRST+COUNT-1 arrived.
got() {
	awk -v f="$1" -v c="$2" '$1 ~ /^[0-9]+$/ && $1 >= f && $1 < f + c { print $1 }' "$ARR" |
		sort -u | wc -l
}
wait_got() {
	for _ in $(seq $(($3 * 10))); do
		[ "$(got "$1" "$2")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# in_order: the arrivals are valid and in strictly increasing sequence.
in_order() {
	grep -q -v '^[0-9]' "$ARR" && { echo "bad or foreign datagrams:"; grep -v '^[0-9]' "$ARR" | head; return 1; }
	awk 'NR > 1 && $1 <= prev { printf "datagram %d arrived after %d (arrival %d)\n", $1, prev, NR; bad = 1 }
	     { prev = $1 } END { exit bad }' "$ARR"
}

# restart MODE: node 1's daemon, or only its I/O child.
restart() {
	case $1 in
	term)
		stop_daemon 1 || fail "node 1's daemon did not stop cleanly on SIGTERM"
		start_daemon 1 2 ;;
	kill)
		kill -KILL "$(daemon_pid 1)"
		wait "$(daemon_pid 1)" 2>/dev/null
		untrack "$(daemon_pid 1)"
		start_daemon 1 2 ;;
	child)
		child=$(pgrep -P "$(daemon_pid 1)" | head -n 1)
		[ -n "$child" ] || fail "node 1's daemon has no I/O child"
		kill -KILL "$child"
		wait_until 1 "d['io_restarts'] > $io0" 10 ||
			fail "node 1's I/O child was not restarted: $(status 1)"
		for c in $(pgrep -P "$(daemon_pid 1)"); do CHILD_PIDS="$CHILD_PIDS $c"; remember "$c"; done ;;
	esac
}

# lagging BASE: node 1 restarts (SIGKILL) while node 2's reader is behind:
# node 2's I/O child is stopped (SIGSTOP, a slow read), node 1 writes 40
# datagrams, is killed and starts again, and only then node 2's child
# goes on: it finds the rest of the old generation and the new one in
# the ring at once.  None of the 40 arrives, and node 2 counts them: they
# are older than max_age by then (1,500 ms by default, doc/format.md "Age
# rules", aged_drops.read), and blocks of a generation below the writer's
# header that the reader had not read when it saw the new generation are
# not delivered either ("Incarnations", counted `stale`).  What node 1
# sends next arrives (below).
lagging() {
	bchild=$(pgrep -P "$(daemon_pid 2)" | head -n 1)
	[ -n "$bchild" ] || fail "lagging: node 2's daemon has no I/O child"
	ad0=$(status 2 | json_get "d['aged_drops']['read'] + [p for p in d['peers'] if p['node_id'] == 1][0]['stale']") ||
		fail "lagging: status of node 2"
	kill -STOP "$bchild"
	send $(($1 + 1000)) 40 5 || { kill -CONT "$bchild"; fail "lagging: sending"; }
	sleep 0.5
	restart kill
	wait_until 1 "d['generation'] > $gen0" 20 ||
		{ kill -CONT "$bchild"; fail "lagging: node 1's generation did not move on"; }
	[ "$(got $(($1 + 1000)) 40)" = 0 ] ||
		{ kill -CONT "$bchild"; fail "lagging: node 2 read while its I/O child was stopped"; }
	kill -CONT "$bchild"
	wait_until 2 "d['aged_drops']['read'] + [p for p in d['peers'] if p['node_id'] == 1][0]['stale'] > $ad0" 20 ||
		fail "lagging: node 2 did not count the 40 old datagrams (aged_drops.read, stale): $(status 2)"
	[ "$(got $(($1 + 1000)) 40)" = 0 ] ||
		fail "lagging: $(got $(($1 + 1000)) 40)/40 datagrams older than max_age were delivered"
	log "lagging: node 2 dropped the 40 and counted them (aged_drops.read + stale: $ad0 ->" \
		"$(status 2 | json_get "d['aged_drops']['read'] + [p for p in d['peers'] if p['node_id'] == 1][0]['stale']"))"
}

# aged2: what node 2 dropped by age (its read and delivery rules) or as
# stale, from node 1.  counted_rest FIRST BEFORE: every one of the 40
# from FIRST on either arrived or was counted so since BEFORE (aged2).  A
# datagram is dropped by age when the read that returned it, or its way
# to knet, took longer than half of max_age (late is worse than lost,
# doc/format.md "Age rules"): on a loaded machine a few of a batch are,
# most often the first ones after the lagging case's re-attach.  Such a
# drop is counted, never a late or missing-and-uncounted datagram.
aged2() { status 2 | json_get "d['aged_drops']['read'] + d['aged_drops']['delivery'] + [p for p in d['peers'] if p['node_id'] == 1][0]['stale']"; }
counted_rest() {
	_now=$(aged2) && [ -n "$_now" ] && [ $(($(got "$1" 40) + _now - $2)) -eq 40 ]
}

k=0
for mode in term kill child lagging; do
	k=$((k + 1))
	base=$((k * 100000))
	send "$base" 40 5 || fail "$mode: sending the batch before the restart"
	wait_got "$base" 40 20 ||
		fail "$mode: $(got "$base" 40)/40 of the batch before the restart arrived"
	gen0=$(top_field 1 generation) || fail "status of node 1"
	io0=$(top_field 1 io_restarts)
	gc0=$(peer_field 2 1 gen_changes)
	log "$mode: restarting node 1 (generation $gen0, I/O restarts $io0)"
	spid=
	if [ $mode = lagging ]; then
		lagging "$base"
	else
		# a stream of 3 s across the restart, which comes after 1 s of it
		in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" \
			--first $((base + 1000)) --count 300 --gap-ms 10 --sizes 300,5000,70,65507 \
			>>"$WORK/send.log" 2>&1 &
		spid=$!
		track $spid
		sleep 1
		restart $mode
	fi
	wait_until 1 "d['generation'] > $gen0" 20 ||
		fail "$mode: node 1's generation did not move on from $gen0: $(status 1)"
	wait_attached 1 2 15
	wait_peer_state 2 1 up 15 || fail "$mode: node 2 does not see node 1 up again"
	wait_peer_state 1 2 up 15 || fail "$mode: node 1 does not see node 2 up again"
	[ -z "$spid" ] || wait_pid $spid 20 || log "$mode: the stream's sender ended with $?"
	aged0=$(aged2) || fail "$mode: status of node 2"
	send $((base + 2000)) 40 5 || fail "$mode: sending the batch after the restart"
	if ! wait_got $((base + 2000)) 40 20 &&
		! { counted_rest $((base + 2000)) "$aged0" &&
		    log "$mode: $(got $((base + 2000)) 40)/40 of the batch after the restart arrived, the rest dropped by age and counted"; }; then
		# what each side counted (drops by age, stale, lost, overruns),
		# printed with the logs; and which of the batch arrived
		for n in 1 2; do status $n >"$WORK/status$n.json" 2>&1; done
		log "$mode: of the batch after the restart, arrived: $(awk -v f=$((base + 2000)) \
			'$1 ~ /^[0-9]+$/ && $1 >= f && $1 < f + 40 { printf "%d ", $1 - f }' "$ARR")"
		fail "$mode: $(got $((base + 2000)) 40)/40 of the batch sent after the restart arrived"
	fi
	for _ in $(seq 30); do
		[ "$(peer_field 2 1 gen_changes)" -gt "$gc0" ] && break
		sleep 0.1
	done
	gc1=$(peer_field 2 1 gen_changes)
	[ "$gc1" -gt "$gc0" ] || fail "$mode: node 2 did not count node 1's new generation"
	in_order || fail "$mode: node 2 received a datagram twice, or an old one late"
	log "$mode: generation $gen0 -> $(top_field 1 generation), I/O restarts $io0 -> $(top_field 1 io_restarts)," \
		"node 2's gen_changes $gc0 -> $gc1; of the stream across the restart $(got $((base + 1000)) 300) arrived"
done

kill -0 "$(daemon_pid 2)" 2>/dev/null || fail "node 2's daemon exited"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
in_order || fail "node 2 received a datagram twice, or an old one late"
# How node 2 followed node 1 (re-attached, or resynchronised on the new
# generation in place):
grep -h -e "node 1 " "$WORK/disklinkd2.log" | grep -e released -e "found in slot" -e restarted \
	-e lost -e resync | cut -c1-160
log "$(wc -l <"$ARR") datagrams arrived, in order, none twice; PASS"
