#!/bin/bash
# The disklink demo, from a fresh Debian 12 machine (run as root):
#   1. install the Debian packages (tools/install-deps.sh; DL_SKIP_DEPS=1 skips),
#   2. build disklink in $DL_BUILD (tools/build.sh; default <source>/build),
#   3. run tools/demo.py: a live 3-node Corosync/Pacemaker cluster in network
#      namespaces on this machine, whose link 1 runs through a shared loop
#      device (on dl0, disklinkd's TUN mode interface); node 1's network is
#      cut for 30 s and the membership holds, while node 2 pings node 1,
#      runs a command on it and sends it 10 MB over TCP through the disk.
# Everything is removed at the end (also on Ctrl-C).  Exit 0 if the
# membership held and node 1 was reachable over dl0, 1 if not.  Options go
# to demo.py (--hold S, --sector-size 512|4096, --keep-logs DIR,
# --mode tun|relay).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export DL_BUILD=${DL_BUILD:-$src/build}
if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (sudo $0): the demo creates namespaces and a loop device" >&2
	exit 1
fi
log=$(mktemp /tmp/disklink-demo-setup.XXXXXX.log)
trap 'rm -f "$log"' EXIT
run_quiet() {	# run a setup step, its output in $log, shown only on failure
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "demo.sh: '$*' failed (output above)" >&2
		exit 1
	fi
}
if [ "${DL_SKIP_DEPS:-0}" != 1 ]; then
	echo "== installing the Debian packages (tools/install-deps.sh) ..."
	run_quiet "$src/tools/install-deps.sh"
fi
echo "== building disklink in $DL_BUILD (tools/build.sh) ..."
run_quiet "$src/tools/build.sh"
# the CPG test client is a check program; build just it
run_quiet make -C "$DL_BUILD/tests" lab/cpg_client
echo "== starting the demo (tools/demo.py)"
rc=0
/usr/bin/python3 "$src/tools/demo.py" "$@" || rc=$?
exit "$rc"
