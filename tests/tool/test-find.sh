#!/bin/sh
# disklink find, and the library's dl_volume_find_by_uuid: volumes on loop
# devices found by uuid and cluster.  Needs root and loop devices.
. "$top_srcdir/tests/tool/lib.sh"

FIND="$top_builddir/tests/tool/dl_test_find"
loop_attach "$(new_file a)" 512 || { echo "SKIP: needs root and loop devices"; exit 77; }
A=$LOOP
loop_attach "$(new_file b)" 4096 || fail "second loop device"
B=$LOOP

run 0 "$DISKLINK" format "$A" --cluster find-alpha-$$ --slots 2 --ring-blocks $RING
UA=$(sed -n 's/^  uuid: *//p' "$OUT")
run 0 "$DISKLINK" format "$B" --cluster find-beta-$$ --slots 2 --ring-blocks $RING
UB=$(sed -n 's/^  uuid: *//p' "$OUT")

run 0 "$DISKLINK" find
out_has "^$A  *$UA shared  *2 find-alpha-$$\$"
out_has "^$B  *$UB shared  *2 find-beta-$$\$"
run 0 "$DISKLINK" find --uuid "$UA"
out_has "^$A "; out_lacks "$B "
run 0 "$DISKLINK" find --cluster "find-beta-$$"
out_has "^$B "; out_lacks "$A "
run 7 "$DISKLINK" find --cluster "find-beta-$$" --uuid "$UA"
run 7 "$DISKLINK" find --cluster "find-gamma-$$"
one_line_err "no disklink volume matching found"
run 0 "$DISKLINK" find --json --uuid "$UB"
json_ok
[ "$(json_get '[(v["device"], v["uuid"], v["held"]) for v in j]')" = "[('$B', '$UB', False)]" ] ||
	fail "find --json"

# The library lookup the daemon uses for --device UUID=...
run 0 "$FIND" "$UA"
[ "$(cat "$OUT")" = "$A" ] || fail "dl_volume_find_by_uuid gave $(cat "$OUT")"
run 2 "$FIND" 01234567-89ab-cdef-0123-456789abcdef
err_has "ENOENT"

# The same volume seen through two devices is ambiguous.
backing=$(losetup -n -O BACK-FILE "$A" | sed 's/[[:space:]]*$//')
if C=$("$top_srcdir/tests/loop-attach" --find "$backing" 2>/dev/null); then
	LOOPS="$LOOPS $C"
	run 3 "$FIND" "$UA"
	err_has "ENOTUNIQ"
	loop_detach "$C"
fi

# A volume of a newer format is not listed, but named on stderr.
poke "$B" 8 '\003'
run 0 "$DISKLINK" find
out_lacks "$UB"
err_has "$B: disklink volume not usable (format version newer than this disklink); upgrade disklink"
run 7 "$DISKLINK" find --uuid "$UB"
echo "PASS"
