#!/bin/sh
# The capability drop (doc/security.md): a running disklinkd, parent and
# I/O child, has no capability but CAP_NET_BIND_SERVICE (0x400, kept to
# bind a privileged link port) in its effective, permitted and bounding
# sets, empty inheritable and ambient sets and no_new_privs set, and
# still works: its
# child (re)opens the device, traffic flows, it stops cleanly.
. "$(dirname "$0")/lib.sh"

make_volume 4
add_node 1; add_node 2
start_daemon 1 2
start_daemon 2 1
wait_attached 1 2

check_caps() {    # check_caps PID WHAT
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		v=$(awk -v f="$f:" '$1 == f {print $2}' "/proc/$1/status")
		[ -n "$v" ] || fail "$2 ($1): no $f in /proc/$1/status"
		case "$f:$v" in
		CapInh:0000000000000000|CapAmb:0000000000000000) ;;
		CapPrm:0000000000000[04]00|CapEff:0000000000000[04]00|CapBnd:0000000000000[04]00) ;;
		*) fail "$2 ($1): $f is $v, not empty or CAP_NET_BIND_SERVICE alone" ;;
		esac
	done
	nnp=$(awk '$1 == "NoNewPrivs:" {print $2}' "/proc/$1/status")
	[ "$nnp" = 1 ] || fail "$2 ($1): NoNewPrivs is '$nnp'"
	uid=$(awk '$1 == "Uid:" {print $2}' "/proc/$1/status")
	log "$2 ($1): uid $uid, $(grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' "/proc/$1/status" | tr '\n\t' '  ')"
}
# The test itself is not capability-less (sanity: the check can fail).
[ "$(awk '$1 == "CapEff:" {print $2}' /proc/self/status | tr -d 0)" != "" ] ||
	skip "this shell has no capabilities: nothing to compare with"
for n in 1 2; do
	check_caps "$(daemon_pid $n)" "disklinkd $n"
	check_caps "$(io_child $n)" "disklinkd $n's I/O child"
done

# Still working without capabilities: traffic both ways, verified.
MARK=$(new_marker C)
traffic_bg 1 t1 100 3 --delay 1 --drain 2; t1=$LAST_PID
traffic_bg 2 t2 100 3 --delay 1 --drain 2; t2=$LAST_PID
wait_pid $t1 20 || fail "traffic of node 1 failed"
wait_pid $t2 20 || fail "traffic of node 2 failed"
for pair in "t1 2" "t2 1"; do
	set -- $pair
	got=$(pair_field $1 $2 distinct)
	[ "$got" -ge 250 ] || fail "$1 received only $got of 300 datagrams from node $2"
done

# A new I/O child, forked by the capability-less parent, reopens the
# device: kill the child, wait for its successor to serve.
old=$(io_child 1)
kill -KILL "$old"
for _ in $(seq 100); do
	new=$(io_child 1)
	[ -n "$new" ] && [ "$new" != "$old" ] && [ "$(top_field 1 device_state 2>/dev/null)" = ok ] && break
	sleep 0.1
done
[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new I/O child after killing $old"
[ "$(top_field 1 device_state)" = ok ] || fail "the new I/O child did not reopen the device: $(top_field 1 device_error)"
check_caps "$new" "disklinkd 1's new I/O child"
for n in 1 2; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
