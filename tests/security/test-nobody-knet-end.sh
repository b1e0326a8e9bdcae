#!/bin/sh
# An unprivileged user binds a node's knet end while knet does not hold it
# (explicit mode, an unprivileged port, nothing bound on 127.77.0.1:5406):
#  - the 20 datagrams nobody sends from it reach neither the peer's knet
#    nor the volume; they count as foreign_owner_drops (and foreign_drops);
#  - bound there and waiting, nobody receives nothing the peer sends,
#    which the peer's root-owned knet end, once root holds node 1's,
#    does receive (the check can fail);
#  - with the privileged-port variant (405), nobody cannot bind it at all.
# Failed first on the code before the owner check: 20 of 20 of nobody's
# datagrams reached node 2's knet end, and nobody received node 2's.
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
grep -q "link port $PORT is unprivileged" "$WORK/disklinkd1.log" ||
	fail "no warning about the unprivileged port $PORT"

# -- nobody sends from node 1's knet end -----------------------------------
BAD=$(new_marker N)
bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$BAD" --count 1 \
	--timeout 6 --ready "$WORK/ready" > "$WORK/recv-bad.json" 2> "$WORK/recv-bad.log"
rpid=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
# nobody's socket stays bound 2 s after sending, as a knet's would.
in_node_as_nobody 1 /usr/bin/python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$A1', $PORT))
for k in range(20):
    s.sendto(b'$BAD' + b'%04d' % k + b'x' * 150, ('$A2', $PORT))
time.sleep(2)" > "$WORK/send-bad.log" 2>&1 ||
	fail "nobody could not send from $A1:$PORT (the test's premise): $(cat "$WORK/send-bad.log")"
wait $rpid
got=$(json_get "d['received']" < "$WORK/recv-bad.json")
untrack $rpid
[ "$got" = 0 ] || fail "$got of nobody's datagrams reached node 2's knet end"
wait_until 1 "d['foreign_owner_drops'] >= 20" 5 ||
	fail "foreign_owner_drops of node 1: $(top_field 1 foreign_owner_drops), expected 20"
[ "$(peer_field 1 2 dgrams_out)" = 0 ] || fail "nobody's datagrams counted in dgrams_out"
grep -q "is a socket of uid 65534, not 0" "$WORK/disklinkd1.log" ||
	fail "the refusal is not logged with the uid"
device_has "$BAD" && fail "a datagram of nobody's was written to the volume"

# -- nobody waits on node 1's knet end for node 2's datagrams ---------------
SECRET=$(new_marker S)
bg_in_node_as_nobody 1 $NB_UDP recv \
	--bind "$A1:$PORT" --src "$A2:$PORT" --marker "$SECRET" --count 1 --timeout 6 \
	> "$WORK/recv-nobody.json" 2> "$WORK/recv-nobody.log"
npid=$LAST_PID
sleep 1
# The sender keeps its socket while it waits for an ack (none comes back:
# nobody does not ack), as knet keeps its own: its owner is seen.
in_node 2 $UDP send --src "$A2:$PORT" --dst "$A1:$PORT" --marker "$SECRET" --count 1 \
	--sizes 200 --ack --timeout 3 --retries 0 > "$WORK/send-secret.json" 2>&1
wait $npid
untrack $npid
got=$(json_get "d['received']" < "$WORK/recv-nobody.json")
[ "$got" = 0 ] || fail "nobody received $got of node 2's datagrams"
device_has "$SECRET" || fail "node 2's datagrams are not on the volume: the check cannot fail"
drops=$(peer_field 1 2 knet_send_drops 2>/dev/null || echo "?")
log "node 1 refused to deliver to nobody (send_drops $drops)"

# -- root's knet end on node 1 gets them (the checks above can fail) --------
GOOD=$(new_marker G)
bg_in_node 1 $UDP recv --bind "$A1:$PORT" --src "$A2:$PORT" --marker "$GOOD" --count 1 \
	--timeout 15 > "$WORK/recv-good.json" 2> "$WORK/recv-good.log"
gpid=$LAST_PID
sleep 1
in_node 2 $UDP send --src "$A2:$PORT" --dst "$A1:$PORT" --marker "$GOOD" --count 1 \
	--sizes 200 --ack --timeout 3 --retries 0 > "$WORK/send-good.json" 2>&1
wait_pid $gpid 20 || fail "root's knet end did not get node 2's datagram: $(cat "$WORK/recv-good.json")"

# -- the privileged-port variant: nobody cannot bind it ---------------------
if in_node_as_nobody 1 /usr/bin/python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$A1', 405))" \
	2> "$WORK/bind405.log"; then
	fail "nobody could bind $A1:405"
fi
grep -q "Permission denied" "$WORK/bind405.log" || fail "bind 405: $(cat "$WORK/bind405.log")"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log "PASS"
