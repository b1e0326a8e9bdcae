#!/bin/sh
# Group commit: a burst of small datagrams that arrives while a write is
# in flight is packed into shared blocks, so the burst takes fewer blocks
# than datagrams (counted on the volume itself with ringstat), and every
# datagram still arrives once, intact.
. "$(dirname "$0")/lib.sh"

COUNT=400
make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
MARK=$(new_marker K)

before=$("$RINGSTAT" "$LOOPDEV" 1) || fail "ringstat before the burst"
bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK" --count $COUNT \
	--timeout 30 --ready "$WORK/ready" > "$WORK/recv.json" 2> "$WORK/recv.log"
rpid=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" --count $COUNT \
	--sizes 100,60,200 > "$WORK/send.json" 2> "$WORK/send.log" || fail "sender"
wait_pid $rpid 40 || fail "receiver: $(cat "$WORK/recv.json")"
[ "$(json_get "d['distinct']" < "$WORK/recv.json")" = $COUNT ] || fail "receiver: $(cat "$WORK/recv.json")"

after=$("$RINGSTAT" "$LOOPDEV" 1) || fail "ringstat after the burst"
log "ring of node 1 before: $before after: $after"
log "status 1: $(status 1)"
b0=$(echo "$before" | json_get "d['blocks']"); b1=$(echo "$after" | json_get "d['blocks']")
d0=$(echo "$before" | json_get "d['dgrams']"); d1=$(echo "$after" | json_get "d['dgrams']")
g0=$(echo "$before" | json_get "d['generation']"); g1=$(echo "$after" | json_get "d['generation']")
[ "$g0" = "$g1" ] || [ "$b0" = 0 ] || fail "the writer's generation changed during the test"
blocks=$((b1 - b0)); dgrams=$((d1 - d0))
[ $dgrams -ge $COUNT ] || fail "the ring holds $dgrams new datagrams, $COUNT were sent"
[ $blocks -lt $dgrams ] || fail "$dgrams datagrams took $blocks blocks: no group commit"
[ "$(echo "$after" | json_get "d['max_records_per_block']")" -gt 1 ] || fail "no block holds two records"
# The daemon's own counters agree on the datagrams.
[ "$(peer_field 1 2 dgrams_out)" -ge $COUNT ] || fail "dgrams_out on node 1 below $COUNT"
[ "$(peer_field 2 1 dgrams_in)" -ge $COUNT ] || fail "dgrams_in on node 2 below $COUNT"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log "$dgrams datagrams in $blocks blocks; PASS"
