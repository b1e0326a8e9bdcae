#!/bin/sh
# Soak (make soak; not part of make check): three daemons, each node's
# stand-in knet sending SOAK_RATE datagrams/s (default 1000: 500 to each
# peer, byte-identical broadcasts as knet sends them) for SOAK_MINUTES
# (default 30).  Asserts: every datagram arrives intact, except losses the
# receiving daemon counted (overruns, lost_blocks, queue drops); the RSS of
# every daemon's parent and I/O child does not grow after the warm-up
# (SOAK_RSS_KB, default 2048 kB); all daemons stop cleanly.
. "$(dirname "$0")/lib.sh"

MINUTES=${SOAK_MINUTES:-30}
RATE=${SOAK_RATE:-1000}
RSS_BOUND=${SOAK_RSS_KB:-2048}
SECS=$(awk "BEGIN {print int($MINUTES * 60)}")
[ "$SECS" -ge 60 ] || fail "SOAK_MINUTES must be at least 1"
WARM=$((SECS / 10)); [ $WARM -ge 30 ] || WARM=30

make_volume 4
for n in 1 2 3; do add_node $n; done
start_daemon 1 2 3; start_daemon 2 1 3; start_daemon 3 1 2
wait_attached 1 2; wait_attached 1 3; wait_attached 2 3
MARK=$(new_marker K)
log "soak: 3 nodes, $RATE datagrams/s per node, $MINUTES min"
for n in 1 2 3; do
	traffic_bg $n traffic$n "$(awk "BEGIN {print $RATE / 2}")" "$SECS" --delay 2 --drain 5 \
		--stats-every 60
	eval "TPID$n=$LAST_PID"
done

sample() {    # sample TAG: RSS of every parent and child into $WORK/rss.TAG
	for n in 1 2 3; do
		echo "$n $(rss_kb "$(daemon_pid $n)") $(io_child $n) $(rss_kb "$(io_child $n)")"
	done > "$WORK/rss.$1"
	log "RSS $1: $(tr '\n' ';' < "$WORK/rss.$1")"
}

sleep $((WARM + 2))
sample warm
left=$((SECS - WARM + 10))
while [ $left -gt 0 ]; do
	step=60; [ $left -lt 60 ] && step=$left
	sleep $step; left=$((left - step))
	for n in 1 2 3; do kill -0 "$(daemon_pid $n)" || fail "disklinkd $n died"; done
	[ $left -gt 0 ] && sample "t$left"
done
sample end
for n in 1 2 3; do
	wait_pid "$(eval echo \$TPID$n)" 60 || fail "traffic of node $n: exit $? ($(cat "$WORK/traffic$n.log" | tail -3))"
done
for n in 1 2 3; do status $n > "$WORK/status$n.json"; done

rc=0
for n in 1 2 3; do
	for p in 1 2 3; do
		[ $p = $n ] && continue
		sent=$(pair_field traffic$p $n sent)
		got=$(pair_field traffic$n $p distinct)
		bad=$(pair_field traffic$n $p bad)
		counted=$(json_get "sum([p for p in d['peers'] if p['node_id'] == $p][0][k] for k in ('overruns', 'lost_blocks'))" < "$WORK/status$n.json")
		drops=$(json_get "d['tx_queue_drops'] + d['rx_queue_drops'] + d['io']['write_drops']" < "$WORK/status$n.json")
		pdrops=$(json_get "d['tx_queue_drops'] + d['io']['write_drops']" < "$WORK/status$p.json")
		lost=$((sent - got))
		log "$p -> $n: sent $sent, received $got distinct, corrupt $bad, lost $lost (receiver counted overruns+lost_blocks $counted, queue/write drops $drops; sender drops $pdrops)"
		[ "$bad" = 0 ] || { echo "corrupt datagrams delivered $p -> $n"; rc=1; }
		if [ $lost -ne 0 ] && [ "$counted" = 0 ] && [ "$drops" = 0 ] && [ "$pdrops" = 0 ]; then
			echo "$lost datagrams $p -> $n lost and not counted"; rc=1
		fi
	done
done
[ $rc = 0 ] || fail "datagrams lost or corrupted"

# RSS: the same child (else a restart happened: report it) and no growth.
while read -r n prss cpid crss; do
	set -- $(grep "^$n " "$WORK/rss.end")
	[ "$3" = "$cpid" ] || fail "node $n's I/O child changed during the soak ($cpid -> $3)"
	log "node $n: parent RSS $prss -> $2 kB, child RSS $crss -> $4 kB"
	[ $(($2 - prss)) -le "$RSS_BOUND" ] || fail "node $n's parent RSS grew by $(($2 - prss)) kB"
	[ $(($4 - crss)) -le "$RSS_BOUND" ] || fail "node $n's child RSS grew by $(($4 - crss)) kB"
done < "$WORK/rss.warm"
for n in 1 2 3; do
	log "node $n status: $(json_get "{k: d[k] for k in ('device_state', 'tx_queue_drops', 'rx_queue_drops')} | {'io': d['io']} | {'peers': [{k: p[k] for k in ('node_id', 'dgrams_in', 'overruns', 'lost_blocks', 'torn_skipped', 'invalid')} for p in d['peers']]}" < "$WORK/status$n.json")"
done
for n in 1 2 3; do stop_daemon $n || fail "disklinkd $n did not stop cleanly"; done
log PASS
