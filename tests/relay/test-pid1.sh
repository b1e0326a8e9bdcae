#!/bin/sh
# disklinkd as PID 1 (a container's init): its I/O child's parent is PID
# 1, which is no sign that the parent died.  The daemon runs in a PID
# namespace of its own, attaches, its peer comes up, and the I/O child
# is not restarted over and over.  Python UDP sockets stand in for knet.
# Needs root, losetup, unshare and python3: skips (77) otherwise.
RELAY_KNET=no
RELAY_NETNS=own
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
PORT=5478

# node 1 is its namespace's init: unshare --kill-child ends it with
# unshare, which the cleanup stops; this is the backstop (it must never
# outlive the test).
POST_CLEANUP=pid1_backstop
pid1_backstop() { pkill -KILL -f -- "--control $WORK/ctl" 2>/dev/null; }

make_volume 4
cat >"$WORK/tun.conf" <<EOF
io_timeout_ms = 500
header_interval_ms = 300
stop_timeout_ms = 1000
restart_min_ms = 100
EOF

# node 1 is PID 1 of its own PID namespace (--kill-child: it ends with
# unshare, which the cleanup stops); node 2 runs as usual
unshare -p -f --kill-child=TERM -- "$DISKLINKD" --device "$LOOPDEV" --node-id 1 --node-name n1 \
	--port "$PORT" --local-addr 127.79.1.1 --peer 2=127.79.1.2 --control "$WORK/ctl1.sock" \
	--config "$WORK/tun.conf" --foreground >>"$WORK/n1.log" 2>&1 &
track $!
"$DISKLINKD" --device "$LOOPDEV" --node-id 2 --node-name n2 --port "$PORT" \
	--local-addr 127.79.2.2 --peer 1=127.79.2.1 --control "$WORK/ctl2.sock" \
	--config "$WORK/tun.conf" --foreground >>"$WORK/n2.log" 2>&1 &
track $!

jget() { status "$1" 2>/dev/null | json_get "$2" 2>/dev/null; }   # jget NODE EXPR
i=0
until [ "$(jget 1 "d['peers'][0]['state']")" = up ] &&
      [ "$(jget 2 "d['peers'][0]['state']")" = up ]; do
	i=$((i + 1))
	[ $i -lt 150 ] || fail "node 1 (PID 1) and node 2 do not see each other up"
	sleep 0.1
done
is_pid1=
for p in $(pgrep -f -- "--control $WORK/ctl1.sock"); do
	[ "$(awk '/^NSpid/ {print $NF}' "/proc/$p/status" 2>/dev/null)" = 1 ] && is_pid1=$p
done
[ -n "$is_pid1" ] || fail "node 1's daemon is not PID 1 of its namespace"
sleep 2
r=$(jget 1 "d.get('io_restarts', d.get('volume', {}).get('io_restarts'))")
[ "$r" = 0 ] || fail "node 1's I/O child was restarted ($r times)"
$PY - "$PORT" <<'EOF' || fail "datagrams between node 1 (PID 1) and node 2"
import socket, sys
P = int(sys.argv[1])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.79.1.1", P)); a.settimeout(3)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.79.2.2", P)); b.settimeout(3)
a.sendto(b"one-to-two", ("127.79.1.2", P))
d, src = b.recvfrom(100); assert d == b"one-to-two" and src == ("127.79.2.1", P), (d, src)
b.sendto(b"two-to-one", ("127.79.2.1", P))
d, src = a.recvfrom(100); assert d == b"two-to-one" and src == ("127.79.1.2", P), (d, src)
EOF
# A container runtime stops its init with SIGTERM (docker stop): the
# kernel drops a signal a namespace's init has no handler for, so
# disklinkd must still see it through its signalfd, stop cleanly, and
# leave nothing behind.
kill -TERM "$is_pid1"
i=0
while pgrep -f -- "--control $WORK/ctl1.sock" >/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "node 1's daemon (PID 1) ignored SIGTERM for 5 s"
	sleep 0.1
done
grep -q "Terminated: stopping" "$WORK/n1.log" || fail "node 1 did not stop on SIGTERM"
echo "PASS: disklinkd as PID 1 runs its I/O child and stops on SIGTERM"
