#!/bin/sh
# disklink corosync-link --tun (doc/vnic.md): the link on the nodes' dl0
# addresses (169.254.<id / 256>.<id % 256>), in the corosync.conf snippet
# and the pcs command; a node id without a dl0 address in the plan (in
# 169.254.77.0/24) is refused; without --tun the loopback addresses stay.
set -u
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
DL=$top_builddir/knet-transport/disklink
[ -x "$DL" ] || { echo "FAIL: build disklink first"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/dl-vnic-cl.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

conf() {
	printf 'totem {\n    version: 2\n    cluster_name: t\n    transport: knet\n}\nnodelist {\n'
	for id in "$@"; do
		printf '    node {\n        ring0_addr: 10.0.0.%s\n        nodeid: %s\n' \
			$((id % 250)) "$id"
		printf '        name: n%s\n    }\n' "$id"
	done
	printf '}\n'
}
conf 1 2 258 >"$T/c.conf"
"$DL" corosync-link --config "$T/c.conf" --tun >"$T/out" 2>&1 || fail "--tun: $(cat "$T/out")"
grep -q "ring1_addr: 169.254.0.1$" "$T/out" && grep -q "ring1_addr: 169.254.0.2$" "$T/out" &&
	grep -q "ring1_addr: 169.254.1.2$" "$T/out" || fail "--tun: not the dl0 addresses"
grep -q "^pcs cluster link add n1=169.254.0.1 n2=169.254.0.2 n258=169.254.1.2 " "$T/out" ||
	fail "--tun: the pcs command"
"$DL" corosync-link --config "$T/c.conf" | grep -q "ring1_addr: 127.77.0.1$" ||
	fail "without --tun: not the loopback addresses"
conf 1 19713 >"$T/hole.conf"
"$DL" corosync-link --config "$T/hole.conf" --tun >"$T/out" 2>&1 && fail "id 19713 accepted"
grep -q "nodeid 19713 has no dl0 address" "$T/out" || fail "id 19713: $(cat "$T/out")"
# --tun-ipv6: the nodes' IPv6 dl0 addresses, prefix::id (every id has one).
"$DL" corosync-link --config "$T/c.conf" --tun-ipv6 fd5a:1b2c:3d4e:1::/64 >"$T/out" 2>&1 ||
	fail "--tun-ipv6: $(cat "$T/out")"
grep -q "ring1_addr: fd5a:1b2c:3d4e:1::1$" "$T/out" && grep -q "ring1_addr: fd5a:1b2c:3d4e:1::102$" "$T/out" ||
	fail "--tun-ipv6: not prefix::id"
"$DL" corosync-link --config "$T/hole.conf" --tun-ipv6 fd5a:1b2c:3d4e:1::/64 >"$T/out" 2>&1 ||
	fail "--tun-ipv6: id 19713 refused: $(cat "$T/out")"
"$DL" corosync-link --config "$T/c.conf" --tun-ipv6 fd5a:1b2c::/48 >"$T/out" 2>&1 && fail "a /48 accepted"
grep -q "is not a unique local /64 prefix" "$T/out" || fail "a /48: $(cat "$T/out")"
echo "PASS: test-vnic-corosync-link"
