#!/bin/sh
# TUN mode live test (doc/vnic.md): two network namespaces, a disklinkd in
# TUN mode in each, one loop device.  Checks: dl0 comes up with the plan's
# addresses; ping both ways; a 10 MB TCP transfer (socat) arrives with the
# same checksum while pings keep going; tcpdump -i dl0 sees the packets
# (when installed); the status shows the interface; real libknet runs on
# the dl0 addresses (PMTUD, checked messages); a
# killed daemon leaves no interface and its address becomes unreachable
# (ICMP) for the peer within a bounded time; each bad input (name taken,
# address on the host, no /dev/net/tun, no CAP_NET_ADMIN, bad mode) gets
# its one-line error and leaves no interface.
# Needs root, losetup, ip, ping, socat: skips (77) otherwise.
set -u

. "$(dirname "$0")/lib.sh"
vnic_need setpriv unshare
vnic_setup vnic vnic

start 1 2; P1=$LAST
start 2 1; P2=$LAST
vnic_first_ping 169.254.0.2
in_ns 1 ip -4 addr show dev dl0 | grep -q "169.254.0.1/16" || fail "dl0 of node 1 lacks 169.254.0.1/16"
in_ns 1 ip link show dev dl0 | grep -q "mtu 65000" || fail "dl0's MTU is not 65000"
in_ns 2 ping -c3 -i0.2 -W2 169.254.0.1 >"$T/ping.log" 2>&1 || fail "ping from node 2 to node 1"
echo "ok: ping both ways ($(tail -1 "$T/ping.log"))"

# 10 MB over TCP, checksum compared.
head -c 10000000 /dev/urandom >"$T/blob"
sum=$(sha256sum <"$T/blob" | cut -d' ' -f1)
ip netns exec "${NS}2" timeout 120 socat -u TCP-LISTEN:7000,bind=169.254.0.2,reuseaddr OPEN:"$T/got",creat,trunc &
SP=$!
track "$SP"
if command -v tcpdump >/dev/null 2>&1; then
	ip netns exec "${NS}2" timeout 30 tcpdump -n -i dl0 -c 5 tcp port 7000 >"$T/tcpdump.log" 2>&1 &
	TP=$!
	track "$TP"
fi
sleep 0.5
t0=$(date +%s)
# Pings during the transfer: knet's port and ICMP go before bulk.
ip netns exec "${NS}2" ping -c 20 -i 0.2 -W 2 169.254.0.1 >"$T/ping-bulk.log" 2>&1 &
PP=$!
track "$PP"
in_ns 1 timeout 120 socat -u OPEN:"$T/blob" TCP:169.254.0.2:7000 || fail "socat send"
wait $SP || fail "socat receive"
wait $PP || fail "pings during the transfer: $(tail -2 "$T/ping-bulk.log")"
echo "ok: pings during the transfer: $(tail -1 "$T/ping-bulk.log")"
in_ns 1 "$DL" status --shell --socket "$T/ctl1.sock" >"$T/status.log" 2>&1 ||
	fail "disklink status"
grep -q "^status_interface_name='dl0'" "$T/status.log" &&
	grep -q "^status_interface_address='169.254.0.1'" "$T/status.log" ||
	fail "disklink status does not show the interface"
grep -q "^status_interface_packets_out='[1-9]" "$T/status.log" ||
	fail "disklink status: no packets counted"
in_ns 1 "$DL" status --socket "$T/ctl1.sock" | grep "^interface dl0: 169.254.0.1/16" ||
	fail "disklink status (text) does not show the interface"
[ "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$sum" ] || fail "10 MB over TCP: checksum differs"
echo "ok: 10 MB over TCP in $(( $(date +%s) - t0 )) s, checksum matches"
if [ -n "${TP:-}" ]; then
	wait "$TP"
	grep -q "169.254.0.1.* > 169.254.0.2.7000" "$T/tcpdump.log" || fail "tcpdump -i dl0 saw nothing"
	echo "ok: tcpdump -i dl0 captures the packets"
fi
# A ping during a bulk transfer still answers (knet's port and ICMP go first).

# Real libknet (crypto on) over dl0: knet's link on the dl0 addresses,
# PMTUD included, messages up to knet's largest checked byte for byte.
vnic_knet 169.254.0.1 169.254.0.2 200 dl0

