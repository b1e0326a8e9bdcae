#!/bin/sh
# disklinkd accepts on a peer socket only datagrams from the local knet's
# own link address and port.  Datagrams to peer 2's socket on node 1 from
# another port and from another address are dropped, counted in
# foreign_drops, never written to the volume and never delivered; one from
# the right source is written and delivered (the checks can fail).
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
in_node 1 ip addr add 127.0.0.9/32 dev lo 2>/dev/null   # lo already holds 127/8

drops0=$(top_field 1 foreign_drops) || fail "status of node 1"
out0=$(peer_field 1 2 dgrams_out)
in0=$(peer_field 2 1 dgrams_in)

# Node 2's "knet" is a receiver that must get only the good datagram.
GOOD=$(new_marker G)
bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$GOOD" --count 1 \
	--timeout 15 --ready "$WORK/ready" > "$WORK/recv.json" 2> "$WORK/recv.log"
rpid=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done

BAD_PORT=$(new_marker B)
BAD_ADDR=$(new_marker A)
in_node 1 $UDP once --src "$A1:$((PORT + 1))" --dst "$A2:$PORT" --payload "$BAD_PORT" ||
	fail "sending from a foreign port"
in_node 1 $UDP once --src "127.0.0.1:40000" --dst "$A2:$PORT" --payload "$BAD_ADDR" ||
	fail "sending from a foreign address"

# Wait until both drops are counted.
for _ in $(seq 50); do
	[ "$(top_field 1 foreign_drops)" -ge $((drops0 + 2)) ] && break
	sleep 0.1
done
drops=$(top_field 1 foreign_drops)
[ "$drops" -eq $((drops0 + 2)) ] || fail "foreign_drops went from $drops0 to $drops, expected +2"
[ "$(peer_field 1 2 dgrams_out)" -eq "$out0" ] || fail "a foreign datagram was counted in dgrams_out"

# Now the one good datagram, from node 1's knet address and port.
# The sender keeps its socket a while, as knet does: the owner check
# relays only from a socket it can see (doc/security.md).
in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$GOOD" --count 1 --sizes 200 \
	--hold-ms 2000 > "$WORK/send.json" 2>&1 || fail "sending the good datagram"
wait_pid $rpid 20 || fail "the good datagram was not delivered intact: $(cat "$WORK/recv.json")"
[ "$(json_get "d['distinct']" < "$WORK/recv.json")" = 1 ] || fail "receiver: $(cat "$WORK/recv.json")"
wait_counter 1 2 dgrams_out $((out0 + 1)) 5 || fail "node 1 did not count the good datagram out"
wait_counter 2 1 dgrams_in $((in0 + 1)) 5 || fail "node 2 did not count the good datagram in"
[ "$(peer_field 1 2 dgrams_out)" -eq $((out0 + 1)) ] || fail "node 1 counted more than one datagram out"

device_has "$GOOD" || fail "the good datagram is not on the volume: the raw check cannot fail"
device_has "$BAD_PORT" && fail "a datagram from a foreign port was written to the volume"
device_has "$BAD_ADDR" && fail "a datagram from a foreign address was written to the volume"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log "foreign_drops $drops0 -> $drops; PASS"
