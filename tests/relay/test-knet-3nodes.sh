#!/bin/sh
# Three knet nodes (real libknet, crypto on) through disklinkd on one
# shared volume: every link comes up, PMTUD settles above 60000 bytes and
# verified data passes between every pair (each node broadcasts).
. "$(dirname "$0")/lib.sh"

COUNT=40
make_volume 4
add_node 1; add_node 2; add_node 3
start_daemon 1 2 3
start_daemon 2 1 3
start_daemon 3 1 2
MARK=$(new_marker T)

knet_peer_bg 1 kp1 2 3 -- --marker "$MARK" --count $COUNT --timeout 30; p1=$LAST_PID
knet_peer_bg 2 kp2 1 3 -- --marker "$MARK" --count $COUNT --timeout 30; p2=$LAST_PID
knet_peer_bg 3 kp3 1 2 -- --marker "$MARK" --count $COUNT --timeout 30; p3=$LAST_PID
wait_pid $p1 150; r1=$?
wait_pid $p2 150; r2=$?
wait_pid $p3 150; r3=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && [ $r3 = 0 ] || fail "knet_peer exited $r1/$r2/$r3"
for n in 1 2 3; do
	j=$WORK/kp$n.json
	log "node $n: $(cat "$j")"
	[ "$(json_get "d['result']" < "$j")" = ok ] || fail "node $n: $(cat "$j")"
	[ "$(json_get "d['messages_received']" < "$j")" = $((2 * COUNT)) ] || fail "node $n received too little"
	[ "$(json_get "min(p['link_mtu'] for p in d['peers'])" < "$j")" -gt 60000 ] ||
		fail "node $n: a link MTU is not above 60000"
	for o in 1 2 3; do
		[ $o = $n ] && continue
		[ "$(peer_field $n $o state)" = up ] || fail "node $n: peer $o is $(peer_field $n $o state)"
	done
done
device_has "$MARK" && fail "plaintext marker found on the volume with crypto on"
for n in 1 2 3; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
