#!/bin/sh
# Restart without replay.  kill -9 the reading daemon (node 2) and then the
# writing daemon (node 1) in the middle of a numbered stream, restart each:
# no datagram (sequence number and try) is ever delivered twice, traffic
# flows again, the writer's generation moves on and the reader sees the
# generation change.  Datagrams sent while a daemon was down may be lost;
# how many is reported.
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
MARK=$(new_marker R)

# One receiver for the whole test, in node 2 on knet's address (it
# survives the daemons' restarts); it acknowledges through the relay.
bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK" --count 100000 \
	--timeout 120 --quiet-ms 15000 --ack --ready "$WORK/ready" \
	> "$WORK/recv.json" 2> "$WORK/recv.log"
rpid=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done

# send FIRST COUNT [--ack ...]: numbered datagrams from node 1's knet address.
send() {
	first=$1; count=$2; shift 2
	in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" \
		--first "$first" --count "$count" --sizes 300,5000,70,65507 "$@" \
		>> "$WORK/send.log" 2>&1
}

send 0 30 --ack --timeout 3 --retries 3 || fail "phase 1: datagrams not acknowledged"

# -- the reader restarts, after one header interval (1 s) so that its slot
# header acknowledges what it has read: what the writer writes while the
# reader is down is then counted as lost at the restart.
sleep 1.5
kill -KILL "$(daemon_pid 2)"; wait "$(daemon_pid 2)" 2>/dev/null; untrack "$(daemon_pid 2)"
send 1000 10 --gap-ms 20 || fail "sending while node 2's daemon is down"
start_daemon 2 1
wait_until 2 "d['generation'] > 1" 15 || fail "node 2 did not take its slot over: $(status 2)"
wait_attached 1 2
wait_peer_state 2 1 up 15 || log "node 2 sees peer 1 as $(peer_field 2 1 state) (not asserted)"
send 30 30 --ack --timeout 3 --retries 3 || fail "after the reader's restart: datagrams not acknowledged"

# -- the writer restarts
gen0=$(top_field 1 generation) || fail "status of node 1"
gc0=$(peer_field 2 1 gen_changes)
send 2000 20 || fail "burst before the writer's kill"
kill -KILL "$(daemon_pid 1)"; wait "$(daemon_pid 1)" 2>/dev/null; untrack "$(daemon_pid 1)"
start_daemon 1 2
# A restarted daemon first watches its slot (left active by the crash).
wait_until 1 "d['generation'] > $gen0" 15 ||
	fail "node 1's generation did not move on from $gen0: $(status 1)"
gen1=$(top_field 1 generation)
[ "$gen1" -gt "$gen0" ] || fail "node 1's generation did not move on ($gen0 -> $gen1)"
send 60 30 --ack --timeout 3 --retries 3 || fail "after the writer's restart: datagrams not acknowledged"
for _ in $(seq 50); do
	[ "$(peer_field 2 1 gen_changes)" -gt "$gc0" ] && break
	sleep 0.1
done
gc1=$(peer_field 2 1 gen_changes)
[ "$gc1" -gt "$gc0" ] || fail "node 2 did not count node 1's generation change ($gc0 -> $gc1)"
log "status 2: $(status 2)"

kill -TERM $rpid
wait_pid $rpid 20
r=$WORK/recv.json
[ -s "$r" ] || fail "the receiver printed nothing"
log "receiver: $(json_get "{k: d[k] for k in d if k != 'seqs'}" < "$r")"
[ "$(json_get "d['dups']" < "$r")" = 0 ] || fail "a datagram was delivered twice: $(cat "$r")"
[ "$(json_get "d['bad']" < "$r")" = 0 ] || fail "a damaged datagram was delivered"
[ "$(json_get "len([s for s in d['seqs'] if s < 90])" < "$r")" = 90 ] ||
	fail "acknowledged datagrams are missing: $(cat "$r")"
lost_down=$(json_get "10 - len([s for s in d['seqs'] if 1000 <= s < 1010])" < "$r")
lost_kill=$(json_get "20 - len([s for s in d['seqs'] if 2000 <= s < 2020])" < "$r")
log "lost while the reader was down: $lost_down/10; around the writer's kill: $lost_kill/20"
# A restarted reader starts after the newest block of each peer's ring (no
# replay); what the peer wrote after the reader's last acknowledgement is
# counted as lost.
lb=$(peer_field 2 1 lost_blocks)
log "node 2 counts $lb lost blocks of peer 1 at its restart"
if [ "$lost_down" -gt 0 ]; then
	[ "${lb:-0}" -gt 0 ] ||
		fail "$lost_down datagrams skipped at the reader's restart, but lost_blocks is '$lb'"
fi
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log "node 2 peer 1: lost_blocks $(peer_field 2 1 lost_blocks), gen_changes $gc0 -> $gc1; generation $gen0 -> $gen1; PASS"
