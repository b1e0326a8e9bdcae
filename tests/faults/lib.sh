# Shared by the fault tests (sourced): tests/relay/lib.sh (namespaces, the
# loop device, disklinkd per node, status helpers, cleanup) plus what the
# fault tests add.
. "$(dirname "$0")/../relay/lib.sh"

TRAFFIC="/usr/bin/python3 $top_srcdir/tests/faults/traffic.py"

# freeze_fs: the tests' FUSE filesystem whose I/O can be frozen
# (freezefs.py), mounted on $MNT over $WORK/back/volume.img (64 MiB), and a
# loop device with direct I/O over it (loop_attach: LAST_LOOP and LOOPDEV,
# detached by the cleanup).  While $FLAG exists its reads and writes wait
# (the loop device really hangs, its requesters in D state); while
# $FLAG.writes exists, its writes only.  The cleanup thaws first
# (PRE_CLEANUP) and unmounts last (POST_CLEANUP).  Skips without fuse,
# python3-fusepy or direct I/O over FUSE.
FLAG=$WORK/freeze
MNT=$WORK/mnt
FSPID=
freeze_thaw() { rm -f "$FLAG" "$FLAG.writes"; }
freeze_unmount() {
	if mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount -u "$MNT" 2>/dev/null ||
			umount -l "$MNT"
	fi
	# Only while FSPID is still freezefs.py (tests/pidtrack.sh).
	[ -n "$FSPID" ] && ours "$FSPID" && kill "$FSPID" 2>/dev/null
	for _ in $(seq 50); do [ -n "$FSPID" ] && ours "$FSPID" || break; sleep 0.1; done
}
freeze_fs() {
	command -v fusermount3 >/dev/null 2>&1 || command -v fusermount >/dev/null 2>&1 ||
		skip "fuse is not installed"
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	/usr/bin/python3 -c 'import fusepy' 2>/dev/null || /usr/bin/python3 -c 'import fuse' 2>/dev/null ||
		skip "python3-fusepy is not installed"
	PRE_CLEANUP=freeze_thaw
	POST_CLEANUP=freeze_unmount
	mkdir -p "$WORK/back" "$MNT"
	truncate -s 64M "$WORK/back/volume.img"
	# Not a child of this shell (the cleanup's `wait` would wait for it):
	# its pid comes from the pid file.
	( /usr/bin/python3 "$top_srcdir/tests/faults/freezefs.py" "$MNT" "$WORK/back" "$FLAG" \
		"$WORK/fs.pid" > "$WORK/freezefs.log" 2>&1 & )
	for _ in $(seq 100); do mountpoint -q "$MNT" && [ -s "$WORK/fs.pid" ] && break; sleep 0.1; done
	FSPID=$(cat "$WORK/fs.pid" 2>/dev/null)
	[ -n "$FSPID" ] && remember "$FSPID"
	mountpoint -q "$MNT" || skip "cannot mount the FUSE filesystem: $(tail -n 3 "$WORK/freezefs.log")"
	loop_attach --direct-io=on "$MNT/volume.img"
	[ "$(cat "/sys/block/$(basename "$LAST_LOOP")/loop/dio" 2>/dev/null)" = 1 ] ||
		skip "the loop device does not do direct I/O over FUSE (cached pages would be served)"
}

# rss_kb PID: resident set (VmRSS, kB) of a process.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# io_child ID: the pid of node ID's I/O child (the newest child).
io_child() { pgrep -n -P "$(daemon_pid "$1")"; }

# traffic_bg ID OUT RATE DURATION [EXTRA...]: traffic.py standing for node
# ID's knet, to and from every other node in $NODES.
traffic_bg() {
	_id=$1; _out=$2; _rate=$3; _dur=$4; shift 4
	_peers=
	for _p in $NODES; do
		[ "$_p" = "$_id" ] || _peers="$_peers --peer $_p=$(addr "$_p"):$PORT"
	done
	bg_in_node "$_id" $TRAFFIC --node "$_id" --bind "$(addr "$_id"):$PORT" $_peers \
		--marker "$MARK" --rate "$_rate" --duration "$_dur" "$@" \
		> "$WORK/$_out.json" 2> "$WORK/$_out.log"
}

# pair_field OUT PEER FIELD: a per-peer result of traffic.py's JSON.
pair_field() { json_get "d['peers']['$2']['$3']" < "$WORK/$1.json"; }

# peer_sum ID PEER 'FIELD+FIELD': sum of per-peer status counters.
peer_sum() {
	status "$1" | json_get "sum([p for p in d['peers'] if p['node_id'] == $2][0][k] for k in '$3'.split('+'))"
}

# node_diag ID...: what a failure after a stall needs to be diagnosed,
# on stdout: each node's status JSON; its disklinkd's children (the I/O
# child, an abandoned one) with their state, wait channel, kernel stack
# and age; the head and tail of every parent/child queue mapped in the
# daemon (the shared mapping's tx and rx queues, found by their layout:
# shm_queue.c); the UDP sockets in the node's namespace (who holds the
# knet end); the supervision lines of its log.
node_diag() {
	for _n in "$@"; do
		_d=$(daemon_pid "$_n")
		echo "---- node $_n: disklinkd $_d"
		echo "status: $(status "$_n" 2>&1)"
		for _c in $_d $(pgrep -P "$_d"); do
			[ -d "/proc/$_c" ] || continue
			echo "pid $_c ($(cat "/proc/$_c/comm" 2>/dev/null)):" \
				"$(awk '/^State:/ {print $2, $3}' "/proc/$_c/status" 2>/dev/null)," \
				"wchan $(cat "/proc/$_c/wchan" 2>/dev/null), started" \
				"$(ps -o etimes= -p "$_c" 2>/dev/null | tr -d ' ') s ago"
			sed 's/^/    /' "/proc/$_c/stack" 2>/dev/null
		done
		/usr/bin/python3 - "$_d" <<'PY' 2>&1
import os, struct, sys
pid = sys.argv[1]
for line in open("/proc/%s/maps" % pid):
    f = line.split()
    if not f[1].endswith("s") or "zero" not in line:
        continue
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    try:
        with open("/proc/%s/map_files/%s" % (pid, f[0]), "rb") as m:
            buf = m.read(hi - lo)
    except OSError as e:
        print("queues: cannot read the mapping %s: %s" % (f[0], e))
        continue
    for off in range(4096, len(buf), 4096):
        cap = struct.unpack_from("<Q", buf, off + 128)[0]
        if cap < 256 << 10 or cap & (cap - 1):
            continue
        qbytes = (192 + cap + 4095) // 4096 * 4096
        if off + 2 * qbytes != len(buf):
            continue
        for name, o in (("tx", off), ("rx", off + qbytes)):
            head, tail = struct.unpack_from("<Q", buf, o)[0], struct.unpack_from("<Q", buf, o + 64)[0]
            print("queue %s of mapping %s: head %d tail %d (%d bytes waiting of %d)"
                  % (name, f[0], head, tail, head - tail, cap))
        break
PY
		echo "UDP sockets in node $_n:"
		in_node "$_n" ss -uanp 2>&1 | sed 's/^/    /'
		echo "supervision (disklinkd$_n.log):"
		grep -E "I/O child|abandon|restarting|link ready|attached to|taking it over|stalled|owner|knet end" \
			"$WORK/disklinkd$_n.log" 2>/dev/null | tail -n 30 | sed 's/^/    /'
	done
}
