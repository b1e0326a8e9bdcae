# Shared by the security tests (sourced): tests/relay/lib.sh (namespaces,
# the loop device, disklinkd per node, status helpers, cleanup) plus an
# unprivileged user: `as_nobody CMD...` runs CMD as nobody (setpriv, no
# supplementary groups), `as_member CMD...` as nobody with the status
# group (haclient) among its groups; NB_DISKLINK and NB_UDP are the copies
# of disklink and udp.py that nobody can reach, whatever the checkout's mode.
. "$(dirname "$0")/../relay/lib.sh"

command -v setpriv >/dev/null 2>&1 || skip "setpriv is not installed"
getent group haclient >/dev/null 2>&1 || skip "no group haclient (pacemaker's)"
# nobody must reach the work directory (control sockets, logs).
chmod 755 "$WORK"

# What runs as nobody runs from copies in $WORK/bin (mode 0755, removed
# with $WORK), never from the checkout or the build tree: a clone made by
# `mktemp -d` is mode 0700 and nobody cannot traverse it.  Run from /, so
# that no program of nobody's depends on reaching the current directory.
mkdir -p "$WORK/bin" && chmod 755 "$WORK/bin" &&
	install -m 755 "$DISKLINK" "$WORK/bin/disklink" &&
	install -m 644 "$RELAY_SRC/udp.py" "$WORK/bin/udp.py" ||
	fail "cannot copy the programs nobody runs into $WORK/bin"
NB_DISKLINK=$WORK/bin/disklink
NB_UDP="/usr/bin/python3 $WORK/bin/udp.py"

as_nobody() { (cd / && exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"); }
as_member() { (cd / && exec setpriv --reuid=nobody --regid=nogroup --groups=haclient "$@"); }
# in_node_as_nobody ID CMD...: inside node ID's namespace, as nobody.
in_node_as_nobody() {
	_n=$1; shift
	(cd / && exec ip netns exec "$(ns "$_n")" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$@")
}
# bg_in_node_as_nobody ID CMD...: the same in the background (LAST_PID:
# the command's own pid, tracked, as bg_in_node's).
bg_in_node_as_nobody() {
	_n=$1; shift
	(cd / && exec ip netns exec "$(ns "$_n")" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$@") &
	LAST_PID=$!
	track $LAST_PID
}
as_nobody test -x "$NB_DISKLINK" ||
	fail "nobody cannot reach $WORK/bin (TMPDIR=${TMPDIR:-/tmp}): set TMPDIR to a directory every user can traverse"
