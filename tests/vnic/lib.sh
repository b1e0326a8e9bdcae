# Shared by the TUN mode live tests test-vnic-tun.sh and test-vnic-ipv6.sh
# (sourced): the paths, the checks that skip (77), the loop device, three
# network namespaces and their cleanup, a TUN mode daemon per node, the
# wait for the first ping over dl0, and real libknet over dl0.
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
DLD=$top_builddir/knet-transport/disklinkd
DL=$top_builddir/knet-transport/disklink
KNET_PEER=$top_builddir/tests/relay/knet_peer
PORT=5406

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
in_ns() { _n=$1; shift; ip netns exec "$NS$_n" "$@"; }
# track, ours (the cleanup signals only our processes): tests/pidtrack.sh
. "$top_srcdir/tests/pidtrack.sh"

# vnic_need TOOL...: root, the tools, /dev/net/tun and the build, or skip.
vnic_need() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, loop devices, /dev/net/tun)"
	for t in losetup ip ping socat sha256sum "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "needs $t"
	done
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	[ -x "$DLD" ] && [ -x "$DL" ] || { echo "FAIL: build disklinkd and disklink first"; exit 1; }
}

vnic_cleanup() {
	# A bad input that started a daemon after all: stop it too.
	[ -s "$T/bad.pid" ] && track "$(cat "$T/bad.pid")"
	for p in $PIDS; do ours "$p" && kill -KILL "$p" 2>/dev/null; done
	sleep 0.2
	for n in 1 2 3; do ip netns del "$NS$n" 2>/dev/null; done
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	rm -rf "$T"
}

# vnic_setup TAG CLUSTER [CONF_LINE...]: $T (a temp dir), namespaces
# $NS1..3 with lo up, a 64 MiB loop device $LOOP formatted for CLUSTER,
# and $T/tun.conf (the short timeouts plus CONF_LINEs); all removed on exit.
vnic_setup() {
	_tag=$1 _cluster=$2; shift 2
	T=$(mktemp -d "/var/tmp/dl-$_tag.XXXXXX")
	NS=dl${_tag#vnic}v$$n
	LOOP=
	PIDS=
	trap vnic_cleanup EXIT
	trap 'exit 1' INT TERM
	truncate -s 64M "$T/vol.img"
	LOOP=$("$top_srcdir/tests/loop-attach" --find "$T/vol.img") || skip "no loop device available"
	"$DL" format "$LOOP" --cluster "$_cluster" --slots 4 >/dev/null || fail "disklink format"
	printf 'io_timeout_ms = 500\nstop_timeout_ms = 1000\nheader_interval_ms = 300\n' \
		>"$T/tun.conf"
	for _l in "$@"; do printf '%s\n' "$_l" >>"$T/tun.conf"; done
	for n in 1 2 3; do
		ip netns add "$NS$n" || fail "ip netns add"
		in_ns $n ip link set lo up
	done
}

# start ID PEER [extra args]: a TUN mode daemon in the node's namespace
# ($LAST: its pid; `ip netns exec` execs the program).
start() {
	_id=$1 _peer=$2; shift 2
	ip netns exec "$NS$_id" "$DLD" --device "$LOOP" --node-id "$_id" --port $PORT --mode tun \
		--peer "$_peer=169.254.0.$_peer" --node-name "n$_id" --config "$T/tun.conf" \
		--control "$T/ctl$_id.sock" -f "$@" >"$T/d$_id.log" 2>&1 &
	LAST=$!
	track "$LAST"
}

# vnic_first_ping ADDR [PING_OPTION...]: node 1 pings ADDR over dl0
# within 20 s, or the test fails.
vnic_first_ping() {
	_to=$1; shift
	for _ in $(seq 100); do
		in_ns 1 ping "$@" -c1 -W1 "$_to" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "no ping $* from node 1 to $_to over dl0 within 20 s"
}

# vnic_knet ADDR1 ADDR2 COUNT WHAT: real libknet (crypto on) between
# nodes 1 and 2 on their dl0 addresses, COUNT messages checked byte for
# byte (PMTUD included); a note when knet_peer is not built.
vnic_knet() {
	_a1=$1 _a2=$2 _count=$3 _what=$4
	if [ ! -x "$KNET_PEER" ]; then
		echo "note: $KNET_PEER is not built: knet over $_what not checked"
		return 0
	fi
	ip netns exec "${NS}1" "$KNET_PEER" --node-id 1 --port $PORT --local-addr "$_a1" \
		--peer "2=$_a2" --count "$_count" --timeout 30 >"$T/knet1.json" 2>"$T/knet1.log" &
	_kp1=$!
	ip netns exec "${NS}2" "$KNET_PEER" --node-id 2 --port $PORT --local-addr "$_a2" \
		--peer "1=$_a1" --count "$_count" --timeout 30 >"$T/knet2.json" 2>"$T/knet2.log" &
	_kp2=$!
	track "$_kp1"; track "$_kp2"
	wait "$_kp1" || fail "knet over $_what (node 1): $(cat "$T/knet1.json")"
	wait "$_kp2" || fail "knet over $_what (node 2): $(cat "$T/knet2.json")"
	echo "ok: libknet over $_what: $(cut -c1-160 "$T/knet1.json")"
}
