#!/bin/sh
# disklink format refuses, without writing, a device that holds an sbd
# header, a file system or a partition table, and a read-only device.
. "$top_srcdir/tests/tool/lib.sh"

refuse() {
	dev=$1 what=$2
	sum=$(digest "$dev")
	run 6 "$DISKLINK" format "$dev" --cluster c1 --slots 2
	one_line_err "$what"
	err_has "nothing was written"
	[ "$(digest "$dev")" = "$sum" ] || fail "refused format modified $dev"
}

scenario() {
	dev=$1 kind=$2

	# An sbd header ("SBD_SECT" at byte 0).
	run 0 "$DISKLINK" format "$dev" --cluster c1 --slots 2 --force
	poke "$dev" 0 'SBD_SECT\001\000'
	refuse "$dev" "an sbd header"
	run 0 "$DISKLINK" format "$dev" --cluster c1 --slots 2 --force
	err_has "overwriting (--force)"

	# An ext4 file system.
	mkfs.ext4 -q -F "$dev" >/dev/null 2>&1 || fail "mkfs.ext4 $dev (install e2fsprogs)"
	refuse "$dev" "type ext4"
	run 0 "$DISKLINK" format "$dev" --cluster c1 --slots 2 --force
	run 0 "$DISKLINK" show "$dev"

	# A DOS partition table (one Linux partition from sector 2048).
	dd if=/dev/zero of="$dev" bs=4096 count=16 conv=notrunc,fsync status=none
	poke "$dev" 446 '\000\000\000\000\203\000\000\000\000\010\000\000\000\010\000\000'
	poke "$dev" 510 '\125\252'
	refuse "$dev" "partition table of type dos"

	# A blank device needs no --force.
	dd if=/dev/zero of="$dev" bs=1M count=2 conv=notrunc,fsync status=none
	run 0 "$DISKLINK" format "$dev" --cluster c1 --slots 2

	if [ "$kind" = loop ]; then
		# Read-only: blockdev --setro, then a loop device attached with -r.
		blockdev --setro "$dev" || fail "blockdev --setro"
		sum=$(digest "$dev")
		run 1 "$DISKLINK" format "$dev" --cluster c1 --slots 2 --force
		one_line_err "read-only"
		run 1 "$DISKLINK" release "$dev" --node-id 1 --force
		one_line_err "read-only"
		[ "$(digest "$dev")" = "$sum" ] || fail "read-only device modified"
		blockdev --setrw "$dev"
		backing=$(losetup -n -O BACK-FILE "$dev" | sed 's/[[:space:]]*$//')
		LOOPS_SAVE=$LOOPS
		ro=$(losetup --find --show -r "$backing") || fail "losetup -r"
		LOOPS="$LOOPS $ro"
		run 1 "$DISKLINK" format "$ro" --cluster c1 --slots 2 --force
		one_line_err "read-only"
		run 0 "$DISKLINK" show "$ro"
		loop_detach "$ro"
		LOOPS=$LOOPS_SAVE
	fi
}

for_each_target scenario
echo "PASS"
