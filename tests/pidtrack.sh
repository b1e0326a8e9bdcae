# The processes a shell test started, named by pid and start time (sourced
# by tests/relay/lib.sh, tests/agent/lib.sh, tests/vnic/lib.sh and
# relay/test-daemon-smoke.sh).  A cleanup signals a tracked pid only while
# it is still that process: the pid of one that exited is soon another's
# (pid_max 32768 wraps within minutes while the tests run), another test's
# process included (faults/test-stale-pid.sh).
#
# pid_start PID: its start time (/proc/PID/stat field 22, clock ticks since
# boot; empty once it is gone).  remember PID: note it.  ours PID: PID is
# still the process remembered.  track PID: add it to $PIDS and remember it.
pid_start() { awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }
remember() { eval "PID_START_$1=$(pid_start "$1")"; }
ours() { eval "_st=\${PID_START_$1:-}"; [ -n "$_st" ] && [ "$(pid_start "$1")" = "$_st" ]; }
track() { PIDS="$PIDS $1"; remember "$1"; }
