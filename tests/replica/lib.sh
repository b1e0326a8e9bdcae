# Shared by the replicated-pair tests (sourced after tests/relay/lib.sh's
# harness, which it sources): two nodes, each in its own network
# namespace, each writing its own send volume (R1, a loop device); the
# replicator (tests/replica/replicator.c, the stand-in for the storage
# array) mirrors each R1 to an R2 loop device at the peer's site; each
# disklinkd reads its peer through that mirror (--peer-device).  Loop
# devices, replicators and daemons are removed on exit, whatever happened.
#
#   node 1 writes R1a --replicator 1--> R2a, read by node 2
#   node 2 writes R1b --replicator 2--> R2b, read by node 1

# shellcheck source=../relay/lib.sh
. "$(dirname "$0")/../relay/lib.sh"

REPLICATOR=$top_builddir/tests/replica/replicator
[ -x "$REPLICATOR" ] || skip "$REPLICATOR is not built"

LOOPS=
POST_CLEANUP=replica_post_cleanup
replica_post_cleanup() {
	for _l in $LOOPS; do losetup -d "$_l" 2>/dev/null; done
}

# new_loop VAR: a 1 MiB loop device (file in $WORK), its path in $VAR.
new_loop() {
	truncate -s 1M "$WORK/$1.img" || fail "cannot create $WORK/$1.img"
	_l=$("$top_srcdir/tests/loop-attach" --find "$WORK/$1.img") || skip "no loop device available"
	LOOPS="$LOOPS $_l"
	eval "$1=$_l"
}

# format_send DEV: a node's send volume (one slot, a small ring).
format_send() {
	"$DISKLINK" format "$1" --cluster relaytest --kind send --slots 1 --ring-blocks 64 \
		--force > "$WORK/format.log" 2>&1 || fail "formatting $1: $(cat "$WORK/format.log")"
}

# start_replicator N SRC DST: mirror SRC to DST; its lag is $WORK/lagN
# (set_lag), its split file $WORK/splitN (split_mirror / heal_mirror).
start_replicator() {
	echo "${LAG0:-0}" > "$WORK/lag$1"
	"$REPLICATOR" --src "$2" --dst "$3" --lag-file "$WORK/lag$1" \
		--split-file "$WORK/split$1" --interval-ms 5 --pid-file "$WORK/replicator$1.pid" \
		2> "$WORK/replicator$1.log" &
	track $!
	eval "RPID$1=$!"
	for _ in $(seq 50); do [ -s "$WORK/replicator$1.pid" ] && return 0; sleep 0.1; done
	fail "replicator $1 did not start: $(cat "$WORK/replicator$1.log")"
}
set_lag() {
	echo "$2" > "$WORK/lag$1.new" && mv "$WORK/lag$1.new" "$WORK/lag$1"
	kill -USR1 "$(cat "$WORK/replicator$1.pid")"
}
split_mirror() { touch "$WORK/split$1"; }
heal_mirror() { rm -f "$WORK/split$1"; }

# The tunables of every daemon: short header interval (frozen after
# 3 x 300 ms), quick superblock re-checks.
write_tunables() {
	cat > "$WORK/tun.conf" <<EOT
header_interval_ms = 300
sb_check_ms = 500
io_timeout_ms = 2000
lag_warn_ms = 750
lag_max_ms = 1500
EOT
}

# start_mirror_daemon ID DEVICE PEER PEER_DEVICE: disklinkd of node ID
# writing DEVICE (its R1), reading PEER through PEER_DEVICE (R2).
start_mirror_daemon() {
	rm -f "$WORK/ctl$1.sock"
	ip netns exec "$(ns "$1")" "$DISKLINKD" --device "$2" --node-id "$1" --node-name "n$1" \
		--port $PORT --local-addr "$(addr "$1")" --peer "$3=$(addr "$3")" \
		--peer-device "$3=$4" --config "$WORK/tun.conf" --foreground \
		--control "$WORK/ctl$1.sock" --log-file "$WORK/disklinkd$1.log" --debug \
		>> "$WORK/disklinkd$1.out.log" 2>&1 &
	eval "DPID$1=$!"
	track $!
	wait_status "$1" 10 || fail "disklinkd of node $1 does not answer status"
	for _c in $(pgrep -P "$(daemon_pid "$1")"); do CHILD_PIDS="$CHILD_PIDS $_c"; remember "$_c"; done
}

# setup_pair: the two nodes, four loop devices, two replicators, two daemons.
setup_pair() {
	add_node 1; add_node 2
	new_loop R1A; new_loop R2A; new_loop R1B; new_loop R2B
	format_send "$R1A"
	format_send "$R1B"
	write_tunables
	start_replicator 1 "$R1A" "$R2A"
	start_replicator 2 "$R1B" "$R2B"
	start_mirror_daemon 1 "$R1A" 2 "$R2B"
	start_mirror_daemon 2 "$R1B" 1 "$R2A"
	wait_attached 1 2 15
}

# mirror ID PEER: the mirror state of PEER's path on node ID.
mirror() { peer_field "$1" "$2" mirror; }
wait_mirror() {
	for _ in $(seq $(($4 * 10))); do
		[ "$(mirror "$1" "$2" 2>/dev/null)" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
peer_json() { status "$1" | json_get "[p for p in d['peers'] if p['node_id'] == $2][0]"; }
