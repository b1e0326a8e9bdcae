#!/bin/sh
# resource-agents' ocf-tester against a real volume on a loop device, with
# a disklinkd that the agent starts itself (explicit mode: no corosync).
# ocf-tester runs meta-data (DTD), validate-all, probes, start, monitor,
# start twice, stop twice, reload.
. "$(dirname "$0")/lib.sh"
need_live "$@"
need_daemon
command -v ocf-tester >/dev/null 2>&1 || skip "ocf-tester (resource-agents) is not installed"

make_volume 4
set_params

ocf-tester -n dl \
	-o device="$LOOPDEV" -o cluster="$CLUSTER" -o node_id=1 \
	-o local_addr=127.77.0.1 -o port=$PORT -o peers=2=127.77.0.2 \
	-o control="$CONTROL" -o binary="$DISKLINKD" -o tool="$DISKLINK" \
	"$AGENT" >"$WORK/ocf-tester.log" 2>&1
rc=$?
cat "$WORK/ocf-tester.log"
[ $rc -eq 0 ] || fail "ocf-tester exited $rc"
grep -q "passed all tests" "$WORK/ocf-tester.log" || fail "ocf-tester did not pass all tests"

# Everything stopped again: no daemon of ours, no state.
[ ! -e "$HA_RSCTMP/disklink-dl/state" ] || fail "state left after ocf-tester's final stop"
if pgrep -f "disklinkd.*--control $CONTROL" >/dev/null; then
	fail "a disklinkd of this test still runs after stop"
fi
echo "PASS: $TEST"
