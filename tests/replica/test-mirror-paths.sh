#!/bin/sh
# Per-reader paths of a replicated pair: each node writes its own send
# volume (R1), the replicator mirrors it (R2), each disklinkd reads its
# peer through the mirror (--peer-device).  Checks: traffic flows both
# ways through the mirrors; status names the path of each peer and shows
# the mirror healthy; `disklink role primary` on node 1 is on disk and
# node 2 sees it through the mirror; a bad role is refused; a mirror that
# is reformatted, or that vanishes, fails only that peer's path (with a
# reason) while the other direction keeps working.
# Root only (namespaces, loop devices): skips (77) otherwise.
. "$(dirname "$0")/lib.sh"

# Bad --peer-device values: one line naming the fix, exit 2.
bad() {
	_want=$1; shift
	"$DISKLINKD" --device /dev/null --node-id 1 --port $PORT --local-addr 127.0.0.1 \
		--peer 2=127.0.0.2 --control "$WORK/bad.sock" --config /dev/null --foreground \
		"$@" > "$WORK/bad.out" 2>&1
	_r=$?
	[ $_r = 2 ] || fail "disklinkd $* exited $_r, not 2: $(cat "$WORK/bad.out")"
	[ "$(wc -l < "$WORK/bad.out")" = 1 ] && grep -q -- "$_want" "$WORK/bad.out" ||
		fail "disklinkd $*: $(cat "$WORK/bad.out")"
}
bad "NODEID=DEVICE" --peer-device 2
bad "names no peer" --peer-device 3=/dev/null
bad "given twice" --peer-device 2=/dev/null --peer-device 2=/dev/zero
if out=$("$DISKLINK" role --socket "$WORK/none.sock" primary 2>&1); then
	fail "disklink role without a daemon succeeded: $out"
fi

setup_pair
A1=$(addr 1); A2=$(addr 2)

# Paths: each peer is read from its mirror, not from --device.
[ "$(peer_field 1 2 path)" = "$R2B" ] || fail "node 1 reads peer 2 from '$(peer_field 1 2 path)', not $R2B"
[ "$(peer_field 2 1 path)" = "$R2A" ] || fail "node 2 reads peer 1 from '$(peer_field 2 1 path)', not $R2A"
[ "$(top_field 1 device)" = "$R1A" ] || fail "node 1 writes $(top_field 1 device), not $R1A"

# Traffic both ways (the acknowledgements come back through the other mirror).
MARK=$(new_marker P)
bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK" --count 40 \
	--timeout 60 --quiet-ms 20000 --ack --ready "$WORK/ready2" > "$WORK/recv2.json" 2> "$WORK/recv2.log"
r2=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready2" ] && break; sleep 0.1; done
in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" --count 40 \
	--sizes 200,5000,65507 --ack --timeout 3 --retries 3 > "$WORK/send1.log" 2>&1 ||
	fail "1 -> 2 through the mirrors: datagrams not acknowledged: $(tail -3 "$WORK/send1.log")"
wait_pid "$r2" 30 || fail "node 2's receiver failed: $(cat "$WORK/recv2.json")"
[ "$(json_get "d['distinct']" < "$WORK/recv2.json")" = 40 ] || fail "node 2 got $(cat "$WORK/recv2.json")"
[ "$(json_get "d['dups'] + d['bad']" < "$WORK/recv2.json")" = 0 ] || fail "duplicates or damage: $(cat "$WORK/recv2.json")"

MARK2=$(new_marker Q)
bg_in_node 1 $UDP recv --bind "$A1:$PORT" --src "$A2:$PORT" --marker "$MARK2" --count 20 \
	--timeout 60 --quiet-ms 20000 --ack --ready "$WORK/ready1" > "$WORK/recv1.json" 2> "$WORK/recv1.log"
r1=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready1" ] && break; sleep 0.1; done
in_node 2 $UDP send --src "$A2:$PORT" --dst "$A1:$PORT" --marker "$MARK2" --count 20 \
	--sizes 100,3000 --ack --timeout 3 --retries 3 > "$WORK/send2.log" 2>&1 ||
	fail "2 -> 1 through the mirrors: datagrams not acknowledged"
wait_pid "$r1" 30 || fail "node 1's receiver failed: $(cat "$WORK/recv1.json")"
[ "$(json_get "d['distinct']" < "$WORK/recv1.json")" = 20 ] || fail "node 1 got $(cat "$WORK/recv1.json")"

wait_mirror 1 2 healthy 5 || fail "node 1 sees peer 2's mirror $(mirror 1 2): $(peer_json 1 2)"
wait_mirror 2 1 healthy 5 || fail "node 2 sees peer 1's mirror $(mirror 2 1): $(peer_json 2 1)"
lag=$(peer_field 2 1 lag_ms)
[ "$lag" != None ] && [ "$lag" -ge 0 ] && [ "$lag" -lt 750 ] ||
	fail "healthy mirror with lag '$lag' ms: $(peer_json 2 1)"
