# Shared by the relay tests (sourced).  Every node is a network namespace
# created here, with lo up and 127.77.0.<id>/32 on it (corosync-style
# addressing); the nodes share one loop device.  Everything created is
# removed on exit (trap), whatever happened.
#
# Needs: root, ip, losetup, python3, and the built disklinkd, disklink,
# tests/relay/{knet_peer,ringstat}.  Skips (77) otherwise.
#
# Set before sourcing:
#   RELAY_KNET=no    Python UDP sockets stand in for knet: knet_peer and
#                    ringstat are not needed.
#   RELAY_NETNS=own  the whole test runs in a network namespace of its own
#                    (the script runs itself again under `unshare -n`, with
#                    lo up), instead of one namespace per node (add_node).

set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
RELAY_SRC=$top_srcdir/tests/relay
: "${DISKLINKD:=$top_builddir/knet-transport/disklinkd}"
: "${DISKLINK:=$top_builddir/knet-transport/disklink}"
KNET_PEER=$top_builddir/tests/relay/knet_peer
RINGSTAT=$top_builddir/tests/relay/ringstat
UDP="/usr/bin/python3 $RELAY_SRC/udp.py"
PORT=5406
TEST=$(basename "$0" .sh)

skip() { echo "SKIP: $TEST: $*"; exit 77; }
fail() { echo "FAIL: $TEST: $*"; dump_logs; exit 1; }
log() { echo "[$TEST $(date +%T.%N | cut -c1-12)] $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, loop devices)"
for tool in ip losetup /usr/bin/python3 dd timeout; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
RELAY_PROGS="$DISKLINKD $DISKLINK"
[ "${RELAY_KNET:-}" = no ] || RELAY_PROGS="$RELAY_PROGS $KNET_PEER $RINGSTAT"
for prog in $RELAY_PROGS; do
	[ -x "$prog" ] || skip "$prog is not built"
done
ip netns list >/dev/null 2>&1 || skip "network namespaces are not available"
if [ "${RELAY_NETNS:-}" = own ]; then
	command -v unshare >/dev/null 2>&1 || skip "unshare is not installed"
	if [ -z "${DLD_RELAY_OWN_NETNS:-}" ]; then
		# before anything is created: exec runs no EXIT trap
		DLD_RELAY_OWN_NETNS=1 exec unshare -n -- /bin/sh "$0" "$@"
	fi
	ip link set lo up || { echo "FAIL: $TEST: cannot bring lo up in the test's namespace"; exit 1; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dl-relay.XXXXXX")
NS_PREFIX="dlr$$n"
LOOPDEV=
LOOPDEVS=       # the loop devices of loop_attach and slow_loop
FUSE_PIDS=      # fusedelay servers: stopped after the loop devices over them
FUSE_MNTS=
PIDS=
CHILD_PIDS=     # disklinkd's children: killed only while they still run disklinkd
NODES=

cleanup() {
	rc=$?
	set +e
	${PRE_CLEANUP:-:}      # a test's own first steps (e.g. thaw a frozen device)
	for pid in $CHILD_PIDS; do
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$DISKLINKD")" ] || continue
		# one remembered at its start must still be that process (every
		# test's daemons run the same binary); others are taken as they are
		eval "_st=\${PID_START_$pid:-}"
		[ -n "$_st" ] || remember "$pid"
		PIDS="$PIDS $pid"
	done
	stop_pids
	# libqb leaves a killed daemon's blackbox in /dev/shm
	for pid in $PIDS; do rm -f "/dev/shm/qb-disklinkd-$pid-blackbox-header" "/dev/shm/qb-disklinkd-$pid-blackbox-data"; done
	for n in $NODES; do ip netns del "$NS_PREFIX$n" 2>/dev/null; done
	# LOOPDEV too when a test attached it itself
	case " $LOOPDEVS " in *" $LOOPDEV "*) ;; *) LOOPDEVS="$LOOPDEVS $LOOPDEV" ;; esac
	for dev in $LOOPDEVS; do losetup -d "$dev"; done
	fuse_stop
	${POST_CLEANUP:-:}     # a test's own last steps
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then dump_logs; fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dump_logs() {
	[ -n "${DUMPED:-}" ] && return
	DUMPED=1
	for f in "$WORK"/*.log "$WORK"/*.json; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") (last 40 lines)"
		tail -n 40 "$f"
	done
}

# stop_pids: SIGTERM every tracked process, SIGKILL it after 5 s; reap.
# Only while it is still the process that was tracked (ours): the pid of
# one that exited is soon another's (pid_max 32768 wraps within minutes
# while the tests run), a process of another test included.
stop_pids() {
	for pid in $PIDS; do
		ours "$pid" || continue
		# A stopped process cannot act on SIGTERM: continue it first.
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $PIDS; do
		for _ in $(seq 50); do ours "$pid" || break; sleep 0.1; done
		ours "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	if [ -z "$FUSE_PIDS" ]; then
		wait 2>/dev/null
	else
		# each by its pid: a fusedelay server still runs (the loop
		# devices over it go first)
		for pid in $PIDS; do wait "$pid" 2>/dev/null; done
	fi
	PIDS=
}

# pid_start, remember, ours, track: tests/pidtrack.sh
. "$top_srcdir/tests/pidtrack.sh"
untrack() { PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '); }

ns() { echo "$NS_PREFIX$1"; }
addr() { echo "127.77.0.$1"; }
in_node() { _n=$1; shift; ip netns exec "$(ns "$_n")" "$@"; }
# bg_in_node ID CMD...: in the background; LAST_PID is the command's own
# pid (`ip netns exec` execs it), so that it can be signalled and waited.
bg_in_node() {
	_n=$1; shift
	ip netns exec "$(ns "$_n")" "$@" &
	LAST_PID=$!
	track $LAST_PID
}

# make_volume SLOTS [SECTOR_SIZE [RING_BLOCKS]]: a loop device, formatted.
make_volume() {
	truncate -s 64M "$WORK/volume.img" || fail "cannot create the backing file"
	loop_attach --sector-size "${2:-512}" "$WORK/volume.img"
	"$DISKLINK" format "$LOOPDEV" --cluster relaytest --slots "$1" \
		--ring-blocks "${3:-1024}" > "$WORK/format.log" 2>&1 ||
		fail "formatting $LOOPDEV: $(cat "$WORK/format.log")"
}

# loop_attach [LOSETUP OPTIONS] FILE: a loop device over FILE, in LOOPDEV
# and LAST_LOOP.
loop_attach() {
	LAST_LOOP=$("$top_srcdir/tests/loop-attach" --find "$@") || skip "no loop device available"
	LOOPDEVS="$LOOPDEVS $LAST_LOOP"
	LOOPDEV=$LAST_LOOP
}

# slow_loop NAME READ_US WRITE_US: a loop device over $WORK/volume.img
# served through tests/fusedelay (mounted on $WORK/NAME) with that latency
# per read and per write: a slow array.  In LAST_LOOP, and in LOOPDEV for
# the first one.  Several such lanes over the one backing file are one
# volume whose nodes see different latencies.
FUSEDELAY=$top_builddir/tests/fusedelay/fusedelay
slow_loop() {
	[ -x "$FUSEDELAY" ] || skip "$FUSEDELAY is not built (libfuse3-dev; make -C tests fusedelay)"
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	command -v mountpoint >/dev/null 2>&1 || skip "mountpoint is not installed"
	[ -e "$WORK/volume.img" ] || truncate -s 64M "$WORK/volume.img" ||
		fail "cannot create the backing file"
	mkdir -p "$WORK/$1"
	"$FUSEDELAY" -f --read-delay-us "$2" --write-delay-us "$3" -o max_threads=16 \
		"$WORK/volume.img" "$WORK/$1" >> "$WORK/fusedelay-$1.log" 2>&1 &
	FUSE_PIDS="$FUSE_PIDS $!"
	FUSE_MNTS="$FUSE_MNTS $WORK/$1"
	for _ in $(seq 100); do
		mountpoint -q "$WORK/$1" && break
		kill -0 $! 2>/dev/null || fail "fusedelay did not mount $WORK/$1"
		sleep 0.1
	done
	mountpoint -q "$WORK/$1" || fail "fusedelay did not mount $WORK/$1 in 10 s"
	# direct I/O from the loop device to the FUSE file, as the benchmark
	# does; a buffered loop where the kernel refuses it (the FUSE file is
	# opened direct_io: no page cache either way)
	if ! _l=$("$top_srcdir/tests/loop-attach" --find --direct-io=on "$WORK/$1/volume" 2>/dev/null); then
		_l=$("$top_srcdir/tests/loop-attach" --find "$WORK/$1/volume") ||
			skip "no loop device available"
	fi
	LAST_LOOP=$_l
	LOOPDEVS="$LOOPDEVS $_l"
	: "${LOOPDEV:=$_l}"
	log "$_l: fusedelay $2 us per read, $3 us per write (loop direct I/O:" \
		"$(cat "/sys/block/${_l#/dev/}/loop/dio" 2>/dev/null || echo '?'))"
}

# fuse_stop: end the fusedelay servers (they unmount on SIGTERM).
fuse_stop() {
	for pid in $FUSE_PIDS; do kill -TERM "$pid" 2>/dev/null; done
	for pid in $FUSE_PIDS; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for m in $FUSE_MNTS; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	FUSE_PIDS=
	FUSE_MNTS=
}

# add_node ID: its namespace.
add_node() {
	ip netns add "$(ns "$1")" || fail "ip netns add $(ns "$1")"
	NODES="$NODES $1"
	in_node "$1" ip link set lo up
	in_node "$1" ip addr add "$(addr "$1")/32" dev lo
}

# start_daemon ID PEER_ID...: disklinkd inside the node's namespace.
start_daemon() {
	_id=$1; shift
	_peers=
	for _p in "$@"; do _peers="$_peers --peer $_p=$(addr "$_p")"; done
	rm -f "$WORK/ctl$_id.sock"
	# `ip netns exec` execs the program: $! is disklinkd's own pid.
	# DAEMON_ARGS: more options for every daemon (e.g. --config FILE).
	# shellcheck disable=SC2086
	ip netns exec "$(ns "$_id")" "$DISKLINKD" --device "$LOOPDEV" --node-id "$_id" \
		--port $PORT --local-addr "$(addr "$_id")" $_peers --foreground \
		--control "$WORK/ctl$_id.sock" --log-file "$WORK/disklinkd$_id.log" --debug \
		${DAEMON_ARGS:-} >> "$WORK/disklinkd$_id.out.log" 2>&1 &
	eval "DPID$_id=$!"
	track $!
	wait_status "$_id" 10 || fail "disklinkd of node $_id does not answer status"
	# Its children (the I/O child) are cleaned up too, should they outlive it.
	for _c in $(pgrep -P "$(daemon_pid "$_id")"); do CHILD_PIDS="$CHILD_PIDS $_c"; remember "$_c"; done
}

# wait_attached A B [SECONDS]: until each daemon has found the other's slot
# (a daemon starts reading a peer's ring after the newest block it finds
# there: what the peer wrote before that is not delivered).
wait_attached() {
	for _ in $(seq $((${3:-10} * 10))); do
		[ "$(peer_field "$1" "$2" slot 2>/dev/null)" -ge 0 ] 2>/dev/null &&
			[ "$(peer_field "$2" "$1" slot 2>/dev/null)" -ge 0 ] 2>/dev/null && return 0
		sleep 0.1
	done
	fail "disklinkd $1 and $2 did not find each other's slots in ${3:-10} s"
}

daemon_pid() { eval "echo \$DPID$1"; }

# status ID: `disklink status --json` of node ID's daemon.
status() { timeout 5 "$DISKLINK" status --json --socket "$WORK/ctl$1.sock"; }

wait_status() {
	for _ in $(seq $(($2 * 10))); do
		status "$1" > /dev/null 2>&1 && return 0
		if ! kill -0 "$(daemon_pid "$1")" 2>/dev/null; then
			wait "$(daemon_pid "$1")"
			echo "disklinkd of node $1 exited with status $?"
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# wait_until ID 'PYTHON EXPR over d' SECONDS: until node ID's status
# satisfies the expression (e.g. "d['generation'] > 1"); 1 on timeout.
wait_until() {
	for _ in $(seq $(($3 * 10))); do
		[ "$(status "$1" 2>/dev/null | json_get "bool($2)" 2>/dev/null)" = True ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_counter ID PEER FIELD MIN SECONDS: until a per-peer counter >= MIN.
wait_counter() {
	wait_until "$1" "[p for p in d['peers'] if p['node_id'] == $2][0]['$3'] >= $4" "$5"
}

# jq-like access: json_get 'EXPR' < json, EXPR in Python over `d`.
json_get() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# peer_field ID PEER FIELD: a per-peer status counter of node ID's daemon
# (dgrams_out: from the local knet, for the disk; dgrams_in: from the
# disk, to the local knet).
peer_field() {
	status "$1" | json_get "[p for p in d['peers'] if p['node_id'] == $2][0]['$3']"
}
top_field() { status "$1" | json_get "d['$2']"; }

# wait_peer_state ID PEER STATE SECONDS
wait_peer_state() {
	for _ in $(seq $(($4 * 10))); do
		[ "$(peer_field "$1" "$2" state 2>/dev/null)" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# stop_daemon ID [SECONDS]: SIGTERM, wait (bounded).  Fails when it
# hangs, or exits with a non-zero status (sanitizer reports included).
stop_daemon() {
	_pid=$(daemon_pid "$1")
	kill -TERM "$_pid" 2>/dev/null
	for _ in $(seq $((${2:-10} * 10))); do
		if ! kill -0 "$_pid" 2>/dev/null; then
			wait "$_pid"; _r=$?; untrack "$_pid"
			[ $_r = 0 ] && return 0
			echo "disklinkd of node $1 exited with status $_r after SIGTERM"
			return 1
		fi
		sleep 0.1
	done
	echo "disklinkd of node $1 still runs ${2:-10} s after SIGTERM"
	return 1
}

# device_has TEXT: 0 when the raw device holds TEXT (read with O_DIRECT,
# so that what the device holds is read, not a cached page).
device_has() {
	dd if="$LOOPDEV" iflag=direct bs=1M status=none | grep -a -F -q -- "$1"
}

# A 32-character marker unique to this run.
new_marker() { printf 'MRK%s%s' "$1" "$(head -c 64 /dev/urandom | sha256sum | cut -c1-32)" | cut -c1-32; }

# knet_peer_bg ID OUT PEER... [-- KNET_PEER_OPTIONS]: knet_peer in a node.
knet_peer_bg() {
	_id=$1; _out=$2; shift 2
	_peers=
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do _peers="$_peers --peer $1=$(addr "$1")"; shift; done
	[ $# -gt 0 ] && shift
	ip netns exec "$(ns "$_id")" "$KNET_PEER" --node-id "$_id" --port $PORT \
		--local-addr "$(addr "$_id")" $_peers "$@" > "$WORK/$_out.json" 2> "$WORK/$_out.log" &
	track $!
	LAST_PID=$!
}

# wait_pid PID SECONDS: exit status, or 124 after killing it on timeout.
wait_pid() {
	for _ in $(seq $(($2 * 10))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"; _r=$?; untrack "$1"; return $_r
		fi
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; untrack "$1"
	return 124
}
