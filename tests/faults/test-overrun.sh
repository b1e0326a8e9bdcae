#!/bin/sh
# A flood that overruns the ring.  A small ring (64 blocks); node 1 floods
# node 2 as fast as it can while node 2's reader is held back (its I/O
# child SIGSTOPped for 1 s out of every 2, under the stall deadline), so the
# writer laps it again and again.  Asserts: the loss is counted on node 2
# (overruns, lost_blocks), nothing corrupt is delivered, no daemon crashes,
# the link carries traffic afterwards, and the resident memory of both
# daemons (parents and I/O children) stays flat between an early sample
# and the end of the flood.
. "$(dirname "$0")/lib.sh"

FLOOD_SECS=${FLOOD_SECS:-24}
RSS_BOUND=${RSS_BOUND_KB:-1024}
make_volume 4 512 64
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
MARK=$(new_marker O)
child2=$(io_child 2)
PRE_CLEANUP='eval kill -CONT $child2 2>/dev/null'

rss_all() { for n in 1 2; do printf '%s %s ' "$(rss_kb "$(daemon_pid $n)")" "$(rss_kb "$(io_child $n)")"; done; }

traffic_bg 2 recv 0 $((FLOOD_SECS + 2)) --delay 0 --drain 4; RECV=$LAST_PID
traffic_bg 1 flood 20000 "$FLOOD_SECS" --delay 1 --drain 2 --size 1000; FLOOD=$LAST_PID
sleep 4
early=$(rss_all)
log "RSS (kB, parent/child of nodes 1 and 2) early in the flood: $early"
end=$(($(date +%s) + FLOOD_SECS - 6))
while [ "$(date +%s)" -lt $end ]; do
	kill -STOP "$child2"; sleep 1; kill -CONT "$child2"; sleep 1
done
late=$(rss_all)
log "RSS at the end of the flood: $late"
wait_pid $FLOOD 60 || fail "the flood sender failed"
wait_pid $RECV 60 || fail "node 2 received corrupt datagrams: $(cat "$WORK/recv.json")"
for n in 1 2; do kill -0 "$(daemon_pid $n)" || fail "disklinkd $n died in the flood"; done
[ "$(io_child 2)" = "$child2" ] || fail "node 2's I/O child was replaced during the flood"

sent=$(pair_field flood 2 sent)
got=$(pair_field recv 1 distinct)
status 2 > "$WORK/status2.json"
over=$(json_get "[p['overruns'] for p in d['peers'] if p['node_id'] == 1][0]" < "$WORK/status2.json")
lostb=$(json_get "[p['lost_blocks'] for p in d['peers'] if p['node_id'] == 1][0]" < "$WORK/status2.json")
log "flood: sent $sent, delivered $got intact, corrupt $(pair_field recv 1 bad); node 2: overruns $over, lost_blocks $lostb; node 1: $(status 1 | json_get "(d['tx_queue_drops'], d['io']['blocks_written'])") (tx_queue_drops, blocks_written)"
[ "$sent" -gt 5000 ] || fail "the flood sent only $sent datagrams"
[ "$got" -lt "$sent" ] || fail "nothing was lost: the ring was not overrun"
[ "$over" -ge 1 ] && [ "$lostb" -ge 1 ] || fail "the overrun was not counted (overruns $over, lost_blocks $lostb)"

set -- $early; e1=$1 e2=$2 e3=$3 e4=$4
set -- $late
for pair in "$e1 $1 node-1-parent" "$e2 $2 node-1-child" "$e3 $3 node-2-parent" "$e4 $4 node-2-child"; do
	set -- $pair
	[ $(($2 - $1)) -le "$RSS_BOUND" ] || fail "$3 RSS grew from $1 to $2 kB during the flood"
done

# The link still works: a short, slow exchange arrives complete.
traffic_bg 2 after2 0 4 --delay 0 --drain 2; r=$LAST_PID
traffic_bg 1 after1 100 2 --delay 1 --drain 1; s=$LAST_PID
wait_pid $s 20; wait_pid $r 20 || fail "corrupt datagrams after the flood"
[ "$(pair_field after2 1 distinct)" = "$(pair_field after1 2 sent)" ] ||
	fail "after the flood only $(pair_field after2 1 distinct) of $(pair_field after1 2 sent) arrived"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
