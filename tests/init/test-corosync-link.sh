#!/bin/sh
# disklink corosync-link: prints the link definition and the pcs command
# for a sample corosync.conf; --apply --no-reload writes a file that
# corosync itself accepts (corosync -t) with a ring address for every node
# on the new link; --apply refuses a link that is already in use.
# Exit 0 pass, 1 fail, 77 skip (no corosync binary).
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
DL="$top_builddir/knet-transport/disklink"
COROSYNC=$(command -v corosync || echo /usr/sbin/corosync)
[ -x "$DL" ] || { echo "FAIL: $DL not built"; exit 1; }
[ -x "$COROSYNC" ] || { echo "SKIP: no corosync binary"; exit 77; }

T=$(mktemp -d /tmp/dl-cslink.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# corosync -t looks for the local node in the nodelist: node 1 is us.
HOST=$(uname -n)
head -c 256 /dev/urandom > "$T/authkey"
cat > "$T/corosync.conf" <<CONF
totem {
    version: 2
    cluster_name: sample
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    keyfile: $T/authkey
    link_mode: passive
    interface {
        linknumber: 0
        knet_link_priority: 2
    }
}

logging {
    to_stderr: yes
    to_syslog: no
}

quorum {
    provider: corosync_votequorum
}

nodelist {
    node {
        name: $HOST
        nodeid: 1
        ring0_addr: 169.254.10.1
    }
    node {
        name: beta
        nodeid: 2
        ring0_addr: 169.254.10.2
    }
    node {
        name: gamma
        nodeid: 300
        ring0_addr: 169.254.10.3
    }
}
CONF
cp "$T/corosync.conf" "$T/orig.conf"
"$COROSYNC" -t -c "$T/corosync.conf" >"$T/t0.log" 2>&1 ||
	{ cat "$T/t0.log"; echo "FAIL: corosync -t rejects the sample itself"; exit 1; }

# -- print -------------------------------------------------------------------
if "$DL" corosync-link --config "$T/corosync.conf" >"$T/print.out" 2>"$T/print.err"; then
	ok "print exits 0"
else
	fail "print exited non-zero: $(cat "$T/print.err")"
fi
grep -q "linknumber: 1" "$T/print.out" && ok "print: link 1 (the lowest free)" ||
	fail "print: no 'linknumber: 1'"
grep -q "knet_link_priority: 0" "$T/print.out" && ok "print: priority 0, below link 0's 2" ||
	fail "print: priority is not 0"
for a in 127.77.0.1 127.77.0.2 127.77.1.44; do
	grep -q "ring1_addr: $a" "$T/print.out" && ok "print: ring1_addr $a" ||
		fail "print: no ring1_addr $a"
done
grep -q "mcastport: 406" "$T/print.out" && ok "print: privileged port 406 (405 + link)" ||
	fail "print: no 'mcastport: 406'"
grep -qx "pcs cluster link add $HOST=127.77.0.1 beta=127.77.0.2 gamma=127.77.1.44 options linknumber=1 link_priority=0 mcastport=406" "$T/print.out" &&
	ok "print: the pcs command" || { fail "print: pcs command missing or wrong"; cat "$T/print.out"; }
cmp -s "$T/corosync.conf" "$T/orig.conf" && ok "print leaves the file alone" ||
	fail "print changed the file"

# -- apply --no-reload ---------------------------------------------------------
if "$DL" corosync-link --config "$T/corosync.conf" --apply --no-reload >"$T/apply.out" 2>&1; then
	ok "apply exits 0"
else
	fail "apply exited non-zero: $(cat "$T/apply.out")"
fi
cmp -s "$T/corosync.conf.disklink.bak" "$T/orig.conf" && ok "apply kept a backup" ||
	fail "no backup of the original"
if "$COROSYNC" -t -c "$T/corosync.conf" >"$T/t1.log" 2>&1; then
	ok "corosync -t accepts the applied file"
else
	cat "$T/t1.log"; fail "corosync -t rejects the applied file"
fi
# Every node block has its ring1_addr (awk: node blocks of the nodelist).
n=$(awk '/^[ \t]*node[ \t]*\{/ { innode = 1; has = 0; next }
	innode && /ring1_addr: 127\.77\./ { has = 1 }
	innode && /\}/ { innode = 0; nodes++; if (has) withaddr++ }
	END { printf "%d %d", nodes, withaddr }' "$T/corosync.conf")
[ "$n" = "3 3" ] && ok "every node block has a ring1_addr (nodes, with address: $n)" ||
	fail "node blocks / with ring1_addr: $n"
grep -q "linknumber: 1" "$T/corosync.conf" && ok "totem has interface linknumber 1" ||
	fail "no interface for link 1"
grep -q "mcastport: 406" "$T/corosync.conf" && ok "the link's port is privileged (406)" ||
	fail "no privileged mcastport for link 1"
"$DL" corosync-link --config "$T/orig.conf" --port 5406 2>&1 | grep -q "port 5406 is unprivileged" &&
	ok "an unprivileged --port is warned about" || fail "no warning for --port 5406"

# -- refuse a link in use --------------------------------------------------------
cp "$T/corosync.conf" "$T/applied.conf"
if "$DL" corosync-link --config "$T/corosync.conf" --link 1 --apply --no-reload \
	>"$T/again.out" 2>"$T/again.err"; then
	fail "apply of a link in use succeeded"
else
	ok "apply of a link in use refused (exit $?)"
fi
[ "$(wc -l < "$T/again.err")" -eq 1 ] && grep -q "link 1 already" "$T/again.err" &&
	ok "one-line reason: $(cat "$T/again.err")" || fail "reason: $(cat "$T/again.err")"
cmp -s "$T/corosync.conf" "$T/applied.conf" && ok "refusal left the file unchanged" ||
	fail "refusal changed the file"
# link 0 is in use too (network link)
if "$DL" corosync-link --config "$T/corosync.conf" --link 0 --apply --no-reload \
	>/dev/null 2>&1; then
	fail "apply over link 0 succeeded"
else
	ok "apply over link 0 refused"
fi

[ $fails -eq 0 ] && { echo PASS; exit 0; }
echo "FAIL: $fails checks failed"
exit 1
