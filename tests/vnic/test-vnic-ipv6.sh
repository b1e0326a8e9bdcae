#!/bin/sh
# TUN mode's IPv6 (doc/vnic.md, tun_ipv6): two network namespaces, a
# disklinkd in TUN mode in each with the ULA prefix fd5a:1b2c:3d4e:1::/64
# (node N: prefix::N) over one loop device.  Checks: dl0 has both
# addresses; ping -6 both ways; 1 MB over TCP on IPv6 with its checksum;
# an ICMPv6 address unreachable for an address nobody owns and for a
# stopped peer; real libknet (crypto on) on the IPv6 dl0 addresses; the
# bad inputs (a prefix that is not a /64 ULA, an IPv6 address already on
# the host) get their one-line error and leave no interface.
# Needs root, losetup, ip, ping, socat: skips (77) otherwise.
set -u

PFX=fd5a:1b2c:3d4e:1
. "$(dirname "$0")/lib.sh"
vnic_need
vnic_setup vnic6 vnic6 "tun_ipv6 = $PFX::/64"

start 1 2; P1=$LAST
start 2 1; P2=$LAST
vnic_first_ping $PFX::2 -6
in_ns 1 ip -6 addr show dev dl0 | grep -q "$PFX::1/64" || fail "dl0 of node 1 lacks $PFX::1/64"
in_ns 1 ip -4 addr show dev dl0 | grep -q "169.254.0.1/16" || fail "dl0 of node 1 lacks its IPv4 address"
in_ns 2 ping -6 -c3 -i0.2 -W2 $PFX::1 >"$T/ping.log" 2>&1 || fail "ping -6 from node 2 to node 1"
in_ns 2 ping -c1 -W2 169.254.0.1 >/dev/null 2>&1 || fail "IPv4 beside IPv6"
echo "ok: ping -6 both ways, IPv4 beside it ($(tail -1 "$T/ping.log"))"

head -c 1000000 /dev/urandom >"$T/blob"
sum=$(sha256sum <"$T/blob" | cut -d' ' -f1)
ip netns exec "${NS}2" timeout 60 socat -u "TCP6-LISTEN:7000,bind=[$PFX::2],reuseaddr" \
	OPEN:"$T/got",creat,trunc &
SP=$!
track "$SP"
sleep 0.5
in_ns 1 timeout 60 socat -u OPEN:"$T/blob" "TCP6:[$PFX::2]:7000" || fail "socat send"
wait $SP || fail "socat receive"
[ "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$sum" ] || fail "1 MB over TCP6: checksum differs"
echo "ok: 1 MB over TCP on IPv6, checksum matches"

in_ns 1 ping -6 -c1 -W1 $PFX::9 >"$T/un.log" 2>&1
grep -q "nreachable" "$T/un.log" || fail "nobody's IPv6 address: no ICMPv6 ($(cat "$T/un.log"))"
echo "ok: an IPv6 address nobody owns: $(grep -m1 nreachable "$T/un.log")"

vnic_knet $PFX::1 $PFX::2 50 "IPv6 dl0"

# Node 2 stopped: its IPv6 address becomes unreachable for node 1.
kill -TERM "$P2"
wait "$P2"
ok=
for _ in $(seq 30); do
	if in_ns 1 ping -6 -c1 -W1 $PFX::2 2>&1 | grep -q "nreachable"; then ok=1; break; fi
	sleep 0.5
done
[ -n "$ok" ] || fail "$PFX::2 not reported unreachable after its daemon stopped"
echo "ok: a stopped peer's IPv6 address is unreachable"
kill -TERM "$P1"
wait "$P1" || fail "SIGTERM: exit status $?"

bad() {
	_what=$1 _rc=$2 _pat=$3; shift 3
	in_ns 3 "$DLD" --device "$LOOP" --node-id 3 --port $PORT --mode tun \
		--peer 1=169.254.0.1 --node-name n3 --config "$1" --control "$T/ctl3.sock" \
		--pid-file "$T/bad.pid" >"$T/bad.log" 2>&1
	_got=$?
	[ "$_got" = "$_rc" ] || fail "$_what: exit status $_got, not $_rc"
	grep -q "$_pat" "$T/bad.log" || fail "$_what: no error '$_pat'"
	[ "$(wc -l <"$T/bad.log")" -le 1 ] || fail "$_what: more than one line: $(cat "$T/bad.log")"
	in_ns 3 ip link show dl0 >/dev/null 2>&1 && fail "$_what: dl0 left behind"
	echo "ok: $_what: $(cat "$T/bad.log")"
}
sed "s|^tun_ipv6 = .*|tun_ipv6 = $PFX::/48|" "$T/tun.conf" >"$T/bad48.conf"
bad "not a /64" 2 "tun_ipv6 '$PFX::/48' is not a unique local /64 prefix" "$T/bad48.conf"
sed "s|^tun_ipv6 = .*|tun_ipv6 = 2001:db8:1:2::/64|" "$T/tun.conf" >"$T/badula.conf"
bad "not a ULA" 2 "is not a unique local /64 prefix" "$T/badula.conf"
in_ns 3 ip -6 addr add $PFX::3/128 dev lo nodad
bad "IPv6 address clash" 2 "the address $PFX::3 is already on the host's interface lo" \
	"$T/tun.conf"
echo "PASS: test-vnic-ipv6"
