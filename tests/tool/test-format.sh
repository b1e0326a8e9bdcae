#!/bin/sh
# disklink format: creation, what it prints, and every refusal (no write).
. "$top_srcdir/tests/tool/lib.sh"

scenario() {
	dev=$1 kind=$2 sector=$3

	# A blank device is formatted with the defaults.
	run 0 "$DISKLINK" format "$dev" --cluster alpha --slots 4
	out_has "uuid:"; out_has "cluster:      alpha"; out_has "slots:        4"
	out_has "block size:   4096"; out_has "ring blocks:  256"; out_has "bytes used:"
	uuid1=$(sed -n 's/^  uuid: *//p' "$OUT")
	run 0 "$DISKLINK" show "$dev" --json
	json_ok
	[ "$(json_get 'j["uuid"]')" = "$uuid1" ] || fail "show reports another uuid"
	[ "$(json_get 'j["slot_count"], j["ring_blocks"], j["kind"]')" = "(4, 256, 'shared')" ] ||
		fail "show disagrees with format"

	# A second format is refused and writes nothing.
	sum=$(digest "$dev")
	run 6 "$DISKLINK" format "$dev" --cluster beta --slots 2
	one_line_err "holds a disklink volume (uuid $uuid1, cluster 'alpha')"
	err_has "--force"
	[ "$(digest "$dev")" = "$sum" ] || fail "refused format modified the device"

	# --force overwrites it, with a new uuid and the given geometry.
	run 0 "$DISKLINK" format "$dev" --cluster beta --slots 2 --ring-blocks 40 \
		--kind send --force
	uuid2=$(sed -n 's/^  uuid: *//p' "$OUT")
	[ -n "$uuid2" ] && [ "$uuid2" != "$uuid1" ] || fail "uuid not renewed"
	out_has "kind:         send"; out_has "ring blocks:  40"
	run 0 "$DISKLINK" show "$dev"
	out_has "cluster:         beta"; out_has "kind:            send"

	# Block size and the device's sector size.
	if [ "$sector" -eq 4096 ]; then
		run 1 "$DISKLINK" format "$dev" --cluster c --slots 2 --block-size 512 --force
		one_line_err "not a multiple of $dev's logical sector size 4096"
	else
		run 0 "$DISKLINK" format "$dev" --cluster c --slots 2 --block-size 512 --force
		# 256 blocks of 512 bytes cannot hold two 64 KiB datagrams.
		out_has "ring blocks:  315"
	fi
	run 1 "$DISKLINK" format "$dev" --cluster c --slots 2 --block-size 3000 --force
	one_line_err "power of two"

	# Ring too short for the block size: the message names the minimum.
	run 1 "$DISKLINK" format "$dev" --cluster c --slots 2 --ring-blocks 10 --force
	one_line_err "use --ring-blocks 33 or more"

	# Device too small: the message says how large it must be.
	sum=$(digest "$dev")
	run 1 "$DISKLINK" format "$dev" --cluster c --slots 100 --force
	one_line_err "too small"
	err_has "needs 106090496"
	[ "$(digest "$dev")" = "$sum" ] || fail "failed format modified the device"

	# Option checks.
	run 1 "$DISKLINK" format "$dev" --slots 2
	one_line_err "--cluster"
	run 1 "$DISKLINK" format "$dev" --cluster c
	one_line_err "--slots"
	run 1 "$DISKLINK" format "$dev" --cluster c --slots 0
	one_line_err "invalid --slots"
	run 1 "$DISKLINK" format "$dev" --cluster c --slots 129
	one_line_err "invalid --slots"
	run 1 "$DISKLINK" format "$dev" --cluster "two words" --slots 2
	one_line_err "invalid cluster name"
	run 1 "$DISKLINK" format "$dev" --cluster c --slots 2 --kind mirror
	one_line_err "invalid --kind"
	if [ "$kind" = loop ]; then
		run 1 "$DISKLINK" format "$dev" --cluster c --slots 2 --sector-size 4096 --force
		one_line_err "regular files only"
	else
		run 0 "$DISKLINK" format "$dev" --cluster c --slots 2 --sector-size 4096 --force
		run 1 "$DISKLINK" format "$dev" --cluster c --slots 2 --sector-size 4096 \
			--block-size 1024 --force
		one_line_err "not a multiple"
	fi
}

# Help.
run 0 "$DISKLINK" format --help
out_has "Usage: disklink format DEVICE --cluster NAME --slots N"
for_each_target scenario
echo "PASS"
