#!/bin/sh
# The agent's mode parameter (doc/agent.md, "TUN mode"), on a real volume
# with a real daemon in the test's own network namespace:
#  - validate-all: a bad mode and addresses outside 169.254.0.0/16 are
#    wrong everywhere (6); a mode that contradicts the daemon's
#    configuration file or the running daemon is wrong on this node (2);
#    an empty mode takes the file's; corosync.conf's ring addresses must
#    be the interface's in tun mode, loopback ones in relay mode;
#  - ocf-tester passes with mode=tun;
#  - start in tun mode: dl0 with 169.254.0.1/16 (the node id's address,
#    no local_addr given), the monitor publishes it as disklink-address,
#    fails when dl0 is down or lacks its address, and stop removes dl0.
. "$(dirname "$0")/lib.sh"
need_live "$@"
need_daemon
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

make_volume 4
set_params
export OCF_RESKEY_mode=tun OCF_RESKEY_local_addr="" OCF_RESKEY_peers="2=169.254.0.2"

log "validate-all in tun mode: no local_addr needed"
ra 0 validate-all

log "wrong everywhere: 6 (OCF_ERR_CONFIGURED)"
OCF_RESKEY_mode=tap ra 6 validate-all
ra_out_has "invalid mode 'tap': give relay or tun"
OCF_RESKEY_peers="2=127.77.0.2" ra 6 validate-all
ra_out_has "'2=127.77.0.2' is not an address in 169.254.0.0/16"
OCF_RESKEY_local_addr=10.0.0.1 ra 6 validate-all
OCF_RESKEY_mode=relay ra 6 validate-all
ra_out_has "also needs local_addr"

log "the daemon's configuration file: its mode is the default, a contradiction is 2"
printf '# the system daemon\nmode = relay   # knet on loopback\n' >"$DL_DAEMON_CONF"
ra 2 validate-all
ra_out_has "mode=tun but $DL_DAEMON_CONF has mode = relay"
OCF_RESKEY_mode="" ra 6 validate-all
ra_out_has "also needs local_addr"
printf 'mode = tun\n' >"$DL_DAEMON_CONF"
OCF_RESKEY_mode="" ra 0 validate-all
OCF_RESKEY_mode=relay OCF_RESKEY_local_addr=127.77.0.1 OCF_RESKEY_peers=2=127.77.0.2 \
	ra 2 validate-all
ra_out_has "has mode = tun"
printf 'mode = tap\n' >"$DL_DAEMON_CONF"
OCF_RESKEY_mode="" ra 2 validate-all
ra_out_has "invalid mode 'tap'"
rm -f "$DL_DAEMON_CONF"

log "corosync.conf's ring addresses follow the mode"
cat >"$WORK/corosync.conf" <<EOT
totem {
    cluster_name: $CLUSTER
    transport: knet
}
nodelist {
    node {
        ring0_addr: 10.0.0.1
        ring1_addr: 169.254.0.1
        nodeid: 1
    }
}
EOT
DL_COROSYNC_CONF="$WORK/corosync.conf" OCF_RESKEY_node_id="" OCF_RESKEY_cluster="" \
	ra 0 validate-all
DL_COROSYNC_CONF="$WORK/corosync.conf" OCF_RESKEY_node_id="" OCF_RESKEY_cluster="" \
	OCF_RESKEY_mode=relay ra 2 validate-all
ra_out_has "disklinkd serves loopback ring addresses"
sed -i 's/169.254.0.1/127.77.0.1/' "$WORK/corosync.conf"
DL_COROSYNC_CONF="$WORK/corosync.conf" OCF_RESKEY_node_id="" OCF_RESKEY_cluster="" \
	ra 2 validate-all
ra_out_has "in tun mode knet's link uses the interface's addresses"

if command -v ocf-tester >/dev/null 2>&1; then
	log "ocf-tester with mode=tun"
	ocf-tester -n dl \
		-o device="$LOOPDEV" -o cluster="$CLUSTER" -o node_id=1 -o mode=tun \
		-o port=$PORT -o peers=2=169.254.0.2 \
		-o control="$CONTROL" -o binary="$DISKLINKD" -o tool="$DISKLINK" \
		"$AGENT" >"$WORK/ocf-tester.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q "passed all tests" "$WORK/ocf-tester.log"; then
		cat "$WORK/ocf-tester.log"
		fail "ocf-tester with mode=tun exited $rc"
	fi
	ip link show dev dl0 >/dev/null 2>&1 && fail "dl0 left after ocf-tester's final stop"
else
	log "(ocf-tester is not installed: not run)"
fi

log "start in tun mode: dl0 up with the node id's address, published"
ra 0 start
ip -o -4 addr show dev dl0 | grep -q " inet 169.254.0.1/16 " || fail "dl0 lacks 169.254.0.1/16: $(ip -o addr show dev dl0 2>&1)"
ra 0 monitor
grep -qx "disklink-address=169.254.0.1" "$HA_RSCTMP/disklink-dl/attributes" ||
	fail "the monitor did not publish disklink-address: $(cat "$HA_RSCTMP/disklink-dl/attributes")"
OCF_CHECK_LEVEL=10 ra 0 monitor

log "another resource in relay mode finds the running tun daemon: 2"
OCF_RESOURCE_INSTANCE=other OCF_RESKEY_mode=relay OCF_RESKEY_local_addr=127.77.0.1 \
	OCF_RESKEY_peers=2=127.77.0.2 ra 2 validate-all
ra_out_has "runs in tun mode, not relay"

log "the monitor checks the interface"
ip link set dl0 down || fail "ip link set dl0 down"
ra 1 monitor
ra_out_has "the interface dl0 is down"
ip link set dl0 up || fail "ip link set dl0 up"
ra 0 monitor
ip addr del 169.254.0.1/16 dev dl0 || fail "ip addr del"
ra 1 monitor
ra_out_has "the interface dl0 lacks its address 169.254.0.1/16"
ip addr add 169.254.0.1/16 dev dl0 || fail "ip addr add"
ra 0 monitor

log "a mode change restarts the daemon (reload)"
pid=$(agent_pid)
OCF_RESKEY_mode=relay OCF_RESKEY_local_addr=127.77.0.1 OCF_RESKEY_peers=2=127.77.0.2 ra 0 reload
ra_out_has "restarting disklinkd"
[ "$(agent_pid)" != "$pid" ] || fail "the mode change did not restart the daemon"
ip link show dev dl0 >/dev/null 2>&1 && fail "dl0 still there in relay mode"
grep -q "disklink-address" "$HA_RSCTMP/disklink-dl/attributes" 2>/dev/null &&
	fail "disklink-address still published in relay mode"
OCF_RESKEY_mode=relay OCF_RESKEY_local_addr=127.77.0.1 OCF_RESKEY_peers=2=127.77.0.2 ra 0 monitor
ra 0 reload
ip -o -4 addr show dev dl0 | grep -q " inet 169.254.0.1/16 " || fail "no dl0 after the reload back to tun"

log "stop: dl0 goes away"
ra 0 stop
ip link show dev dl0 >/dev/null 2>&1 && fail "dl0 left after stop"
[ -z "$(ours_left)" ] || fail "a daemon of this test runs after stop"
echo "PASS: $TEST"
