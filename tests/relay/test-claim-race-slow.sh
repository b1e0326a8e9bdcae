#!/bin/sh
# test-claim-race.sh on a slow device (issue 18): the volume is a file
# served by tests/fusedelay under a loop device.
#  1. 2 ms per read and per write, for every node;
#  2. uneven: nodes 1, 5 and 9 at 2 ms, node 13 through a second
#     fusedelay mount of the same file at 2 ms per read and 150 ms per
#     write: it reads the free slot 0 when the others do, and its claim
#     lands over theirs 150 ms later, long after a claim read back at
#     once would have taken the slot (the delta lease waits io_timeout_ms,
#     500 ms here, plus a header interval before it reads back).  The
#     others lose slot 0 to node 13 in most rounds (the PASS line counts
#     the claims lost to it).
# Ten rounds each (DLD_CLAIM_ROUNDS).  About 2 x 40 s.
# Skips (77) when fusedelay is not built (libfuse3-dev).
dir=$(dirname "$0")
pid=
# a signal to this script ends the variant that runs (it cleans up)
trap '[ -n "$pid" ] && kill -TERM "$pid"' INT TERM
run() {
	DLD_CLAIM_LANES="$1" /bin/sh "$dir/test-claim-race.sh" &
	pid=$!
	wait "$pid"
	r=$?
	while kill -0 "$pid" 2>/dev/null; do wait "$pid"; r=$?; done
	pid=
	return $r
}
run "2000/2000" || exit $?
run "2000/2000 2000/150000"
