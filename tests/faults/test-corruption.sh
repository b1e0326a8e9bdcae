#!/bin/sh
# Torn writes and random corruption on a live link.  Node 1 sends numbered,
# checksummed datagrams to node 2 (200/s) while the ring is damaged:
# 1. Bit flips in blocks node 2 has not read yet (its I/O child held with
#    SIGSTOP for 1 s while node 1 writes; the damaged blocks are found with
#    `disklink dump --json` and overwritten with dd oflag=direct): their
#    datagrams are never delivered (every delivered datagram is verified
#    byte for byte), the damage is counted (torn_retries, torn_skipped,
#    invalid) and the link carries on (the datagrams after them arrive).
# 2. Torn-looking garbage written over blocks just ahead of the writer,
#    where the reader looks for the next block: retried, never delivered;
#    when the writer does not fill it within torn_limit polls the reader
#    skips it and counts it (torn_skipped), losing at most that block.
# Every lost datagram is accounted for by a counted block.
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2
MARK=$(new_marker T)
"$DISKLINK" show --json "$LOOPDEV" > "$WORK/show.json"
SLOT1=$(peer_field 2 1 slot)

# block_offsets 'PYTHON FILTER over b (a dump block)' COUNT: byte offsets of
# up to COUNT of node 1's ring blocks matching the filter, spread out.
block_offsets() {
	"$DISKLINK" dump --json --slot "$SLOT1" "$LOOPDEV" > "$WORK/dump.json" ||
		fail "disklink dump failed"
	/usr/bin/python3 - "$WORK/show.json" "$WORK/dump.json" "$SLOT1" "$1" "$2" <<'PY'
import json, sys
sb = json.load(open(sys.argv[1])); dump = json.load(open(sys.argv[2]))
slot, flt, count = int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
bs, rb, n = sb["block_size"], sb["ring_blocks"], sb["slot_count"]
region = max(4096, bs)
stride = 2 * region + rb * bs
slots_off = sb["volume_bytes"] - n * stride
blocks = [b for b in dump["blocks"] if b["class"] == "valid" and eval(flt, {"b": b, "rb": rb})]
blocks.sort(key=lambda b: b["seq"])
pick = blocks[1:-1:max(1, len(blocks) // (count + 1))][:count]
for b in pick:
    print(slots_off + slot * stride + 2 * region + b["index"] * bs, b["seq"])
PY
}
# smash OFFSET BYTES SKIP: random bytes over the device at OFFSET+SKIP.
smash() {
	# The sector holding the bytes is rewritten (O_DIRECT needs whole sectors).
	_sec=$(( ($1 + $3) / 512 * 512 ))
	dd if="$LOOPDEV" of="$WORK/sector" bs=512 skip=$((_sec / 512)) count=1 iflag=direct status=none
	head -c "$2" /dev/urandom | dd of="$WORK/sector" bs=1 seek=$(( ($1 + $3) % 512 )) conv=notrunc status=none
	dd if="$WORK/sector" of="$LOOPDEV" bs=512 seek=$((_sec / 512)) count=1 oflag=direct conv=notrunc status=none
}

traffic_bg 2 recv 0 14 --delay 0 --drain 3; RECV=$LAST_PID
traffic_bg 1 send 200 12 --delay 1 --drain 4; SEND=$LAST_PID
sleep 3
# --- 1. damage blocks the reader has not read yet
child2=$(io_child 2)
kill -STOP "$child2"
sleep 0.2
base=$("$DISKLINK" dump --json --slot "$SLOT1" "$LOOPDEV" | json_get "max(b['seq'] for b in d['blocks'] if b['class'] == 'valid')")
sleep 0.8
block_offsets "b['seq'] > $base" 4 > "$WORK/targets1"
[ -s "$WORK/targets1" ] || { kill -CONT "$child2"; fail "node 1 wrote no block while node 2's reader was held"; }
while read -r off seq; do smash "$off" 16 1200; log "flipped 16 bytes of block seq $seq (offset $off)"; done < "$WORK/targets1"
kill -CONT "$child2"
log "node 2's reader resumed"
sleep 2
# --- 2. garbage where the reader looks next, just ahead of the writer
for round in 1 2 3 4 5 6 7 8 9 10; do
	next=$("$DISKLINK" dump --json --slot "$SLOT1" "$LOOPDEV" | json_get "max(b['seq'] for b in d['blocks'] if b['class'] == 'valid')")
	# Blocks of the previous lap that the writer reaches within ~50 ms.
	block_offsets "(b['seq'] + rb) > $next + 2 and (b['seq'] + rb) <= $next + 12" 3 > "$WORK/targets2"
	while read -r off seq; do smash "$off" 512 0; done < "$WORK/targets2"
	sleep 0.2
done
wait_pid $SEND 40 || fail "the sender failed"
wait_pid $RECV 40 || fail "node 2 received corrupt datagrams: $(cat "$WORK/recv.json")"
sent=$(pair_field send 2 sent)
got=$(pair_field recv 1 distinct)
bad=$(pair_field recv 1 bad)
last=$(pair_field recv 1 max_seq)
status 2 > "$WORK/status2.json"
counted=$(json_get "[(p['torn_retries'], p['torn_skipped'], p['invalid'], p['lost_blocks']) for p in d['peers'] if p['node_id'] == 1][0]" < "$WORK/status2.json")
log "sent $sent, delivered $got intact, corrupt $bad, last seq $last; node 2 counted (torn_retries, torn_skipped, invalid, lost_blocks) = $counted"
[ "$bad" = 0 ] || fail "corrupt datagrams were delivered"
[ "$last" = $((sent - 1)) ] || fail "the link did not carry on: last datagram delivered $last of $((sent - 1))"
lost=$((sent - got))
[ $lost -ge 1 ] || fail "no datagram of the damaged blocks was lost: were they damaged before being read?"
[ $lost -le 100 ] || fail "$lost datagrams lost for 4 damaged blocks"
damage=$(json_get "[p['torn_retries'] + p['torn_skipped'] + p['invalid'] for p in d['peers'] if p['node_id'] == 1][0]" < "$WORK/status2.json")
[ "$damage" -ge 1 ] || fail "node 2 did not count the damaged blocks: $counted"
skipped=$(json_get "[p['torn_skipped'] + p['invalid'] + p['lost_blocks'] for p in d['peers'] if p['node_id'] == 1][0]" < "$WORK/status2.json")
[ "$skipped" -ge 1 ] || fail "node 2 lost datagrams without counting skipped blocks: $counted"
# A 4096-byte block holds at most 17 of these 220-byte records.
[ $lost -le $((skipped * 17)) ] || fail "$lost datagrams lost, more than $skipped counted blocks hold"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
