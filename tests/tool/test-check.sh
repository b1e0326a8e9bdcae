#!/bin/sh
# disklink check: a consistent volume, then one kind of damage at a time,
# each with its documented exit status.
. "$top_srcdir/tests/tool/lib.sh"

fresh() {
	format_small "$1"
	run 0 "$WRITER" "$1" 1 n1 stopped 4 0
	run 0 "$WRITER" "$1" 2 n2 stopped 4 0
}

scenario() {
	dev=$1

	fresh "$dev"
	run 0 "$DISKLINK" check "$dev"
	out_has "superblock: ok"
	out_has "slot 0: node 1 (n1) stopped; ring: 4 valid, $((RING - 4)) empty, 0 torn"
	out_has "the volume is consistent (exit status 0)"
	out_has "slot 1 head: empty"
	run 0 "$DISKLINK" check "$dev" --quiet
	[ ! -s "$OUT" ] || fail "check --quiet printed on a good volume"

	# 4: a corrupt ring block.
	poke "$dev" $(($(block_off 1 2) + 150)) '\356'
	run 4 "$DISKLINK" check "$dev"
	out_has "slot 1 block 2: torn: checksum mismatch"
	out_has "ring problems"

	# 4: a head of the head area that does not decode (no daemon wrote
	# one here: the others are empty).
	fresh "$dev"
	poke "$dev" $(head_off 1) 'DLHDXXXX'
	run 4 "$DISKLINK" check "$dev"
	out_has "slot 1 head: torn (checksum mismatch"
	out_has "slot 0 head: empty"
	poke "$dev" $(head_off 1) 'xxxx'
	run 4 "$DISKLINK" check "$dev" --quiet
	out_has "slot 1 head: invalid"

	# 4: a valid block in the wrong place (seq 1 copied to index 3).
	fresh "$dev"
	dd if="$dev" of="$TMPD/blk" bs=$BS skip=$(($(block_off 0 1) / BS)) count=1 status=none
	dd if="$TMPD/blk" of="$dev" bs=$BS seek=$(($(block_off 0 3) / BS)) count=1 \
		conv=notrunc,fsync status=none
	run 4 "$DISKLINK" check "$dev"
	out_has "slot 0 block 3: misplaced: seq 1"

	# 3: one header copy damaged (the other still serves).
	fresh "$dev"
	poke "$dev" $(($(hdr_off 0 1) + 40)) 'XXXX'
	run 3 "$DISKLINK" check "$dev"
	out_has "slot 0: header copy B invalid: checksum mismatch"
	# 3 wins over 4 (the lowest status that applies).
	poke "$dev" $(($(block_off 1 2) + 150)) '\356'
	run 3 "$DISKLINK" check "$dev"
	out_has "slot 1 block 2: torn"
	# Both copies.
	poke "$dev" $(($(hdr_off 0 0) + 40)) 'XXXX'
	run 3 "$DISKLINK" check "$dev"
	out_has "slot 0: header INVALID: copy A"

	# 5: one node owns two slots.
	fresh "$dev"
	run 0 "$WRITER" "$dev" 2 n2 slot=3 0 0
	run 5 "$DISKLINK" check "$dev"
	out_has "node 2 owns slots 1 and 3"

	# 2: a superblock that does not verify.
	poke "$dev" 50 'Z'
	run 2 "$DISKLINK" check "$dev"
	one_line_err "checksum mismatch"
	run 1 "$DISKLINK" check "$dev" --bogus
	one_line_err "unknown option '--bogus'"
}

run 0 "$DISKLINK" check --help
for code in "0  the volume is consistent" "2  not a disklink volume" \
	    "3  slot header problems" "4  ring problems" "5  one node id owns several slots"; do
	out_has "$code"
done
for_each_target scenario
echo "PASS"
