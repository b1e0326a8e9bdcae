# Shared by the tests of ocf:disklink:disklink (sourced).
#
# Live tests re-execute themselves in a network namespace of their own
# (unshare -n, lo up): the daemon's loopback sockets and any Pacemaker IPC
# (abstract unix sockets) stay inside it.  Everything a test creates (loop
# devices, daemons, temporary files, the agent's install link) is removed
# on exit, whatever happened.

set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
AGENT=$top_srcdir/agent/disklink
DISKLINKD=$top_builddir/knet-transport/disklinkd
DISKLINK=$top_builddir/knet-transport/disklink
TEST=$(basename "$0" .sh)
CLUSTER=dltest
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
export OCF_ROOT

skip() { echo "SKIP: $TEST: $*"; exit 77; }
fail() { echo "FAIL: $TEST: $*"; dump_logs; exit 1; }
log() { echo "[$TEST $(date +%T)] $*"; }

[ -r "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs" ] ||
	skip "resource-agents' ocf-shellfuncs is not installed ($OCF_ROOT/lib/heartbeat)"

# need_live: root, loop devices, the built tools; then into a private
# network namespace.
need_live() {
	[ "$(id -u)" = 0 ] || skip "needs root (loop devices, network namespace)"
	for t in losetup unshare ip python3 timeout setsid; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
	done
	[ -x "$DISKLINK" ] || skip "$DISKLINK is not built"
	if [ -z "${DL_AGENT_NETNS:-}" ]; then
		trap - EXIT
		rm -rf "$WORK" "$AGENT_DIR"
		DL_AGENT_NETNS=1 exec unshare -n -- /bin/sh "$0" "$@"
	fi
	ip link set lo up || fail "cannot bring lo up in the test's namespace"
}

need_daemon() {
	[ -x "$DISKLINKD" ] || skip "$DISKLINKD is not built yet"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dl-agent.XXXXXX") || exit 1
# Pacemaker and ocf-tester also run the agent as other users (hacluster,
# nobody): they get a copy they can reach, whatever the checkout's modes.
AGENT_DIR=$(mktemp -d /var/tmp/dl-agent-bin.XXXXXX) || exit 1
chmod 755 "$AGENT_DIR"
install -m 755 "$AGENT" "$AGENT_DIR/disklink" || exit 1
# The agents' modules and shared helpers, found beside the agent (agent/dl-*).
for m in "$top_srcdir"/agent/dl-*; do
	install -m 644 "$m" "$AGENT_DIR/${m##*/}" || exit 1
done
AGENT=$AGENT_DIR/disklink
LOOPDEV=""
PIDS=""
AGENT_LINK=""       # what install_agent created: "link" or "bind"
AGENT_DST="$OCF_ROOT/resource.d/disklink/disklink"
export HA_RSCTMP="$WORK/rsctmp"
# The daemon's configuration file the agent reads its default mode from
# (dl-shellfuncs): the test's own, never the host's.
export DL_DAEMON_CONF="$WORK/disklink.conf"
mkdir -p "$HA_RSCTMP"

cleanup() {
	rc=$?
	set +e
	# Stop what the agent started (its state says which daemon).
	if [ -d "$HA_RSCTMP" ]; then
		for st in "$HA_RSCTMP"/disklink-*/state; do
			[ -f "$st" ] || continue
			pid=$(sed -n 's/^pid=//p' "$st")
			[ -n "$pid" ] && track "$pid"
		done
	fi
	# Only a process that is still the one tracked (ours): the pid of one
	# that exited is soon another's, another test's process included.
	for pid in $PIDS; do
		ours "$pid" || continue
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $PIDS; do
		for _ in $(seq 50); do ours "$pid" || break; sleep 0.1; done
		ours "$pid" || continue
		kill -KILL -- "-$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	done
	case "$AGENT_LINK" in
	link) rm -f "$AGENT_DST"; rmdir "$(dirname "$AGENT_DST")" 2>/dev/null ;;
	bind) umount "$AGENT_DST" ;;
	esac
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV"
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then dump_logs; fi
	rm -rf "$WORK" "$AGENT_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dump_logs() {
	[ -n "${DUMPED:-}" ] && return
	DUMPED=1
	for f in "$WORK"/*.log "$HA_RSCTMP"/disklink-*/disklinkd.err; do
		[ -s "$f" ] || continue
		echo "---- $f (last 40 lines)"
		tail -n 40 "$f"
	done
}

