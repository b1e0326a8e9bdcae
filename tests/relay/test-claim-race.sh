#!/bin/sh
# Four daemons start at the same instant on a 4-slot volume whose node
# ids (1, 5, 9, 13) all prefer slot 0: the slot claim (doc/format.md
# "Slot claim") gives each its own slot, none exits ("another disklinkd
# runs" is exit 4), and every pair exchanges datagrams.  Ten rounds, each
# on a freshly formatted volume.  Python UDP sockets stand in for knet.
#
# The device: a RAM loop device, or, with DLD_CLAIM_LANES="R/W [R/W]"
# (microseconds per read/write; test-claim-race-slow.sh), a slow device: a
# loop device over tests/fusedelay.  A second lane is a second fusedelay
# mount of the same backing file, used by the last node only: its claim
# lands later than the others' (delta-lease, doc/design.md).
# DLD_CLAIM_ROUNDS: the number of rounds (10).
# Needs root, losetup, unshare and python3 (and fusedelay for the lanes):
# skips (77) otherwise.
RELAY_KNET=no
RELAY_NETNS=own
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
PORT=5477
IDS="1 5 9 13"
ROUNDS=${DLD_CLAIM_ROUNDS:-10}

# dev_of ID: the device node ID uses.
if [ -z "${DLD_CLAIM_LANES:-}" ]; then
	truncate -s 64M "$WORK/volume.img" || fail "cannot create the backing file"
	loop_attach "$WORK/volume.img"
	LAST_DEV=$LOOPDEV
else
	lane=0
	for d in $DLD_CLAIM_LANES; do
		slow_loop "lane$lane" "${d%/*}" "${d#*/}"
		LAST_DEV=$LAST_LOOP
		lane=$((lane + 1))
	done
fi
LAST_ID=${IDS##* }
dev_of() { if [ "$1" = "$LAST_ID" ]; then echo "$LAST_DEV"; else echo "$LOOPDEV"; fi; }

cat >"$WORK/tun.conf" <<EOF
io_timeout_ms = 500
header_interval_ms = 300
stop_timeout_ms = 1000
abandon_ms = 0
EOF

# Node with index a (0..3): its knet end is 127.78.<a+1>.100, the disk-link
# address of peer id j there is 127.78.<a+1>.<j>.
net() { echo "127.78.$(($1 + 1))"; }
start_all() {
	mkfifo "$WORK/go"
	a=0
	for id in $IDS; do
		peers=
		for j in $IDS; do
			[ "$j" = "$id" ] || peers="$peers --peer $j=$(net $a).$j"
		done
		# shellcheck disable=SC2086
		sh -c 'read x <"$0"; exec "$@"' "$WORK/go" "$DISKLINKD" --device "$(dev_of "$id")" \
			--node-id "$id" --node-name "n$id" --port "$PORT" \
			--local-addr "$(net $a).100" $peers --control "$WORK/ctl$id.sock" \
			--config "$WORK/tun.conf" --foreground >>"$WORK/n$id.log" 2>&1 &
		track $!
		a=$((a + 1))
	done
	sleep 0.3
	echo go >"$WORK/go"        # every reader of the fifo wakes at once
	rm -f "$WORK/go"
}
all_up() { # every daemon attached with every peer up; prints the slots
	for id in $IDS; do
		status "$id" 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
v = d.get("volume", d)
assert all(p["state"] == "up" for p in d["peers"]) and len(d["peers"]) == 3
print(v["slot"])' || return 1
	done
}

cat >"$WORK/pairs.py" <<'EOF'
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

t0=$(date +%s)
late=0      # claims the others lost to the last node (the late one on two lanes)
r=1
while [ $r -le "$ROUNDS" ]; do
	"$DISKLINK" format "$LOOPDEV" --cluster claim --slots 4 --force >/dev/null 2>&1 ||
		fail "disklink format"
	start_all
	i=0
	while ! all_up >"$WORK/slots" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 150 ] || fail "round $r: not every daemon attached with its peers up"
		for p in $PIDS; do kill -0 "$p" 2>/dev/null || fail "round $r: a daemon exited"; done
		sleep 0.1
	done
	[ "$(sort -u "$WORK/slots" | wc -l)" = 4 ] || fail "round $r: slots $(tr '\n' ' ' <"$WORK/slots")"
	$PY "$WORK/pairs.py" "$PORT" $IDS || fail "round $r: datagrams"
	for p in $PIDS; do kill -0 "$p" 2>/dev/null || fail "round $r: a daemon exited"; done
	grep -h "claimed by node" "$WORK"/n*.log | tail -3
	echo "round $r: four daemons in slots $(echo $IDS | tr ' ' '\n' | paste -d: - "$WORK/slots" |
		sed 's/^/node /; s/:/ slot /' | tr '\n' ' ')ok"
	late=$((late + $(cat "$WORK"/n*.log | grep -c "was claimed by node $LAST_ID ")))
	stop_pids
	for id in $IDS; do mv "$WORK/n$id.log" "$WORK/round$r-n$id.txt"; done
	r=$((r + 1))
done
echo "PASS: $ROUNDS rounds of four simultaneous starts${DLD_CLAIM_LANES:+ (fusedelay lanes $DLD_CLAIM_LANES)} in $(($(date +%s) - t0)) s; $late claims lost to node $LAST_ID"