# SIGHUP: the plan's default address is no "change that needs a restart".
kill -HUP "$P1"
sleep 0.5
grep -q "SIGHUP: rereading" "$T/d1.log" || fail "SIGHUP not acted on"
grep -q "need a restart" "$T/d1.log" && fail "SIGHUP: $(grep "need a restart" "$T/d1.log")"
echo "ok: SIGHUP reloads without a spurious restart warning"

# Node 2's daemon killed: its interface goes with it, and node 1 gets an
# ICMP unreachable for 169.254.0.2 within a bounded time.
kill -KILL "$P2"
wait "$P2" 2>/dev/null
gone=
for _ in $(seq 50); do
	in_ns 2 ip link show dl0 >/dev/null 2>&1 || { gone=1; break; }
	sleep 0.1
done
[ -n "$gone" ] || { for f in /proc/[0-9]*/fd/*; do [ "$(readlink "$f")" = /dev/net/tun ] && echo "$f $(tr "\0" " " < "${f%/fd/*}/cmdline")"; done; fail "dl0 outlived its killed daemon by 5 s"; }
t0=$(date +%s)
ok=
for _ in $(seq 30); do
	if in_ns 1 ping -c1 -W1 169.254.0.2 2>&1 | grep -q "Unreachable"; then ok=1; break; fi
	sleep 0.5
done
[ -n "$ok" ] || fail "169.254.0.2 not reported unreachable within 45 s of its daemon's death"
echo "ok: a killed peer is unreachable after $(( $(date +%s) - t0 )) s"
in_ns 1 ping -c1 -W1 169.254.5.5 2>&1 | grep -q "Unreachable" || fail "nobody's address: no ICMP"
echo "ok: an address nobody owns gets an ICMP unreachable"
kill -TERM "$P1"
wait "$P1"; rc=$?
[ $rc = 0 ] || fail "SIGTERM: exit status $rc"
in_ns 1 ip link show dl0 >/dev/null 2>&1 && fail "dl0 outlived its stopped daemon"
echo "ok: the interface goes away on stop"

# bad ID WHAT EXPECT_RC PATTERN CMD...: the daemon in node 3 fails with
# exit status EXPECT_RC and a one-line error matching PATTERN, and leaves
# no dl0 behind.
bad() {
	_what=$1 _rc=$2 _pat=$3; shift 3
	"$@" --device "$LOOP" --node-id 3 --port $PORT --mode tun --peer 1=169.254.0.1 \
		--node-name n3 --config "$T/tun.conf" --control "$T/ctl3.sock" \
		--pid-file "$T/bad.pid" ${MODE:+--mode "$MODE"} >"$T/bad.log" 2>&1
	_got=$?
	[ "$_got" = "$_rc" ] || fail "$_what: exit status $_got, not $_rc"
	grep -q "$_pat" "$T/bad.log" || fail "$_what: no error '$_pat'"
	if [ -z "${EXISTING:-}" ] && in_ns 3 ip link show dl0 >/dev/null 2>&1; then
		fail "$_what: dl0 left behind"
	fi
	echo "ok: $_what: $(grep "$_pat" "$T/bad.log" | head -1)"
}
# A persistent TUN interface of that name: TUNSETIFF would attach to it.
in_ns 3 ip tuntap add dev dl0 mode tun || fail "ip tuntap add"
EXISTING=1
bad "name taken" 2 "interface name dl0 is taken" in_ns 3 "$DLD"
EXISTING=
in_ns 3 ip link show dl0 >/dev/null 2>&1 || fail "the existing dl0 was removed"
in_ns 3 ip tuntap del dev dl0 mode tun
in_ns 3 ip addr add 169.254.0.3/32 dev lo
bad "address clash" 2 "169.254.0.3 is already on the host's interface lo" in_ns 3 "$DLD"
in_ns 3 ip addr del 169.254.0.3/32 dev lo
bad "no CAP_NET_ADMIN" 1 "no CAP_NET_ADMIN" in_ns 3 setpriv --inh-caps=-net_admin \
	--bounding-set=-net_admin "$DLD"
bad "no /dev/net/tun" 1 "no /dev/net/tun" in_ns 3 unshare -m sh -c \
	'mount -t tmpfs none /dev/net && exec "$0" "$@"' "$DLD"
MODE=tap
bad "bad mode" 2 "invalid mode 'tap'" in_ns 3 "$DLD"
echo "PASS: test-vnic-tun"
