#!/bin/sh
# validate-all on a real volume (loop device), no cluster, no daemon: the
# exit codes that tell Pacemaker "wrong everywhere" (6) from "wrong on this
# node" (5, 2, 1); corosync mode without corosync (corosync.conf read
# through `disklink corosync-conf`); and crm_resource --validate, as an
# operator runs it.
. "$(dirname "$0")/lib.sh"
need_live "$@"

make_volume 4
set_params
# validate-all checks that the daemon is installed, never runs it.
if [ ! -x "$DISKLINKD" ]; then
	printf '#!/bin/sh\nexit 2\n' >"$WORK/disklinkd" && chmod 755 "$WORK/disklinkd"
	OCF_RESKEY_binary="$WORK/disklinkd"
fi

log "a volume of this cluster, free slots"
ra 0 validate-all

log "parameters wrong everywhere: 6 (OCF_ERR_CONFIGURED)"
OCF_RESKEY_device="" ra 6 validate-all
ra_out_has "device parameter is required"
OCF_RESKEY_link=9 ra 6 validate-all
OCF_RESKEY_link=x ra 6 validate-all
OCF_RESKEY_format_blank=maybe ra 6 validate-all
OCF_RESKEY_slots=0 ra 6 validate-all
OCF_RESKEY_io_timeout_ms=fast ra 6 validate-all
OCF_RESKEY_peers="two" ra 6 validate-all

log "problems of this node: 5 (OCF_ERR_INSTALLED)"
OCF_RESKEY_device=/dev/disklink-test-nonexistent ra 5 validate-all
ra_out_has "does not exist"
OCF_RESKEY_cluster=other ra 5 validate-all
ra_out_has "not 'other'"
OCF_RESKEY_binary=/nonexistent/disklinkd ra 5 validate-all

log "a blank device: refused unless format_blank=true"
dd if=/dev/zero of="$LOOPDEV" bs=1M count=1 oflag=direct status=none || fail "wipe"
ra 5 validate-all
ra_out_has "format_blank"
OCF_RESKEY_format_blank=true ra 0 validate-all

log "a device with a file system is never formatted"
if command -v mkfs.ext4 >/dev/null 2>&1; then
	mkfs.ext4 -q -F "$LOOPDEV" >/dev/null 2>&1 || fail "mkfs.ext4"
	OCF_RESKEY_format_blank=true OCF_RESKEY_slots=2 ra 5 start
	ra_out_has "cannot format\\|no usable"
	python3 -c "import sys; d=open(sys.argv[1],'rb').read(2048); sys.exit(0 if d[1080:1082]==b'\x53\xef' else 1)" "$LOOPDEV" ||
		fail "the agent overwrote a file system"
fi

log "a full volume: no slot for this node"
"$DISKLINK" format "$LOOPDEV" --cluster "$CLUSTER" --slots 1 --force >/dev/null 2>&1 || fail "format 1 slot"
ra 0 validate-all
# Slot 0 taken by node 2 (the tool tests' writer claims it) leaves none
# for node 1.
WRITER=$top_builddir/tests/tool/dl_test_writer
if [ -x "$WRITER" ]; then
	"$WRITER" "$LOOPDEV" 2 n2 stopped 1 0 >"$WORK/writer.log" 2>&1 ||
		fail "dl_test_writer: $(cat "$WORK/writer.log")"
	ra 5 validate-all
	ra_out_has "no free slot"
	OCF_RESKEY_node_id=2 ra 0 validate-all
else
	log "($WRITER not built: full-volume case not run)"
fi

log "corosync mode without corosync: cluster and link from corosync.conf (disklink corosync-conf)"
conf() {
	cat >"$WORK/corosync.conf" <<EOT
totem {
    cluster_name: $1
    transport: knet
}
nodelist {
    node {
        ring0_addr: 10.0.0.1
        ring1_addr: $2
        nodeid: 1
    }
}
EOT
}
conf "$CLUSTER" 127.77.0.1
export DL_COROSYNC_CONF="$WORK/corosync.conf"
OCF_RESKEY_node_id="" OCF_RESKEY_cluster="" ra 0 validate-all
conf other 127.77.0.1
OCF_RESKEY_node_id="" OCF_RESKEY_cluster="" ra 5 validate-all
ra_out_has "not 'other'"
conf "$CLUSTER" 10.1.0.1
OCF_RESKEY_node_id="" OCF_RESKEY_cluster="" ra 2 validate-all
ra_out_has "ring1_addr 10.1.0.1 in $WORK/corosync.conf"
OCF_RESKEY_node_id="" OCF_RESKEY_cluster="" OCF_RESKEY_link=2 ra 2 validate-all
ra_out_has "has no ring2_addr"
unset DL_COROSYNC_CONF

log "crm_resource --validate without a cluster"
command -v crm_resource >/dev/null 2>&1 || skip "crm_resource is not installed"
"$DISKLINK" format "$LOOPDEV" --cluster "$CLUSTER" --slots 4 --force >/dev/null 2>&1 || fail "format"
install_agent
crmv() {
	crm_resource --validate --class ocf --provider disklink --agent disklink \
		--option device="$1" --option cluster="$CLUSTER" --option node_id=1 \
		--option local_addr=127.77.0.1 --option port=$PORT --option peers=2=127.77.0.2 \
		--option binary="$OCF_RESKEY_binary" --option tool="$DISKLINK" >"$WORK/crm.out" 2>&1
}
crmv "$LOOPDEV"
rc=$?
[ $rc -eq 0 ] || { cat "$WORK/crm.out"; fail "crm_resource --validate of a good volume exited $rc"; }
crmv /dev/disklink-test-nonexistent
rc=$?
[ $rc -ne 0 ] || { cat "$WORK/crm.out"; fail "crm_resource --validate of a missing device succeeded"; }
grep -q "does not exist" "$WORK/crm.out" || { cat "$WORK/crm.out"; fail "crm_resource does not show the exit reason"; }
echo "PASS: $TEST"