# pid_start, remember, ours, track: tests/pidtrack.sh
# shellcheck source=../pidtrack.sh
. "$top_srcdir/tests/pidtrack.sh"

# alive PID: the process exists and is not a zombie (a daemon the agent
# started is reparented to init, which may reap it late).
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# ours_left: pids (not zombies) of daemons with this test's control socket.
ours_left() {
	for p in $(pgrep -f -- "--control $CONTROL" 2>/dev/null); do
		alive "$p" && echo "$p"
	done
}

# make_loop: an unformatted 16 MiB loop device in LOOPDEV.
make_loop() {
	truncate -s 16M "$WORK/vol.img" || fail "truncate"
	LOOPDEV=$("$top_srcdir/tests/loop-attach" --find "$WORK/vol.img") || skip "cannot create a loop device"
}

# make_volume [SLOTS]: a loop device with a volume of cluster $CLUSTER.
make_volume() {
	make_loop
	"$DISKLINK" format "$LOOPDEV" --cluster "$CLUSTER" --slots "${1:-4}" \
		>"$WORK/format.log" 2>&1 || fail "disklink format: $(tail -n 1 "$WORK/format.log")"
}

# The agent's parameters for explicit mode (no corosync): node 1 on
# 127.77.0.1, peer 2, in this test's namespace.
PORT=5406
CONTROL="$WORK/disklinkd.sock"
set_params() {
	export OCF_RESOURCE_INSTANCE=dl
	export OCF_RESKEY_device="$LOOPDEV"
	export OCF_RESKEY_cluster="$CLUSTER"
	export OCF_RESKEY_node_id=1
	export OCF_RESKEY_local_addr=127.77.0.1
	export OCF_RESKEY_port=$PORT
	export OCF_RESKEY_peers="2=127.77.0.2"
	export OCF_RESKEY_control="$CONTROL"
	export OCF_RESKEY_binary="$DISKLINKD"
	export OCF_RESKEY_tool="$DISKLINK"
	ip addr add 127.77.0.1/32 dev lo 2>/dev/null
	ip addr add 127.77.0.2/32 dev lo 2>/dev/null
}

# ra EXPECTED ACTION: run the agent, check its exit status.
ra() {
	want=$1
	shift
	"$AGENT" "$@" >"$WORK/ra.out" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		cat "$WORK/ra.out"
		fail "agent $* exited $got, expected $want"
	fi
}

ra_out_has() { grep -q -- "$1" "$WORK/ra.out" || { cat "$WORK/ra.out"; fail "agent output lacks '$1'"; }; }

# The daemon the agent started, from its state file.
agent_pid() { sed -n 's/^pid=//p' "$HA_RSCTMP/disklink-dl/state" 2>/dev/null; }

# install_agent: make $AGENT what Pacemaker tools run as
# ocf:disklink:disklink (a link, or a bind mount over an installed copy).
install_agent() {
	# The same lock as tests/lab/dlagents.py's OcfAgents: tests running at
	# once never pull the agent from under each other.  Held until exit.
	mkdir -p /run/lock
	exec 9>/run/lock/disklink-test-ocf.lock
	flock -w 900 9 || fail "another test holds the OCF agent lock"
	# A test's link left by a crash: a bind mount would follow it.
	[ -L "$AGENT_DST" ] && rm -f "$AGENT_DST"
	if [ -e "$AGENT_DST" ]; then
		mount --bind "$AGENT" "$AGENT_DST" || fail "cannot bind-mount the agent"
		AGENT_LINK="bind"
	else
		mkdir -p "$(dirname "$AGENT_DST")"
		ln -s "$AGENT" "$AGENT_DST" || fail "cannot link the agent"
		AGENT_LINK="link"
	fi
}
