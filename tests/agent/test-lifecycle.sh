#!/bin/sh
# The agent's lifecycle with a real daemon on a loop device (explicit
# mode): idempotent start/stop, monitor of a dead daemon, a daemon that
# ignores SIGTERM is killed within the stop timeout, reload keeps the
# daemon (SIGHUP) for a tunable and restarts it for another parameter,
# the daemon's stderr file stays bounded, a read-only device is named as
# such, with the fix, a red #health stays across a
# stop and the next working start clears it, an adopted daemon (the
# system's) is never stopped, and a blank device is formatted only with
# format_blank=true.
. "$(dirname "$0")/lib.sh"
need_live "$@"
need_daemon

make_volume 4
set_params

log "probe of a stopped resource: 7"
OCF_RESKEY_CRM_meta_interval=0 ra 7 monitor

log "start, monitor, start again"
ra 0 start
pid=$(agent_pid)
{ [ -n "$pid" ] && alive "$pid"; } || fail "no daemon after start"
ra 0 monitor
OCF_CHECK_LEVEL=10 ra 0 monitor
ra 0 start
[ "$(agent_pid)" = "$pid" ] || fail "a second start replaced the daemon"
"$DISKLINK" status --json --socket "$CONTROL" >"$WORK/status.json" || fail "disklink status"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['device_state']=='ok', d" \
	"$WORK/status.json" || fail "device_state not ok after start"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['format_version']==1, d" \
	"$WORK/status.json" || fail "no format_version 1 in the status"
# The same status for eval, through sh.
"$DISKLINK" status --shell --socket "$CONTROL" >"$WORK/status.sh" || fail "disklink status --shell"
# shellcheck disable=SC2016 # expanded by the sh that evals the status
sh -c 'eval "$(cat "$1")" && [ "$status_device_state" = ok ] && [ "$status_node_id" = 1 ] &&
	[ "$status_peer_count" = 1 ] && [ "$status_peer0_node_id" = 2 ]' sh "$WORK/status.sh" ||
	fail "status --shell: $(cat "$WORK/status.sh")"

log "reload: new tunables, same daemon"
OCF_RESKEY_io_timeout_ms=4000 ra 0 reload
{ [ "$(agent_pid)" = "$pid" ] && alive "$pid"; } || fail "reload restarted the daemon"
grep -qx "io_timeout_ms = 4000" "$HA_RSCTMP/disklink-dl/disklinkd.conf" || fail "reload did not write the tunable"
sleep 1
ra 0 monitor
OCF_RESKEY_io_timeout_ms=4000 ra 0 reload-agent
{ [ "$(agent_pid)" = "$pid" ] && alive "$pid"; } || fail "reload-agent restarted the daemon"

log "reload: a non-reloadable parameter changed: a new daemon"
OCF_RESKEY_attr_prefix=dlother ra 0 reload
ra_out_has "restarting disklinkd"
npid=$(agent_pid)
{ [ -n "$npid" ] && [ "$npid" != "$pid" ] && alive "$npid"; } || fail "reload did not restart the daemon"
alive "$pid" && fail "the old daemon $pid still runs after the restart"
ra 0 reload
pid=$(agent_pid)
ra 0 monitor

log "the daemon's stderr file is bounded"
head -c 200000 /dev/zero | tr '\0' x >>"$HA_RSCTMP/disklink-dl/disklinkd.err"
ra 0 monitor
[ "$(wc -c <"$HA_RSCTMP/disklink-dl/disklinkd.err")" -le 65536 ] || fail "monitor did not trim the stderr file"

log "stop, stop again, monitor: 7"
ra 0 stop
alive "$pid" && fail "daemon $pid still runs after stop"
ra 0 stop
ra 7 monitor

log "a daemon that dies: monitor fails (1), stop cleans up"
ra 0 start
pid=$(agent_pid)
kill -KILL "$pid"
sleep 0.5
ra 1 monitor
ra_out_has "is gone"
ra 0 stop
ra 7 monitor

log "a daemon that ignores SIGTERM: stop kills it within its timeout"
ra 0 start
pid=$(agent_pid)
kill -STOP "$pid"
t0=$(date +%s)
OCF_RESKEY_CRM_meta_timeout=9000 ra 0 stop
t1=$(date +%s)
[ $((t1 - t0)) -le 9 ] || fail "stop took $((t1 - t0))s with a 9s timeout"
sleep 0.5
alive "$pid" && fail "stopped daemon $pid survived the agent's stop"
[ -z "$(ours_left)" ] || fail "processes of the daemon survived the agent's stop: $(ours_left)"
ra 7 monitor

