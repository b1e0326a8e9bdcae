#!/bin/sh
# test-claim-race.sh on a slow device (issue 18): the volume is a file
# served by tests/fusedelay under a loop device.
#  1. 2 ms per read and per write, for every node;
#  2. uneven: nodes 1, 5 and 9 at 2 ms, node 13 through a second
#     fusedelay mount of the same file at 1 ms per read and 60 ms per
#     write: its claim of slot 0 lands well after the others read theirs
#     back at once would have (the delta lease waits io_timeout_ms, 500
#     ms here, plus a header interval before it reads back).
# Ten rounds each (DLD_CLAIM_ROUNDS).  About 2 x 45 s.
# Skips (77) when fusedelay is not built (libfuse3-dev).
dir=$(dirname "$0")
DLD_CLAIM_LANES="2000/2000" /bin/sh "$dir/test-claim-race.sh" || exit $?
DLD_CLAIM_LANES="2000/2000 1000/60000" exec /bin/sh "$dir/test-claim-race.sh"
