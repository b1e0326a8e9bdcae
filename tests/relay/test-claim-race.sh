#!/bin/sh
# Four daemons start at the same instant on a 4-slot volume whose node
# ids (1, 5, 9, 13) all prefer slot 0: the slot claim (doc/format.md
# "Slot claim") gives each its own slot, none exits ("another disklinkd
# runs" is exit 4), and every pair exchanges datagrams.  Ten rounds, each
# on a freshly formatted volume.  Python UDP sockets stand in for knet.
# Needs root, losetup, unshare and python3: skips (77) otherwise.
set -u

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
DLD=$top_builddir/knet-transport/disklinkd
DL=$top_builddir/knet-transport/disklink
PY=/usr/bin/python3
PORT=5477
IDS="1 5 9 13"
ROUNDS=${DLD_CLAIM_ROUNDS:-10}

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (loop devices)"
command -v losetup >/dev/null 2>&1 || skip "needs losetup"
command -v unshare >/dev/null 2>&1 || skip "needs unshare"
[ -x "$PY" ] || skip "needs $PY"
[ -x "$DLD" ] && [ -x "$DL" ] || { echo "FAIL: build disklinkd and disklink first"; exit 1; }
if [ -z "${DLD_CLAIM_NETNS:-}" ]; then
	DLD_CLAIM_NETNS=1 exec unshare -n -- /bin/sh "$0" "$@"
fi
ip link set lo up || { echo "FAIL: cannot bring lo up in the test's namespace"; exit 1; }

T=$(mktemp -d /var/tmp/dld-claim.XXXXXX)
LOOP=
PIDS=
stop_all() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$p" 2>/dev/null
	done
	PIDS=
}
cleanup() {
	stop_all
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do echo "--- $f"; tail -15 "$f"; done; exit 1; }

truncate -s 64M "$T/vol.img"
LOOP=$("$top_srcdir/tests/loop-attach" --find "$T/vol.img") || skip "no loop device available"
cat >"$T/tun.conf" <<EOF
io_timeout_ms = 500
header_interval_ms = 300
stop_timeout_ms = 1000
abandon_ms = 0
EOF

# Node with index a (0..3): its knet end is 127.78.<a+1>.100, the disk-link
# address of peer id j there is 127.78.<a+1>.<j>.
net() { echo "127.78.$(($1 + 1))"; }
start_all() {
	mkfifo "$T/go"
	a=0
	for id in $IDS; do
		peers=
		for j in $IDS; do
			[ "$j" = "$id" ] || peers="$peers --peer $j=$(net $a).$j"
		done
		# shellcheck disable=SC2086
		sh -c 'read x <"$0"; exec "$@"' "$T/go" "$DLD" --device "$LOOP" \
			--node-id "$id" --node-name "n$id" --port "$PORT" \
			--local-addr "$(net $a).100" $peers --control "$T/n$id.sock" \
			--config "$T/tun.conf" --foreground >>"$T/n$id.log" 2>&1 &
		PIDS="$PIDS $!"
		a=$((a + 1))
	done
	sleep 0.3
	echo go >"$T/go"        # every reader of the fifo wakes at once
	rm -f "$T/go"
}
all_up() { # every daemon attached with every peer up; prints the slots
	for id in $IDS; do
		"$DL" status --json --socket "$T/n$id.sock" 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
v = d.get("volume", d)
assert all(p["state"] == "up" for p in d["peers"]) and len(d["peers"]) == 3
print(v["slot"])' || return 1
	done
}

cat >"$T/pairs.py" <<'EOF'
import socket, sys
P = int(sys.argv[1]); ids = [int(x) for x in sys.argv[2:]]
net = lambda a: "127.78.%d" % (a + 1)
socks = []
for a in range(len(ids)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((net(a) + ".100", P)); s.settimeout(0.2); socks.append(s)
want = {(a, b) for a in range(len(ids)) for b in range(len(ids)) if a != b}
for attempt in range(20):
    for (a, b) in want:
        socks[a].sendto(b"from %d to %d" % (ids[a], ids[b]), (net(a) + ".%d" % ids[b], P))
    for b, s in enumerate(socks):
        try:
            while True:
                data, src = s.recvfrom(2000)
                a = ids.index(int(data.split()[1]))
                assert data == b"from %d to %d" % (ids[a], ids[b]), data
                assert src == (net(b) + ".%d" % ids[a], P), (src, data)
                want.discard((a, b))
        except socket.timeout:
            pass
    if not want:
        sys.exit(0)
sys.exit("pairs that exchanged nothing: %s" % sorted((ids[a], ids[b]) for a, b in want))
EOF

r=1
while [ $r -le "$ROUNDS" ]; do
	"$DL" format "$LOOP" --cluster claim --slots 4 --force >/dev/null 2>&1 || fail "disklink format"
	start_all
	i=0
	while ! all_up >"$T/slots" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 150 ] || fail "round $r: not every daemon attached with its peers up"
		for p in $PIDS; do kill -0 "$p" 2>/dev/null || fail "round $r: a daemon exited"; done
		sleep 0.1
	done
	[ "$(sort -u "$T/slots" | wc -l)" = 4 ] || fail "round $r: slots $(tr '\n' ' ' <"$T/slots")"
	$PY "$T/pairs.py" "$PORT" $IDS || fail "round $r: datagrams"
	for p in $PIDS; do kill -0 "$p" 2>/dev/null || fail "round $r: a daemon exited"; done
	grep -h "claimed by node" "$T"/n*.log | tail -3
	echo "round $r: four daemons in slots $(sort "$T/slots" | tr '\n' ' ')ok"
	stop_all
	for id in $IDS; do mv "$T/n$id.log" "$T/round$r-n$id.txt"; done
	r=$((r + 1))
done
echo "PASS: $ROUNDS rounds of four simultaneous starts"
