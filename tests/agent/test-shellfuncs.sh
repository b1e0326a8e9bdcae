#!/bin/sh
# shellcheck disable=SC2016 # the checks expand in the sh that sources the helpers
# The agents' shared helpers (agent/dl-shellfuncs) without a cluster:
# dl_status and dl_show read the tool's --shell output (a fake tool
# prints it, with a quote and a command substitution in the values) and
# refuse output that is not that (an older daemon's error line);
# dl_corosync_conf reads corosync.conf through `disklink corosync-conf`;
# dl_kv_get/dl_kv_set keep a state file.
. "$(dirname "$0")/lib.sh"
[ -x "$DISKLINK" ] || skip "$DISKLINK is not built"

cat >"$WORK/status" <<'EOT'
status_format_version='1'
status_node_id='1'
status_device='/dev/vol'
status_volume_uuid='0123'
status_cluster='lab'
status_device_state='failed'
status_device_error='it'\''s $(touch gotcha)`touch gotcha`'
status_role='secondary'
status_peer0_node_id='2'
status_peer0_state='up'
status_peer1_node_id='3'
status_peer1_state='down'
status_peer_count='2'
EOT
cat >"$WORK/show" <<'EOT'
show_format_version='1'
show_uuid='0123'
show_cluster='lab'
show_slot_count='4'
show_slot0_valid='true'
show_slot0_state='active'
show_slot0_node_id='2'
show_slot0_age_s='0.5'
show_slot1_valid='true'
show_slot1_state='free'
show_slot2_valid='false'
show_slot3_valid='true'
show_slot3_state='active'
show_slot3_node_id='1'
show_slot3_age_s='1.250'
EOT
cat >"$WORK/corosync.conf" <<'EOT'
totem {
    cluster_name: lab
    transport: knet
}
nodelist {
    node {
        ring0_addr: 10.0.0.1
        ring1_addr: 127.77.0.1
        nodeid: 1
    }
    node {
        ring0_addr: 10.0.0.2
        ring1_addr: 127.77.0.2
        nodeid: 2
    }
}
EOT
# The fake tool: FAKE_REPLY names the file status and show print.
cat >"$WORK/tool" <<EOT
#!/bin/sh
case "\$1" in
status) cat "\$FAKE_DIR/\${FAKE_STATUS:-status}" ;;
show) cat "\$FAKE_DIR/show" ;;
*) exec "$DISKLINK" "\$@" ;;
esac
EOT
chmod 755 "$WORK/tool"

# run SHELL-CODE: in a fresh sh with the helpers sourced, in $WORK.
run() {
	(cd "$WORK" && FAKE_DIR=$WORK OCF_RESKEY_tool=$WORK/tool \
		DL_COROSYNC_CONF=$WORK/corosync.conf sh -c \
		". \"$top_srcdir/agent/dl-shellfuncs\" && $1") || fail "$1"
}

run 'dl_status && [ "$ST_PEERS" = "2=up 3=down" ] && [ "$ST_STATE" = failed ] &&
	[ "$ST_ERROR" = "it'"'"'s \$(touch gotcha)\`touch gotcha\`" ] && [ "$ST_ROLE" = secondary ] &&
	[ "$ST_UUID" = 0123 ] && [ "$ST_NODE_ID" = 1 ]'
[ ! -e "$WORK/gotcha" ] || fail "a value was run as a command"
echo "error: unknown command 'status shell' (try 'status')" >"$WORK/old"
run '! FAKE_STATUS=old dl_status'
run 'dl_show /dev/vol 1 && [ "$SH_FREE" = 1 ] && [ "$SH_MY_SLOT" = 3 ] &&
	[ "$SH_MY_AGE" = 1.250 ] && [ "$SH_SLOTS" = 4 ] && [ "$SH_CLUSTER" = lab ]'
run 'dl_show /dev/vol "" && [ "$SH_FREE" = 1 ] && [ -z "$SH_MY_SLOT" ]'
run 'dl_corosync_conf && [ "$(dl_conf_cluster_name)" = lab ] &&
	[ "$(dl_conf_ring_addrs 1 | tr "\n" " ")" = "127.77.0.1 127.77.0.2 " ] &&
	[ -z "$(dl_conf_ring_addrs 2)" ]'
run '! DL_COROSYNC_CONF=/nonexistent dl_corosync_conf'
run 'dl_kv_set st role primary && dl_kv_set st primary dl2 && dl_kv_set st role secondary &&
	[ "$(dl_kv_get st role)" = secondary ] && [ "$(dl_kv_get st primary)" = dl2 ] &&
	[ -z "$(dl_kv_get st none)" ] && ! dl_kv_get nofile role'
echo "PASS: $TEST"
