#!/bin/sh
# shellcheck disable=SC2015,SC2016 # "check && ok || fail": ok only prints; sh -c scripts in single quotes
# Runs inside the throwaway root of test-package.sh (an overlay over /,
# made the root of a mount namespace of its own): installs the .debs in
# $1, checks the installed files (not the build tree), runs one lab
# scenario against them, then removes and purges the package and checks
# what is left.  Exit 0 pass, 1 fail.
set -u
DEBS=$1
: "${top_srcdir:?}" "${top_builddir:?}"
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
step() { echo "--- $* ($(date +%T))"; }
W=$(mktemp -d /tmp/dl-inroot.XXXXXX)

step "dpkg -i"
dpkg -i "$DEBS"/disklink_*.deb "$DEBS"/disklink-dev_*.deb >"$W/dpkg-i.log" 2>&1 ||
	{ cat "$W/dpkg-i.log"; fail "dpkg -i"; exit 1; }
dpkg-query -W -f '${Status}\n' disklink | grep -q "install ok installed" &&
	ok "disklink is installed" || fail "disklink is not installed"
dpkg -L disklink >"$W/files"
# From here on only the package's programs can run: the build tree's are
# hidden (in this mount namespace only).
for b in "$top_builddir/knet-transport/disklinkd" "$top_builddir/knet-transport/disklink"; do
	[ -e "$b" ] && mount --bind /dev/null "$b"
done

step "installed files"
want=$(sed -n '1s/^disklink (\([^)]*\)).*/\1/p' "$top_srcdir/debian/changelog")
for t in /usr/bin/disklink /usr/sbin/disklinkd; do
	v=$("$t" --version 2>&1)
	case "$v" in
	"$(basename "$t") $want"*) ok "$t --version: $v" ;;
	*) fail "$t --version: '$v', expected the version $want" ;;
	esac
done
for f in /usr/lib/ocf/resource.d/disklink/disklink /usr/lib/ocf/resource.d/disklink/mirror; do
	[ -x "$f" ] && ok "OCF agent $f" || fail "no executable $f"
done
for m in man5/disklink.conf.5 man7/ocf_disklink_disklink.7 man7/ocf_disklink_mirror.7 \
	 man8/disklink.8 man8/disklinkd.8; do
	[ -f "/usr/share/man/$m.gz" ] && ok "man page $m" || fail "no /usr/share/man/$m.gz"
done
[ -f /usr/share/bash-completion/completions/disklink ] && ok "bash completion" ||
	fail "no bash completion"
for c in /etc/default/disklink /etc/disklink/disklink.conf.example; do
	grep -qx "$c" /var/lib/dpkg/info/disklink.conffiles && ok "conffile $c" ||
		fail "$c is not a conffile"
done
# postinst enabled the unit (deb-systemd-helper; no systemd runs here, so
# nothing was started).
[ -L /etc/systemd/system/corosync.service.wants/disklink.service ] &&
	ok "disklink.service enabled (WantedBy=corosync.service)" ||
	fail "disklink.service was not enabled by the postinst"
if grep -q '^DL_EXTRA_PATH="/usr/bin:/usr/sbin"$' /usr/lib/ocf/resource.d/disklink/disklink; then
	ok "the installed agent finds /usr/bin and /usr/sbin"
else
	fail "the installed agent's DL_EXTRA_PATH is not /usr/bin:/usr/sbin"
fi

step "systemd-analyze verify"
unit=/lib/systemd/system/disklink.service
grep -q '^ExecStart=/usr/sbin/disklinkd ' $unit && ok "ExecStart runs /usr/sbin/disklinkd" ||
	fail "ExecStart: $(grep ^ExecStart= $unit)"
grep -q '^EnvironmentFile=-/etc/default/disklink$' $unit && ok "EnvironmentFile /etc/default/disklink" ||
	fail "$(grep ^EnvironmentFile= $unit)"
if systemd-analyze verify "$unit" >"$W/verify.log" 2>&1; then
	ok "systemd-analyze verify $unit (with its man pages)"
else
	cat "$W/verify.log"; fail "systemd-analyze verify $unit"
fi

