#!/bin/sh
# Mirror health per peer through a replicated pair (doc/replication.md):
# with steady traffic both ways, a mirror with a small replication lag is
# healthy; raising the replicator's lag above lag_warn_ms (750) shows
# "lagging" with lag_warn and a measured lag near the replicator's; above
# lag_max_ms (1500) lag_max_exceeded; back to no lag, healthy again; a
# split (the mirror no longer advances) shows "frozen" while the peer is
# alive, and the resynchronised mirror is healthy again; a peer that stops
# cleanly is "gone".  Only the path concerned changes.
# Root only (namespaces, loop devices): skips (77) otherwise.
. "$(dirname "$0")/lib.sh"

setup_pair
A1=$(addr 1); A2=$(addr 2)

# Steady traffic both ways (every 20 ms), so that blocks keep coming.
MARK=$(new_marker H)
bg_in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" --count 100000 \
	--gap-ms 20 --sizes 200 > "$WORK/send1.log" 2>&1
bg_in_node 2 $UDP send --src "$A2:$PORT" --dst "$A1:$PORT" --marker "$MARK" --count 100000 \
	--gap-ms 20 --sizes 200 > "$WORK/send2.log" 2>&1

wait_mirror 2 1 healthy 10 || fail "node 2 sees peer 1's mirror $(mirror 2 1): $(peer_json 2 1)"
wait_mirror 1 2 healthy 10 || fail "node 1 sees peer 2's mirror $(mirror 1 2): $(peer_json 1 2)"
sleep 1
lag=$(peer_field 2 1 lag_ms)
[ "$lag" != None ] && [ "$lag" -lt 750 ] || fail "lag '$lag' ms without replication lag: $(peer_json 2 1)"
[ "$(peer_field 2 1 lag_warn)" = False ] || fail "lag_warn without lag: $(peer_json 2 1)"
log "no lag: measured $lag ms"

# A lag spike on node 1's mirror (what node 2 reads).
set_lag 1 1100
wait_until 2 "[p for p in d['peers'] if p['node_id'] == 1][0]['mirror'] == 'lagging'" 10 ||
	fail "node 2 does not see peer 1's mirror lagging: $(peer_json 2 1)"
p=$(peer_json 2 1)
lag=$(peer_field 2 1 lag_ms)
[ "$lag" -ge 1000 ] && [ "$lag" -le 3000 ] || fail "lagging mirror with lag $lag ms (replicator: 1100 ms): $p"
[ "$(peer_field 2 1 lag_warn)" = True ] || fail "lagging without lag_warn: $p"
[ "$(peer_field 2 1 lag_max_exceeded)" = False ] || fail "lag_max_exceeded at 1100 ms: $p"
[ "$(peer_field 2 1 state)" = up ] || fail "peer 1 is $(peer_field 2 1 state) while its mirror lags"
[ "$(mirror 1 2)" = healthy ] || fail "node 1's view of peer 2 changed: $(peer_json 1 2)"
"$DISKLINK" status --socket "$WORK/ctl2.sock" > "$WORK/status2.txt" || fail "disklink status"
grep -q "lagging" "$WORK/status2.txt" || fail "the table does not show lagging: $(cat "$WORK/status2.txt")"
log "lag 1100 ms: node 2 measures $lag ms, lagging"

set_lag 1 1800
wait_until 2 "[p for p in d['peers'] if p['node_id'] == 1][0]['lag_max_exceeded']" 10 ||
	fail "lag 1800 ms (lag_max_ms 1500) not reported: $(peer_json 2 1)"
log "lag 1800 ms: node 2 measures $(peer_field 2 1 lag_ms) ms, lag_max_exceeded"

set_lag 1 0
wait_mirror 2 1 healthy 10 || fail "back to no lag, node 2 sees $(mirror 2 1): $(peer_json 2 1)"
[ "$(peer_field 2 1 lag_warn)" = False ] || fail "lag_warn stays: $(peer_json 2 1)"

# A split: node 1's mirror no longer advances; node 1 runs on.
split_mirror 1
wait_mirror 2 1 frozen 10 || fail "split mirror not frozen on node 2: $(peer_json 2 1)"
kill -0 "$(daemon_pid 1)" || fail "node 1's daemon died"
[ "$(top_field 1 device_state)" = ok ] || fail "node 1's device is $(top_field 1 device_state)"
[ "$(mirror 1 2)" = healthy ] || fail "node 1's view of peer 2 changed: $(peer_json 1 2)"
"$DISKLINK" status --socket "$WORK/ctl2.sock" > "$WORK/status2.txt"
grep -q "frozen" "$WORK/status2.txt" || fail "the table does not show frozen"
log "split: node 2 sees $(mirror 2 1), peer state $(peer_field 2 1 state)"
heal_mirror 1
wait_mirror 2 1 healthy 10 || fail "after the split, node 2 sees $(mirror 2 1): $(peer_json 2 1)"

# Node 1 stops cleanly: its slot says stopped, through the mirror.
stop_daemon 1 || fail "disklinkd 1 did not stop cleanly"
wait_mirror 2 1 gone 10 || fail "a stopped peer is $(mirror 2 1): $(peer_json 2 1)"
stop_daemon 2 || fail "disklinkd 2 did not stop cleanly"
log PASS