log "a failing device: monitor fails (local fault), stop works"
ra 0 start
size=$(stat -c %s "$WORK/vol.img")
{ truncate -s 0 "$WORK/vol.img" && losetup -c "$LOOPDEV"; } || fail "cannot fail the device"
rc=0
for _ in $(seq 60); do
	OCF_RESKEY_stall_timeout=0 "$AGENT" monitor >"$WORK/ra.out" 2>&1
	rc=$?
	[ $rc -ne 0 ] && break
	sleep 0.5
done
{ truncate -s "$size" "$WORK/vol.img" && losetup -c "$LOOPDEV"; } || fail "cannot restore the device"
[ $rc -eq 1 ] || { cat "$WORK/ra.out"; fail "monitor of a failing device exited $rc, expected 1"; }
ra_out_has "device"
log "monitor said: $(grep -m1 exit-reason "$WORK/ra.out")"
ATTRS=$HA_RSCTMP/disklink-dl/attributes
grep -qx '#health-disklink=red' "$ATTRS" || fail "no red health after a device failure: $(cat "$ATTRS")"
ra 0 stop
[ -z "$(ours_left)" ] || fail "daemon left after stop: $(ours_left)"
grep -qx '#health-disklink=red' "$ATTRS" || fail "stop cleared the red health"
ra_out_has "keeping #health-disklink=red"
"$DISKLINK" format "$LOOPDEV" --cluster "$CLUSTER" --slots 4 --force >/dev/null 2>&1 || fail "reformat"
log "the next start that finds the device working clears the red health"
ra 0 start
grep -q '^#health-disklink=\(green\|yellow\)$' "$ATTRS" || fail "start left the health: $(cat "$ATTRS")"
ra 0 stop
[ ! -e "$ATTRS" ] || fail "stop of a healthy instance left attributes: $(cat "$ATTRS")"

log "a read-only device: the reason names it, with the fix"
blockdev --setro "$LOOPDEV" || fail "blockdev --setro"
OCF_RESKEY_CRM_meta_timeout=25000 "$AGENT" start >"$WORK/ra.out" 2>&1
rc=$?
blockdev --setrw "$LOOPDEV" || fail "blockdev --setrw"
[ $rc -ne 0 ] || fail "start on a read-only device succeeded"
ra_out_has "is read-only: make it writable (blockdev --setrw $LOOPDEV)"
log "start said: $(grep -m1 exit-reason "$WORK/ra.out")"
ra 0 stop
[ -z "$(ours_left)" ] || fail "daemon left after stop: $(ours_left)"
rm -f "$HA_RSCTMP/disklink-dl/attributes"

log "adopt the system's daemon: start adopts, stop leaves it running"
setsid "$DISKLINKD" --foreground --device "$LOOPDEV" --node-id 1 --local-addr 127.77.0.1 \
	--port $PORT --peer 2=127.77.0.2 --control "$CONTROL" \
	</dev/null >"$WORK/system-daemon.log" 2>&1 &
sys_pid=$!
track $sys_pid
for _ in $(seq 100); do
	"$DISKLINK" status --json --socket "$CONTROL" >/dev/null 2>&1 && break
	sleep 0.1
done
ra 0 start
grep -qx "owned=0" "$HA_RSCTMP/disklink-dl/state" || fail "the agent did not adopt the running daemon"
ra 0 monitor

log "a second daemon for the same node id: start fails with the daemon's reason"
OCF_RESOURCE_INSTANCE=dl2 OCF_RESKEY_control="$WORK/second.sock" ra 1 start
ra_out_has "disklinkd exited with status"
[ ! -e "$HA_RSCTMP/disklink-dl2/state" ] || fail "state left by a failed start"
OCF_RESOURCE_INSTANCE=dl2 OCF_RESKEY_control="$WORK/second.sock" ra 7 monitor
ra 0 stop
alive $sys_pid || fail "stop killed the adopted daemon"
ra 7 monitor
kill -TERM $sys_pid
wait $sys_pid

log "a blank device: formatted only with format_blank=true"
dd if=/dev/zero of="$LOOPDEV" bs=1M count=1 oflag=direct status=none || fail "wipe"
ra 5 start
OCF_RESKEY_format_blank=true OCF_RESKEY_slots=3 ra 0 start
"$DISKLINK" show "$LOOPDEV" --json >"$WORK/show.json" || fail "no volume after format_blank start"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['slot_count']==3 and d['cluster']=='$CLUSTER', d" \
	"$WORK/show.json" || fail "formatted volume has the wrong geometry"
ra 0 stop
echo "PASS: $TEST"
