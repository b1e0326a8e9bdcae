#!/bin/sh
# Two knet nodes (real libknet, crypto aes256/sha256) through disklinkd on
# one shared volume: the link comes up, PMTUD settles above 60000 bytes,
# verified data passes both ways, and the volume holds no plaintext of the
# payload.  A second run with crypto off must leave the marker on the
# volume: the plaintext check can fail.
. "$(dirname "$0")/lib.sh"

COUNT=60
make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1

# run_pair CRYPTO MARKER TAG: both knet_peers, checked.
run_pair() {
	knet_peer_bg 1 "$3-1" 2 -- --crypto "$1" --marker "$2" --count $COUNT --timeout 30
	p1=$LAST_PID
	knet_peer_bg 2 "$3-2" 1 -- --crypto "$1" --marker "$2" --count $COUNT --timeout 30
	p2=$LAST_PID
	wait_pid $p1 120; r1=$?
	wait_pid $p2 120; r2=$?
	[ $r1 = 0 ] && [ $r2 = 0 ] || fail "knet_peer ($1) exited $r1/$r2"
	for n in 1 2; do
		j=$WORK/$3-$n.json
		[ "$(json_get "d['result']" < "$j")" = ok ] || fail "node $n: $(cat "$j")"
		[ "$(json_get "d['messages_received']" < "$j")" = $COUNT ] || fail "node $n received: $(cat "$j")"
		[ "$(json_get "d['messages_acked']" < "$j")" = $COUNT ] || fail "node $n acked: $(cat "$j")"
		mtu=$(json_get "d['peers'][0]['link_mtu']" < "$j")
		[ "$mtu" -gt 60000 ] || fail "node $n: link MTU $mtu after PMTUD"
		log "node $n ($1): $(cat "$j")"
	done
}

M_CRYPT=$(new_marker C)
run_pair openssl "$M_CRYPT" crypt

for n in 1 2; do
	o=$((3 - n))
	st=$(status $n) || fail "status of node $n"
	log "status $n: $st"
	[ "$(peer_field $n $o state)" = up ] || fail "node $n sees peer $o $(peer_field $n $o state)"
	[ "$(peer_field $n $o dgrams_in)" -gt 0 ] || fail "node $n: no datagram from knet"
	[ "$(peer_field $n $o dgrams_out)" -gt 0 ] || fail "node $n: no datagram to knet"
done
device_has "$M_CRYPT" && fail "plaintext marker found on the volume with crypto on"

M_CLEAR=$(new_marker P)
run_pair none "$M_CLEAR" clear
device_has "$M_CLEAR" || fail "marker sent in the clear is not on the volume: the plaintext check cannot fail"
device_has "$M_CRYPT" && fail "plaintext marker of the crypto run found on the volume"

stop_daemon 1 || fail "disklinkd 1 did not stop cleanly"
stop_daemon 2 || fail "disklinkd 2 did not stop cleanly"
log PASS
