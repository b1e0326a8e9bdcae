#!/bin/sh
# Incarnations and the format version (doc/format.md "Versions",
# "Incarnations").
# 1. A volume of format version 1 (a version 2 volume with its version
#    field set back and its checksum resealed): disklinkd refuses it at
#    start (exit 3) with one line naming the fix ('disklink format'),
#    `disklink show` likewise, and nothing is written to the device.
# 2. An I/O child stuck in D state with a write in flight (a loop device
#    over a FUSE file that freezes, tests/faults/freezefs.py) is abandoned
#    by its parent (abandon_ms); on the release its write lands and the
#    next child takes the slot over as its successor, at once and without
#    exit 4 ("already active"); the peer never delivers a datagram twice,
#    and the link carries traffic again.
. "$(dirname "$0")/lib.sh"

freeze_fs
format() {
	"$DISKLINK" format "$LOOPDEV" --cluster relaytest --slots 4 --ring-blocks 1024 --force \
		> "$WORK/format.log" 2>&1 || fail "formatting $LOOPDEV: $(cat "$WORK/format.log")"
}
devsum() { dd if="$LOOPDEV" iflag=direct bs=1M count=8 status=none | sha256sum | cut -c1-64; }
add_node 1; add_node 2

# --- 1. a volume of format version 1
format
/usr/bin/python3 - "$LOOPDEV" <<'PY' || fail "cannot set the format version back to 1"
import os, struct, sys
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
fd = os.open(sys.argv[1], os.O_RDWR)
sb = bytearray(os.pread(fd, 256, 0))
struct.pack_into("<I", sb, 8, 1)
struct.pack_into("<I", sb, 252, crc32c(bytes(sb[:252])))
os.pwrite(fd, bytes(sb), 0)
os.fsync(fd)
os.close(fd)
PY
before=$(devsum)
in_node 1 timeout 20 "$DISKLINKD" --device "$LOOPDEV" --node-id 1 --port $PORT \
	--local-addr "$(addr 1)" --peer "2=$(addr 2)" --control "$WORK/ctlv.sock" \
	--pid-file "$WORK/v.pid" > "$WORK/v1.out" 2> "$WORK/v1.err"
rc=$?
if [ -s "$WORK/v.pid" ]; then track "$(cat "$WORK/v.pid")"; fi
log "version 1 volume: disklinkd exit $rc, stderr: $(cat "$WORK/v1.err")"
[ $rc = 3 ] || fail "disklinkd given a version 1 volume exited $rc, not 3"
[ "$(wc -l < "$WORK/v1.err")" = 1 ] || fail "not a one-line message: $(cat "$WORK/v1.err")"
grep -q "older disklink format.*disklink format" "$WORK/v1.err" ||
	fail "the message does not name the older format and the fix: $(cat "$WORK/v1.err")"
"$DISKLINK" show "$LOOPDEV" > "$WORK/show.out" 2> "$WORK/show.err"
rc=$?
[ $rc = 2 ] && grep -q "older disklink (format version 1.*'disklink format" "$WORK/show.err" ||
	fail "disklink show on a version 1 volume: exit $rc, $(cat "$WORK/show.err")"
[ "$(devsum)" = "$before" ] || fail "the refused daemon wrote to the version 1 volume"

# --- 2. a stuck child replaced; its late write lands
format
cat > "$WORK/n1.conf" <<EOF
io_timeout_ms = 1000
abandon_ms = 2500
restart_min_ms = 100
EOF
rm -f "$WORK/ctl1.sock"
ip netns exec "$(ns 1)" "$DISKLINKD" --device "$LOOPDEV" --node-id 1 --port $PORT \
	--local-addr "$(addr 1)" --peer "2=$(addr 2)" --foreground --config "$WORK/n1.conf" \
	--control "$WORK/ctl1.sock" --log-file "$WORK/disklinkd1.log" --debug \
	>> "$WORK/disklinkd1.out.log" 2>&1 &
DPID1=$!
track $!
wait_status 1 10 || fail "disklinkd of node 1 does not answer status"
start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
MARK=$(new_marker I)

# One receiver on node 2 for the whole run: a datagram delivered twice
# (the stuck child's late blocks taken again, or as its successor's) is
# a dup.
bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK" --count 1000 \
	--timeout 120 --ready "$WORK/ready" > "$WORK/recv.json" 2>&1
RECV=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
send() { in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" --first "$1" \
	--count 5 --gap-ms 50 > /dev/null 2>&1; }
send 0
sleep 1

log "freezing the device"
touch "$FLAG"
child1=$(io_child 1)
send 100               # into the stuck child's queue and its write in flight
for _ in $(seq 200); do
	grep -q "abandoning I/O child $child1" "$WORK/disklinkd1.log" && break
	sleep 0.1
done
grep -q "abandoning I/O child $child1" "$WORK/disklinkd1.log" ||
	fail "node 1's stuck child $child1 was not abandoned 20 s into the freeze"
st=$(awk '{print $3}' "/proc/$child1/stat" 2>/dev/null)
log "child $child1 abandoned (state $st)"
sleep 2
log "releasing the device"
freeze_thaw
for n in 1 2; do
	wait_until $n "d['device_state'] == 'ok'" 30 ||
		fail "node $n: device_state '$(top_field $n device_state)' 30 s after the release"
done
wait_attached 1 2 20
child=$(io_child 1)
[ "$child" != "$child1" ] || fail "node 1 still runs its abandoned child $child1"
grep -q "left active by this daemon's previous I/O child" "$WORK/disklinkd1.log" ||
	fail "node 1's new child did not take its slot over as the successor"
for i in 1 2 3 4 5 6; do
	send $((200 + 10 * i))
	sleep 1
done
sleep 2
kill -TERM "$RECV" 2>/dev/null
wait_pid "$RECV" 10
log "receiver: $(cat "$WORK/recv.json")"
dups=$(json_get "d['dups']" < "$WORK/recv.json")
seqs=$(json_get "' '.join(str(s) for s in d['seqs'])" < "$WORK/recv.json")
[ "$dups" = 0 ] || fail "node 2 delivered $dups datagrams twice: $(cat "$WORK/recv.json")"
for s in 0 1 2 3 4; do
	echo " $seqs " | grep -q " $s " || fail "datagram $s (before the freeze) was not delivered"
done
json_get "any(s >= 210 for s in d['seqs'])" < "$WORK/recv.json" | grep -q True ||
	fail "the link did not carry traffic after the release: $(cat "$WORK/recv.json")"
for n in 1 2; do
	grep -q "already active" "$WORK/disklinkd$n.log" &&
		fail "node $n: a child ended with 'already active'"
	kill -0 "$(daemon_pid $n)" || fail "disklinkd $n exited"
done
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
