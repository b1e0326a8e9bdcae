#!/bin/sh
# Bad input to every command: a one-line error naming the problem and the
# fix, a non-zero exit, no crash, and no write to the device.
. "$top_srcdir/tests/tool/lib.sh"

# Every reading command on DEV fails with STATUS and MESSAGE; DEV unchanged.
all_refuse() {
	dev=$1 status=$2 msg=$3
	sum=$(digest "$dev")
	run "$status" "$DISKLINK" show "$dev"; one_line_err "$msg"
	run "$status" "$DISKLINK" show "$dev" --json; one_line_err "$msg"
	run "$status" "$DISKLINK" dump "$dev" --slot 0; one_line_err "$msg"
	run "$status" "$DISKLINK" check "$dev"; one_line_err "$msg"
	run "$status" "$DISKLINK" release "$dev" --node-id 1 --force; one_line_err "$msg"
	[ "$(digest "$dev")" = "$sum" ] || fail "a refused command modified $dev"
}

# reseal_version DEV V: set the superblock's format version to V and seal
# it with a valid CRC32C again (a volume as an older disklink made it).
reseal_version() {
	python3 - "$1" "$2" <<'PY' || fail "reseal_version $1"
import os, struct, sys
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
fd = os.open(sys.argv[1], os.O_RDWR)
sb = bytearray(os.pread(fd, 256, 0))
struct.pack_into("<I", sb, 8, int(sys.argv[2]))
struct.pack_into("<I", sb, 252, crc32c(bytes(sb[:252])))
os.pwrite(fd, bytes(sb), 0)
os.fsync(fd)
os.close(fd)
PY
}

scenario() {
	dev=$1

	# Garbage.
	head -c 1048576 /dev/urandom | dd of="$dev" conv=notrunc,fsync status=none
	all_refuse "$dev" 2 "holds no disklink volume"
	# Zeros.
	dd if=/dev/zero of="$dev" bs=1M count=1 conv=notrunc,fsync status=none
	all_refuse "$dev" 2 "create one with 'disklink format'"

	# A superblock of a future format version (only the version changed).
	format_small "$dev"
	poke "$dev" 8 '\003'
	all_refuse "$dev" 2 "created by a newer disklink (format version 3"
	err_has "upgrade disklink"
	run 6 "$DISKLINK" format "$dev" --cluster c1 --slots 2
	one_line_err "holds a disklink volume"
	# A volume of an older format version (version 1, checksum resealed):
	# refused, nothing written, the fix named; --force reformats it.
	format_small "$dev"
	reseal_version "$dev" 1
	all_refuse "$dev" 2 "created by an older disklink (format version 1, this one uses 2)"
	err_has "reformat it with 'disklink format --force'"
	run 6 "$DISKLINK" format "$dev" --cluster c1 --slots 2
	one_line_err "holds a disklink volume (format version older than this disklink)"
	run 0 "$DISKLINK" format "$dev" --cluster c1 --slots 2 --force
	run 0 "$DISKLINK" check "$dev"
	# A damaged superblock (a flag changed without its checksum).
	format_small "$dev"
	poke "$dev" 24 '\001'
	all_refuse "$dev" 2 "unreadable disklink superblock (checksum mismatch"

	# A volume of another cluster, for commands that take --cluster.
	format_small "$dev" alpha
	run 2 "$DISKLINK" show "$dev" --cluster beta
	one_line_err "belongs to cluster 'alpha', not 'beta'"
	run 2 "$DISKLINK" check "$dev" --cluster beta
	one_line_err "belongs to cluster 'alpha'"
	run 0 "$DISKLINK" check "$dev" --cluster alpha
}

truncated() {
	f=$(new_file trunc 8M)
	format_small "$f"
	truncate -s 512K "$f"
	all_refuse "$f" 2 "smaller (524288 bytes) than the volume its superblock describes"
	truncate -s 1K "$f"
	run 2 "$DISKLINK" show "$f"
	one_line_err "too small"
}

missing() {
	for cmd in "show" "dump --slot 0" "check" "release --node-id 1"; do
		# shellcheck disable=SC2086
		run 1 "$DISKLINK" $cmd "$TMPD/does-not-exist"
		one_line_err "no such device"
	done
	run 1 "$DISKLINK" format "$TMPD/does-not-exist" --cluster c --slots 2
	one_line_err "no such device"
	run 1 "$DISKLINK" show "$TMPD"
	one_line_err "not a block device or regular file"
}

usage_errors() {
	f=$(new_file usage)
	for cmd in format show dump check release find; do
		run 1 "$DISKLINK" $cmd --no-such-option
		one_line_err "unknown option '--no-such-option'"
		err_has "disklink $cmd --help"
		run 1 "$DISKLINK" $cmd -Z
		one_line_err "unknown option '-Z'"
		run 0 "$DISKLINK" $cmd --help
		out_has "Usage: disklink $cmd"
	done
	for cmd in show dump check release; do
		run 1 "$DISKLINK" $cmd
		one_line_err "no DEVICE given"
	done
	run 1 "$DISKLINK" show "$f" "$f"
	one_line_err "unexpected argument"
	run 1 "$DISKLINK" show "$f" --cluster
	one_line_err "option '--cluster' needs a value"
	run 1 "$DISKLINK" find --uuid not-a-uuid
	one_line_err "invalid --uuid"
	run 1 "$DISKLINK" find /dev/sda
	one_line_err "takes no DEVICE"
	run 1 "$DISKLINK" no-such-command
	one_line_err "unknown command"
	run 1 "$DISKLINK"
	run 0 "$DISKLINK" --help
	for cmd in format show dump check release find; do out_has "  $cmd "; done
}

usage_errors
missing
truncated
for_each_target scenario
echo "PASS"