[ "$(peer_field 2 1 lag_warn)" = False ] || fail "lag_warn on a healthy mirror: $(peer_json 2 1)"
log "healthy: node 2 sees peer 1 with lag $lag ms"
"$DISKLINK" status --socket "$WORK/ctl1.sock" > "$WORK/status1.txt" || fail "disklink status (table)"
grep -q "MIRROR" "$WORK/status1.txt" && grep -q "healthy" "$WORK/status1.txt" && grep -qF "$R2B" "$WORK/status1.txt" ||
	fail "the status table shows no mirror health: $(cat "$WORK/status1.txt")"

# Roles: node 1 claims primary; node 2 sees it through the mirror.
[ "$(top_field 1 role)" = none ] || fail "node 1 starts with role $(top_field 1 role)"
out=$("$DISKLINK" role --socket "$WORK/ctl1.sock" primary 2>&1) || fail "disklink role primary: $out"
[ "$(top_field 1 role)" = primary ] || fail "node 1's status shows role $(top_field 1 role) after 'role primary'"
wait_until 2 "[p for p in d['peers'] if p['node_id'] == 1][0]['role'] == 'primary'" 10 ||
	fail "node 2 does not see peer 1 as primary: $(peer_json 2 1)"
out=$("$DISKLINK" role --socket "$WORK/ctl2.sock" secondary 2>&1) || fail "disklink role secondary: $out"
wait_until 1 "[p for p in d['peers'] if p['node_id'] == 2][0]['role'] == 'secondary'" 10 ||
	fail "node 1 does not see peer 2 as secondary: $(peer_json 1 2)"
if out=$("$DISKLINK" role --socket "$WORK/ctl1.sock" boss 2>&1); then
	fail "disklink role boss succeeded: $out"
fi
printf 'role boss\n' > "$WORK/bad.req"
/usr/bin/python3 - "$WORK/ctl1.sock" <<'PY' > "$WORK/bad.reply" || fail "raw role request"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"role boss\n")
print(s.recv(512).decode().strip())
PY
grep -q '^error: unknown role' "$WORK/bad.reply" || fail "the daemon accepted 'role boss': $(cat "$WORK/bad.reply")"
[ "$(top_field 1 role)" = primary ] || fail "a refused role changed node 1's role"
log "roles: node 2 sees peer 1 $(peer_field 2 1 role), node 1 sees peer 2 $(peer_field 1 2 role)"

# A reformatted mirror: node 1's path to peer 2 fails; node 2's to peer 1 stays.
kill -TERM "$RPID2"; wait_pid "$RPID2" 10 || fail "replicator 2 exited with status $?"
format_send "$R2B"
wait_until 1 "[p for p in d['peers'] if p['node_id'] == 2][0]['path_error'] != ''" 10 ||
	fail "node 1 did not notice that peer 2's mirror was reformatted: $(peer_json 1 2)"
err=$(peer_field 1 2 path_error)
case $err in *reformatted*) ;; *) fail "path error names no reformat: $err" ;; esac
[ "$(mirror 1 2)" = unknown ] || fail "reformatted mirror shows $(mirror 1 2)"
[ "$(top_field 1 device_state)" = ok ] || fail "node 1's own device is $(top_field 1 device_state)"
[ "$(peer_field 2 1 path_error)" = "" ] || fail "node 2's path failed too: $(peer_json 2 1)"
MARK3=$(new_marker S)
bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK3" --count 10 \
	--timeout 30 --quiet-ms 10000 --ready "$WORK/ready3" > "$WORK/recv3.json" 2> "$WORK/recv3.log"
r3=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready3" ] && break; sleep 0.1; done
in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK3" --count 10 \
	--gap-ms 20 > "$WORK/send3.log" 2>&1 || fail "sending 1 -> 2 after the reformat"
wait_pid "$r3" 20
[ "$(json_get "d['distinct']" < "$WORK/recv3.json")" = 10 ] ||
	fail "1 -> 2 stopped with peer 2's path failed on node 1: $(cat "$WORK/recv3.json")"
wait_mirror 2 1 healthy 5 || fail "node 2's view of peer 1 suffered: $(peer_json 2 1)"
log "reformatted R2B: node 1 says '$err'; 1 -> 2 still flows"

# A vanished mirror: R2A shrinks to nothing under node 2 (the device is
# gone for reads); node 2's path to peer 1 fails, node 1 is unaffected.
kill -TERM "$RPID1"; wait_pid "$RPID1" 10 || fail "replicator 1 exited with status $?"
truncate -s 0 "$WORK/R2A.img"
losetup -c "$R2A" || fail "losetup -c $R2A"
wait_until 2 "[p for p in d['peers'] if p['node_id'] == 1][0]['path_error'] != ''" 10 ||
	fail "node 2 did not notice that peer 1's mirror vanished: $(peer_json 2 1)"
log "vanished R2A: node 2 says '$(peer_field 2 1 path_error)'"
[ "$(mirror 2 1)" = unknown ] || fail "vanished mirror shows $(mirror 2 1)"
[ "$(peer_field 2 1 state)" = unknown ] || fail "vanished mirror: peer state $(peer_field 2 1 state)"
[ "$(top_field 2 device_state)" = ok ] || fail "node 2's own device is $(top_field 2 device_state)"
[ "$(top_field 1 device_state)" = ok ] || fail "node 1's own device is $(top_field 1 device_state)"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
