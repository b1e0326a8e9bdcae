#!/bin/sh
# Volumes that are not ours.
# 1. A volume of another cluster, given to a daemon that expects its own
#    (config key `cluster`): refused at start with exit 3 and a one-line
#    message naming both clusters; nothing written to the device.
# 2. A volume reformatted under running daemons (`disklink format --force`):
#    detected (device_state failed, the reason names the reformat), logged,
#    and not used: no slot of the new volume is claimed and the device does
#    not change any more, whatever traffic the daemons are given.
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
devsum() { dd if="$LOOPDEV" iflag=direct bs=1M count=8 status=none | sha256sum | cut -c1-64; }

# --- 1. another cluster
printf 'cluster = othercluster\n' > "$WORK/other.conf"
before=$(devsum)
in_node 1 timeout 20 "$DISKLINKD" --device "$LOOPDEV" --node-id 1 --port $PORT \
	--local-addr "$(addr 1)" --peer "2=$(addr 2)" --config "$WORK/other.conf" \
	--control "$WORK/ctlx.sock" --pid-file "$WORK/x.pid" > "$WORK/other.out" 2> "$WORK/other.err"
rc=$?
if [ -s "$WORK/x.pid" ]; then track "$(cat "$WORK/x.pid")"; fi
log "another cluster: exit $rc, stderr: $(cat "$WORK/other.err")"
[ $rc = 3 ] || fail "disklinkd given a volume of cluster relaytest with cluster = othercluster exited $rc, not 3"
[ "$(wc -l < "$WORK/other.err")" = 1 ] || fail "not a one-line message: $(cat "$WORK/other.err")"
grep -q "relaytest" "$WORK/other.err" && grep -q "othercluster" "$WORK/other.err" ||
	fail "the message does not name both clusters: $(cat "$WORK/other.err")"
[ "$(devsum)" = "$before" ] || fail "the refused daemon wrote to the device"
[ "$("$DISKLINK" show --json "$LOOPDEV" | json_get "sum(s['state'] != 'free' for s in d['slots'])")" = 0 ] ||
	fail "a slot was claimed by the refused daemon"

# --- 2. reformatted under running daemons
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
MARK=$(new_marker F)
traffic_bg 1 t1 200 4 --delay 0.5 --drain 1; t1=$LAST_PID
traffic_bg 2 r1 200 4 --delay 0.5 --drain 1; r1=$LAST_PID
wait_pid $t1 20 && wait_pid $r1 20 || fail "traffic before the reformat failed"
[ "$(pair_field r1 1 distinct)" -ge 700 ] || fail "no traffic before the reformat"

"$DISKLINK" format --force "$LOOPDEV" --cluster relaytest --slots 4 --ring-blocks 1024 \
	> "$WORK/reformat.log" 2>&1 || fail "reformatting: $(cat "$WORK/reformat.log")"
newuuid=$("$DISKLINK" show --json "$LOOPDEV" | json_get "d['uuid']")
log "reformatted: new volume $newuuid"
for n in 1 2; do
	wait_until $n "d['device_state'] == 'failed' and 'reformatted' in d['device_error']" 20 ||
		fail "node $n: device_state '$(top_field $n device_state)', error '$(top_field $n device_error)' 20 s after the reformat"
	kill -0 "$(daemon_pid $n)" || fail "disklinkd $n exited after the reformat"
	grep -q "reformatted" "$WORK/disklinkd$n.log" || fail "disklinkd $n did not log the reformat"
done
log "node 1 reports: $(top_field 1 device_error)"
claimed=$("$DISKLINK" show --json "$LOOPDEV" | json_get "[s for s in d['slots'] if not s['valid'] or s['state'] != 'free']")
[ "$claimed" = "[]" ] || fail "the new volume's slots were claimed: $claimed"
"$DISKLINK" check "$LOOPDEV" > "$WORK/check.log" 2>&1 || fail "the new volume does not check: $(cat "$WORK/check.log")"

# Traffic for the disk and time for restarts of the I/O children: the
# device must not change.
before=$(devsum)
traffic_bg 1 t2 200 5 --delay 0 --drain 1; t2=$LAST_PID
traffic_bg 2 t3 200 5 --delay 0 --drain 1; t3=$LAST_PID
wait_pid $t2 20; wait_pid $t3 20
[ "$(pair_field t2 2 distinct)" = 0 ] && [ "$(pair_field t3 1 distinct)" = 0 ] ||
	fail "datagrams crossed a reformatted volume"
[ "$(devsum)" = "$before" ] || fail "the daemons wrote into the new volume"
for n in 1 2; do
	[ "$(top_field $n device_state)" = failed ] || fail "node $n: device_state '$(top_field $n device_state)' later"
	top_field $n device_error | grep -q reformatted ||
		fail "node $n: the reason no longer names the reformat: $(top_field $n device_error)"
done
claimed=$("$DISKLINK" show --json "$LOOPDEV" | json_get "[s for s in d['slots'] if not s['valid'] or s['state'] != 'free']")
[ "$claimed" = "[]" ] || fail "the new volume's slots were claimed later: $claimed"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
[ "$(devsum)" = "$before" ] || fail "stopping the daemons wrote into the new volume"
log PASS
