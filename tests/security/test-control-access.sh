#!/bin/sh
# The control socket against local users (a running disklinkd):
#  - 10 silent connections (more than the old 8 slots, and they send
#    nothing): `disklink status` still answers within 2 s;
#  - a member of the status group (nobody with haclient) reads
#    `disklink status`; `disklink role` as that member is refused;
#  - nobody without the group cannot connect.
# Failed first on the code before this change: the 8 silent connections
# locked status out (it timed out), and the socket was 0600 (the member
# got "Permission denied").
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
start_daemon 1 2
SOCK=$WORK/ctl1.sock

# -- silent clients ----------------------------------------------------------
/usr/bin/python3 - "$SOCK" "$WORK/silent.ready" <<'PY' &
import socket, sys, time
socks = []
for _ in range(10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    socks.append(s)
open(sys.argv[2], "w").close()
time.sleep(8)
PY
spid=$!
track $spid
for _ in $(seq 50); do [ -e "$WORK/silent.ready" ] && break; sleep 0.1; done
[ -e "$WORK/silent.ready" ] || fail "the silent clients could not connect"
t0=$(date +%s%N)
timeout 2 "$DISKLINK" status --socket "$SOCK" > "$WORK/status-busy.txt" 2>&1 ||
	fail "status did not answer within 2 s with 10 silent clients: $(cat "$WORK/status-busy.txt")"
log "status answered in $(( ($(date +%s%N) - t0) / 1000000 )) ms beside 10 silent clients"
kill $spid 2>/dev/null; wait $spid 2>/dev/null; untrack $spid

# -- a member of the status group --------------------------------------------
as_member timeout 5 "$NB_DISKLINK" status --socket "$SOCK" > "$WORK/member-status.txt" 2>&1 ||
	fail "a member of haclient cannot read status: $(cat "$WORK/member-status.txt")"
grep -q "node 1" "$WORK/member-status.txt" || fail "member's status: $(cat "$WORK/member-status.txt")"
if as_member timeout 5 "$NB_DISKLINK" role --socket "$SOCK" secondary > "$WORK/member-role.txt" 2>&1; then
	fail "a member of haclient changed the role: $(cat "$WORK/member-role.txt")"
fi
grep -q "only root may change the role" "$WORK/member-role.txt" ||
	fail "member's role refusal: $(cat "$WORK/member-role.txt")"
# root may (the answer is the daemon's, not a refusal)
timeout 10 "$DISKLINK" role --socket "$SOCK" secondary > "$WORK/root-role.txt" 2>&1
grep -q "permission denied" "$WORK/root-role.txt" && fail "root's role refused: $(cat "$WORK/root-role.txt")"

# -- anyone else ---------------------------------------------------------------
if as_nobody timeout 5 "$NB_DISKLINK" status --socket "$SOCK" > "$WORK/nobody-status.txt" 2>&1; then
	fail "nobody without the group read status"
fi
# refused by the socket's mode, not for any other reason (a program nobody
# cannot run fails too)
grep -q "cannot reach disklinkd at $SOCK: Permission denied" "$WORK/nobody-status.txt" ||
	fail "nobody's status failed otherwise: $(head -1 "$WORK/nobody-status.txt")"
log "nobody: $(head -1 "$WORK/nobody-status.txt")"
stop_daemon 1 || fail "disklinkd 1 did not stop cleanly"
log "PASS"
