#!/bin/sh
# The largest UDP datagrams (65507 bytes) and sizes around block
# boundaries cross the relay intact: each is spread over consecutive
# blocks on the volume and reassembled by the reader.  The loop device has
# 4096-byte sectors (the knet tests use 512-byte ones).
. "$(dirname "$0")/lib.sh"

SECTOR=${RELAY_SECTOR:-4096}
make_volume 4 "$SECTOR"
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
A1=$(addr 1); A2=$(addr 2)
MARK=$(new_marker F)
SIZES=65507,48,4000,4096,8191,65507,12289,65507,32768,65506
COUNT=30

bg_in_node 2 $UDP recv --bind "$A2:$PORT" --src "$A1:$PORT" --marker "$MARK" --count $COUNT \
	--timeout 60 --ack --ready "$WORK/ready" > "$WORK/recv.json" 2> "$WORK/recv.log"
rpid=$LAST_PID
for _ in $(seq 50); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
in_node 1 $UDP send --src "$A1:$PORT" --dst "$A2:$PORT" --marker "$MARK" --count $COUNT \
	--sizes "$SIZES" --ack --timeout 5 --retries 0 \
	> "$WORK/send.json" 2> "$WORK/send.log" || fail "sender: $(cat "$WORK/send.json")"
wait_pid $rpid 30 || fail "receiver: $(cat "$WORK/recv.json")"
r=$WORK/recv.json
[ "$(json_get "d['distinct']" < "$r")" = $COUNT ] || fail "receiver: $(cat "$r")"
[ "$(json_get "d['bad'] + d['dups']" < "$r")" = 0 ] || fail "receiver: $(cat "$r")"
log "sent $(cat "$WORK/send.json"), received $(json_get "{k: d[k] for k in d if k != 'seqs'}" < "$r")"
log "node 2 status: $(status 2)"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
