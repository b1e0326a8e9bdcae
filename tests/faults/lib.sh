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
	[ -n "$FSPID" ] && kill "$FSPID" 2>/dev/null
	for _ in $(seq 50); do [ -n "$FSPID" ] && kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
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