step "ocf-tester"
# Explicit mode (no corosync), in a network namespace of its own, on a
# volume of a loop device; the agent finds the installed binaries itself.
truncate -s 16M "$W/vol.img"
LOOP=$(losetup --find --show "$W/vol.img") || { fail "no loop device"; LOOP=; }
if [ -n "$LOOP" ]; then
	/usr/bin/disklink format "$LOOP" --cluster dlpkg --slots 4 >"$W/format.log" 2>&1 ||
		fail "installed disklink format: $(tail -n 1 "$W/format.log")"
	mkdir -p "$W/rsctmp"
	if HA_RSCTMP="$W/rsctmp" OCF_ROOT=/usr/lib/ocf unshare -n sh -c '
		ip link set lo up && ip addr add 127.77.0.1/32 dev lo && ip addr add 127.77.0.2/32 dev lo &&
		exec ocf-tester -n dl -o device="$1" -o cluster=dlpkg -o node_id=1 \
			-o local_addr=127.77.0.1 -o port=5406 -o peers=2=127.77.0.2 \
			-o control="$2/disklinkd.sock" /usr/lib/ocf/resource.d/disklink/disklink' \
		sh "$LOOP" "$W" >"$W/ocf-tester.log" 2>&1 &&
	   grep -q "passed all tests" "$W/ocf-tester.log"; then
		ok "ocf-tester passed the installed agent"
	else
		cat "$W/ocf-tester.log"; fail "ocf-tester on the installed agent"
	fi
	losetup -d "$LOOP"
fi

step "lab: ${DL_PKG_LAB:-lab/test-disklink-netcut.py} against the installed binaries"
if [ "${DL_PKG_LAB:-}" = none ]; then
	echo "skipped (DL_PKG_LAB=none)"
elif DL_INSTALLED=1 /usr/bin/python3 "$top_srcdir/tests/${DL_PKG_LAB:-lab/test-disklink-netcut.py}" \
	>"$W/lab.log" 2>&1; then
	tail -n 5 "$W/lab.log"; ok "lab scenario with /usr/sbin/disklinkd"
else
	grep -n -m 30 -E "FAIL|Error|rror:|Traceback|SKIP" "$W/lab.log"
	echo "... (last 40 lines)"; tail -n 40 "$W/lab.log"
	fail "lab scenario with the installed binaries"
fi

step "dpkg -r, dpkg -P"
dpkg -r disklink disklink-dev >"$W/dpkg-r.log" 2>&1 || { cat "$W/dpkg-r.log"; fail "dpkg -r"; }
# Policy 10.7.3: removal keeps the conffiles, purge removes them.
for c in /etc/default/disklink /etc/disklink/disklink.conf.example; do
	[ -e "$c" ] && ok "$c kept by remove" || fail "$c removed by remove (a conffile)"
done
for f in /usr/sbin/disklinkd /usr/bin/disklink /usr/lib/ocf/resource.d/disklink; do
	[ ! -e "$f" ] && ok "$f removed" || fail "$f left by remove"
done
dpkg -P disklink disklink-dev >"$W/dpkg-p.log" 2>&1 || { cat "$W/dpkg-p.log"; fail "dpkg -P"; }
dpkg-query -W -f '${Status}\n' disklink 2>/dev/null | grep -q installed &&
	fail "dpkg still knows disklink after purge" || ok "dpkg no longer knows disklink"
# Nothing of the package is left: none of its files, conffiles, the
# enablement symlinks or deb-systemd-helper's state.
left=""
while read -r f; do
	case "$f" in /.|/etc|/lib|/usr|/usr/*/|/lib/systemd|/lib/systemd/system) continue ;; esac
	[ -f "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$W/files"
for f in /etc/disklink /etc/default/disklink /etc/systemd/system/corosync.service.wants/disklink.service \
	 /var/lib/systemd/deb-systemd-helper-enabled/disklink.service.dsh-also \
	 /var/lib/systemd/deb-systemd-helper-enabled/corosync.service.wants/disklink.service \
	 /usr/lib/ocf/resource.d/disklink /usr/share/doc/disklink; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
[ -z "$left" ] && ok "purge left nothing of the package" || fail "left after purge:$left"
rm -rf "$W"
[ $fails -eq 0 ] || { echo "$fails check(s) failed inside the root"; exit 1; }
exit 0
