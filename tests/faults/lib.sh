# Shared by the fault tests (sourced): tests/relay/lib.sh (namespaces, the
# loop device, disklinkd per node, status helpers, cleanup) plus what the
# fault tests add.
. "$(dirname "$0")/../relay/lib.sh"

TRAFFIC="/usr/bin/python3 $top_srcdir/tests/faults/traffic.py"

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
