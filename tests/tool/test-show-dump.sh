#!/bin/sh
# disklink show and dump: owners, states, sequence numbers, records, and
# slots or blocks that are invalid (shown, never a crash).
. "$top_srcdir/tests/tool/lib.sh"

scenario() {
	dev=$1
	format_small "$dev"
	run 0 "$DISKLINK" show "$dev"
	[ "$(grep -c ': free$' "$OUT")" -eq 4 ] || fail "a fresh volume has 4 free slots"

	# Node 1 writes 5 blocks and stays "active" (as a crashed daemon);
	# node 2 writes 3 and stops cleanly.
	run 0 "$WRITER" "$dev" 1 alpha-1 active 5 0
	out_has "slot 0 generation 1"
	run 0 "$WRITER" "$dev" 2 alpha-2 stopped 3 0
	out_has "slot 1 generation 1"
	run 0 "$DISKLINK" show "$dev"
	out_has "Slot 0: node 1 (alpha-1)"; out_has "Slot 1: node 2 (alpha-2)"
	out_has "state:           active"; out_has "state:           stopped"
	out_has "last seq:        5"; out_has "newest block:    seq 5 (index 5, generation 1"
	out_has "last write:      20"; out_has "s ago)"
	out_has "Slot 2: free"

	run 0 "$DISKLINK" show "$dev" --json
	json_ok
	[ "$(json_get '[(s["node_id"], s["state"], s["last_seq"], s.get("newest_seq")) for s in j["slots"]]')" = \
	  "[(1, 'active', 5, 5), (2, 'stopped', 3, 3), (0, 'free', 0, None), (0, 'free', 0, None)]" ] ||
		fail "show --json slots"

	# The node restarts: a new generation, sequence numbers go on.
	run 0 "$WRITER" "$dev" 1 alpha-1 active 2 0
	out_has "slot 0 generation 2"
	run 0 "$DISKLINK" dump "$dev" --slot 0
	out_has "Slot 0 of $dev: node 1 (alpha-1), active"
	out_has "Head: empty"
	out_has "seq 7 gen 2 node 1 written 20"
	out_has "rec 0: FIRST|LAST dgram 0 len 100 frag 0+100 dst 2"
	out_has "Blocks: 7 valid, $((RING - 7)) empty, 0 torn"
	out_lacks "empty  "
	run 0 "$DISKLINK" dump "$dev" --node-id 2 --all
	out_has "Slot 1 of $dev: node 2"
	[ "$(grep -c ' empty ' "$OUT")" -eq $((RING - 3)) ] || fail "--all lists empty blocks"
	run 0 "$DISKLINK" dump "$dev" --slot 0 --json
	json_ok
	[ "$(json_get 'j["counts"]["valid"], [b["seq"] for b in j["blocks"]][:3], j["blocks"][0]["records"][0]["dst"]')" = \
	  "(7, [1, 2, 3], [2])" ] || fail "dump --json"

	# A torn block (a byte changed inside its records).
	poke "$dev" $(($(block_off 0 3) + 150)) '\356'
	run 0 "$DISKLINK" dump "$dev" --slot 0
	out_has "     3  torn      checksum mismatch"
	out_has "Blocks: 6 valid, $((RING - 7)) empty, 1 torn"

	# A slot whose two header copies are both damaged.
	poke "$dev" $(($(hdr_off 2 0) + 40)) 'XXXX'
	poke "$dev" $(($(hdr_off 2 1) + 40)) 'XXXX'
	run 0 "$DISKLINK" show "$dev"
	out_has "Slot 2: INVALID header (copy A: checksum mismatch (corrupt or torn write); copy B: checksum mismatch"
	out_has "Slot 3: free"
	run 0 "$DISKLINK" show "$dev" --json
	json_ok
	[ "$(json_get 'j["slots"][2]["valid"]')" = "False" ] || fail "invalid slot in JSON"
	run 0 "$DISKLINK" dump "$dev" --slot 2
	out_has "header invalid"

	# Wrong selections.
	run 7 "$DISKLINK" dump "$dev" --node-id 9
	one_line_err "owned by node 9"
	run 1 "$DISKLINK" dump "$dev" --slot 4
	one_line_err "slots 0 to 3"
	run 1 "$DISKLINK" dump "$dev"
	one_line_err "exactly one of --slot N and --node-id ID"
	run 1 "$DISKLINK" dump "$dev" --slot 0 --node-id 1
	one_line_err "exactly one"
}

run 0 "$DISKLINK" show --help
out_has "Usage: disklink show DEVICE"
run 0 "$DISKLINK" dump --help
out_has "Usage: disklink dump DEVICE"
for_each_target scenario
echo "PASS"
