#!/bin/sh
# faults/test-stall.sh with io_engine = uring (issue #19): the I/O child
# abandoned on the frozen device exits at once, its io_uring requests
# still in flight on the loop device; the parent waits for them as for a
# child stuck in D state (the device's in-flight counters, supervise.c),
# so it abandons one child, not one after another, its back-off stays
# restart_min_ms and the link is back within 5 s of the recovery.
# Skips where io_uring cannot be used (built without liburing, or
# kernel.io_uring_disabled set).
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
grep -q '^#define HAVE_LIBURING 1' "$top_builddir/config.h" 2>/dev/null ||
	{ echo "SKIP: test-stall-uring: disklinkd is built without liburing"; exit 77; }
[ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ] ||
	{ echo "SKIP: test-stall-uring: io_uring is disabled (kernel.io_uring_disabled)"; exit 77; }
IO_ENGINE=uring
. "$(dirname "$0")/test-stall.sh"
