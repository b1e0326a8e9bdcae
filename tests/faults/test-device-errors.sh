#!/bin/sh
# A device that fails and one made read-only.
# 1. Shrink the loop device's backing file to nothing (truncate; losetup -c):
#    every request fails.  The daemons report device_state failed with the
#    errno's text, keep their sockets bound (another bind of their
#    addresses gets EADDRINUSE) and answer status; the link stops.  Restore
#    the file (its content from before) and the size: both recover and the
#    link carries traffic again.
# 2. blockdev --setro: writes fail; the same, then blockdev --setrw.
. "$(dirname "$0")/lib.sh"
command -v blockdev >/dev/null 2>&1 || skip "blockdev is not installed"

make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
MARK=$(new_marker E)
RO=
PRE_CLEANUP='eval [ -n "$RO" ] && blockdev --setrw "$LOOPDEV"'

ERRNO_TEXT='Input/output error|Operation not permitted|Read-only file system|Permission denied|No space left|short (read|write)|Bad file descriptor|Invalid argument'

# exchange TAG SECONDS: both nodes send 100 datagrams/s to each other;
# prints what node 2 received from 1 and node 1 from 2.
exchange() {
	traffic_bg 1 "$1a" 100 "$2" --delay 0.3 --drain 1; _a=$LAST_PID
	traffic_bg 2 "$1b" 100 "$2" --delay 0.3 --drain 1; _b=$LAST_PID
	wait_pid $_a $(($2 + 20)) || fail "traffic $1 of node 1: corrupt or foreign datagrams"
	wait_pid $_b $(($2 + 20)) || fail "traffic $1 of node 2: corrupt or foreign datagrams"
	echo "$(pair_field "$1b" 1 distinct) $(pair_field "$1a" 2 distinct)"
}
still_bound() {    # still_bound ID: node ID's peer address is still bound
	in_node "$1" /usr/bin/python3 -c "
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(('$(addr $((3 - $1)))', $PORT))
except OSError as e:
    sys.exit(0 if e.errno == errno.EADDRINUSE else 2)
sys.exit(1)"
}
# recovers LABEL: both devices ok again, traffic both ways.
recovers() {
	for n in 1 2; do
		wait_until $n "d['device_state'] == 'ok'" 30 ||
			fail "$1: node $n still reports '$(top_field $n device_state)': $(top_field $n device_error)"
	done
	ok=
	for i in 1 2 3 4 5; do
		set -- $(exchange "after$i" 2)
		[ "$1" -ge 150 ] && [ "$2" -ge 150 ] && { ok=1; break; }
	done
	[ -n "$ok" ] || fail "the link did not come back ($1 and $2 of 200 datagrams)"
}
# failing LABEL: both report failed with an errno text; sockets kept.
# failing WHAT [PATTERN]: both nodes report the device failed, with a
# reason matching PATTERN (default: an errno's text).
failing() {
	want=${2:-$ERRNO_TEXT}
	for n in 1 2; do
		wait_until $n "d['device_state'] == 'failed'" 15 ||
			fail "$1: node $n reports '$(top_field $n device_state)' 15 s later"
		err=$(top_field $n device_error)
		echo "$err" | grep -Eq "$want" || fail "$1: node $n's reason does not match '$want': '$err'"
		still_bound $n || fail "$1: node $n no longer holds its peer socket"
	done
	log "$1: node 1 reports: $(top_field 1 device_error)"
	set -- $(exchange "during-$1" 2)
	[ "$1" = 0 ] && [ "$2" = 0 ] || fail "datagrams crossed a failed device ($1, $2)"
}

set -- $(exchange before 2)
[ "$1" -ge 150 ] && [ "$2" -ge 150 ] || fail "no traffic before the faults ($1, $2 of 200)"

# --- 1. I/O errors
cp --sparse=always "$WORK/volume.img" "$WORK/saved.img"
truncate -s 0 "$WORK/volume.img"
losetup -c "$LOOPDEV"
log "device shrunk to $(blockdev --getsize64 "$LOOPDEV") bytes"
failing shrunk
cp --sparse=always "$WORK/saved.img" "$WORK/volume.img"
losetup -c "$LOOPDEV"
log "device restored to $(blockdev --getsize64 "$LOOPDEV") bytes"
recovers "after the shrink"
for n in 1 2; do
	errs=$(status $n | json_get "d['io']['errors']")
	[ "$errs" -gt 0 ] || fail "node $n counted no I/O errors"
done

# --- 2. read-only
RO=1
blockdev --setro "$LOOPDEV"
log "device read-only"
# The reason names the problem and the fix, not EPERM's text.
failing read-only "is read-only: make it writable \(blockdev --setrw"
blockdev --setrw "$LOOPDEV"; RO=
recovers "after read-write"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
