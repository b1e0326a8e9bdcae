#!/bin/sh
# disklink release: frees the slot of a node that left; refuses while the
# node looks alive unless --force.
. "$top_srcdir/tests/tool/lib.sh"

scenario() {
	dev=$1
	format_small "$dev"

	# A node that stopped cleanly: released without --force.
	run 0 "$WRITER" "$dev" 3 gone stopped 3 0
	run 0 "$DISKLINK" release "$dev" --node-id 3 --interval 1
	out_has "Released slot 2 of node 3 (gone)"
	run 0 "$DISKLINK" show "$dev"
	out_has "Slot 2: free (previously used: generation 1, last seq 3)"
	run 7 "$DISKLINK" release "$dev" --node-id 3
	one_line_err "owned by node 3"
	# The next owner of the slot continues the sequence numbers.
	run 0 "$WRITER" "$dev" 3 back stopped 1 0
	out_has "slot 2 generation 2"
	run 0 "$DISKLINK" dump "$dev" --node-id 3
	out_has "seq 4 gen 2 node 3"

	# A node marked active with a fresh header: refused, then --force.
	run 0 "$WRITER" "$dev" 4 crashed active 2 0
	sum=$(digest "$dev")
	run 6 "$DISKLINK" release "$dev" --node-id 4 --interval 1
	one_line_err "node 4 is active on $dev"
	err_has "--force"
	[ "$(digest "$dev")" = "$sum" ] || fail "refused release modified the device"
	run 0 "$DISKLINK" release "$dev" --node-id 4 --force
	err_has "releasing anyway (--force)"
	out_has "Released slot 3 of node 4"

	# A node whose ring advances (marked stopped, but writing).
	"$WRITER" "$dev" 1 busy stopped 0 100 >/dev/null 2>"$TMPD/writer.err" &
	wpid=$!
	track "$wpid"
	# Wait until it has written its first block.
	n=0
	until "$DISKLINK" show "$dev" 2>/dev/null | grep -q "Slot 0: node 1 (busy)"; do
		n=$((n + 1))
		[ $n -lt 50 ] || fail "writer did not start: $(cat "$TMPD/writer.err")"
		sleep 0.1
	done
	run 6 "$DISKLINK" release "$dev" --node-id 1 --interval 1
	one_line_err "node 1 is still writing on $dev (its ring advanced from seq"
	run 0 "$DISKLINK" release "$dev" --node-id 1 --force
	kill "$wpid"; wait "$wpid" 2>/dev/null
	PIDS=""

	# Usage errors.
	run 1 "$DISKLINK" release "$dev"
	one_line_err "--node-id"
	run 1 "$DISKLINK" release "$dev" --node-id 70000
	one_line_err "invalid --node-id"
	run 1 "$DISKLINK" release "$dev" --node-id 1 --interval 0
	one_line_err "invalid --interval"
	run 2 "$DISKLINK" release "$dev" --node-id 1 --cluster other
	one_line_err "belongs to cluster 'c1', not 'other'"
}

run 0 "$DISKLINK" release --help
out_has "Usage: disklink release DEVICE --node-id ID"
for_each_target scenario
echo "PASS"
