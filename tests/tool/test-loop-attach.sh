#!/bin/sh
# tests/loop-attach: a loop device left read-only by an earlier user
# (blockdev --setro survives losetup -d) is writable again once attached
# through it.  Before loop-attach, tests attached with plain losetup and a
# leftover flag failed them with "Operation not permitted".
set -u
. "$(dirname "$0")/lib.sh"
need_root_loop() { [ "$(id -u)" -eq 0 ] && command -v losetup >/dev/null 2>&1; }
if ! need_root_loop; then
	echo "SKIP: needs root and losetup"
	exit 77
fi
truncate -s 1M "$TMPD/a.img" "$TMPD/b.img"
dev=$(losetup --find) || fail "no free loop device"
losetup "$dev" "$TMPD/a.img" || fail "losetup $dev"
LOOPS="$LOOPS $dev"
blockdev --setro "$dev" || fail "blockdev --setro"
losetup -d "$dev" || fail "losetup -d"
LOOPS=""
# The same device, as a later test would get it.
dev2=$("$top_srcdir/tests/loop-attach" "$dev" "$TMPD/b.img") || fail "loop-attach $dev"
LOOPS="$LOOPS $dev2"
[ "$(blockdev --getro "$dev2")" = 0 ] || fail "$dev2 is still read-only"
dd if=/dev/zero of="$dev2" bs=4096 count=1 oflag=direct 2>"$TMPD/dd.err" ||
	fail "writing $dev2: $(cat "$TMPD/dd.err")"
echo "PASS: a leftover read-only flag is cleared"
