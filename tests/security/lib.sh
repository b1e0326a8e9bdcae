# Shared by the security tests (sourced): tests/relay/lib.sh (namespaces,
# the loop device, disklinkd per node, status helpers, cleanup) plus an
# unprivileged user: `as_nobody CMD...` runs CMD as nobody (setpriv, no
# supplementary groups), `as_member CMD...` as nobody with the status
# group (haclient) among its groups.
. "$(dirname "$0")/../relay/lib.sh"

command -v setpriv >/dev/null 2>&1 || skip "setpriv is not installed"
getent group haclient >/dev/null 2>&1 || skip "no group haclient (pacemaker's)"
# nobody must reach the work directory (control sockets, logs).
chmod 755 "$WORK"

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_member() { setpriv --reuid=nobody --regid=nogroup --groups=haclient "$@"; }
# in_node_as_nobody ID CMD...: inside node ID's namespace, as nobody.
in_node_as_nobody() { _n=$1; shift; in_node "$_n" setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
