#!/bin/sh
# init/disklink.service.in: systemd-analyze verify accepts the unit
# (generated with ExecStart on the built disklinkd; only missing man pages
# would be acceptable, and --man=no leaves them out), and the unit orders
# disklinkd after corosync, before Pacemaker, as part of corosync.  The
# ExecStart options and the config keys it relies on are the daemon's.
# Exit 0 pass, 1 fail, 77 skip (no systemd-analyze).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
IN="$top_srcdir/init/disklink.service.in"
DLD="$top_builddir/knet-transport/disklinkd"
SA=$(command -v systemd-analyze) || { echo "SKIP: no systemd-analyze"; exit 77; }
[ -x "$DLD" ] || { echo "FAIL: $DLD not built"; exit 1; }

T=$(mktemp -d /tmp/dl-unit.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# As init/Makefile.am generates it, with the build's binary.
sed -e "s|@sbindir[@]|$(dirname "$DLD")|g" -e "s|@sysconfdir[@]|$T/etc|g" -e "s|@initconfigdir[@]|$T/etc/default|g" "$IN" \
	> "$T/disklink.service"
if "$SA" verify --man=no "$T/disklink.service" >"$T/verify.out" 2>&1; then
	ok "systemd-analyze verify accepts the unit"
else
	cat "$T/verify.out"; fail "systemd-analyze verify"
fi
# The same with man page checks on: only the man pages may be missing.
"$SA" verify "$T/disklink.service" >"$T/verify-man.out" 2>&1
if grep -v "Command 'man " "$T/verify-man.out" | grep -q .; then
	cat "$T/verify-man.out"; fail "complaints besides missing man pages"
else
	ok "with man page checks: no complaint but missing man pages"
fi

key() { sed -n "s/^$1=//p" "$T/disklink.service"; }
[ "$(key After)" = "corosync.service" ] && ok "After=corosync.service" || fail "After=$(key After)"
[ "$(key Before)" = "pacemaker.service" ] && ok "Before=pacemaker.service" || fail "Before=$(key Before)"
[ "$(key PartOf)" = "corosync.service" ] && ok "PartOf=corosync.service" || fail "PartOf=$(key PartOf)"
[ "$(key Type)" = "notify" ] && ok "Type=notify" || fail "Type=$(key Type)"
[ "$(key RuntimeDirectory)" = "disklink" ] && ok "RuntimeDirectory=disklink (the control socket's)" ||
	fail "RuntimeDirectory=$(key RuntimeDirectory)"
"$DLD" --help | grep -q "/run/disklink/disklinkd.sock" && ok "default control socket in /run/disklink" ||
	fail "the daemon's default control socket is not in /run/disklink"

# ExecStart's options are the daemon's: run them (without $DISKLINKD_OPTIONS)
# against a config file with the keys of init/disklink.conf.example; with
# no device behind it, a configuration error must not be what stops it.
exec_start=$(key ExecStart | sed 's/ \$DISKLINKD_OPTIONS//')
case "$exec_start" in
*" --foreground "*) ok "ExecStart runs in the foreground (Type=notify)" ;;
*) fail "ExecStart without --foreground: $exec_start" ;;
esac
mkdir -p "$T/etc/disklink"
grep -v '^#' "$top_srcdir/init/disklink.conf.example" | grep . > "$T/etc/disklink/disklink.conf"
grep -q '^link *= *1' "$T/etc/disklink/disklink.conf" && ok "the example config sets link = 1" ||
	fail "no 'link = 1' in the example config"
# --help parses the options only: the config file path option must exist.
"$DLD" --help | grep -q -- "--config FILE" && "$DLD" --help | grep -q -- "--link N" &&
	ok "disklinkd has --config and --link" || fail "disklinkd lacks --config or --link"
# A config with an unknown key is refused: proves the file ExecStart names is read.
echo "no_such_key = 1" >> "$T/etc/disklink/disklink.conf"
set -- $exec_start
shift
"$DLD" "$@" --control "$T/ctl.sock" >"$T/run.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "unknown key 'no_such_key'" "$T/run.out" &&
	ok "ExecStart reads $T/etc/disklink/disklink.conf (bad key: exit 2)" ||
	{ cat "$T/run.out"; fail "ExecStart's config not read (exit $rc)"; }

[ $fails -eq 0 ] && { echo PASS; exit 0; }
echo "FAIL: $fails checks failed"
exit 1
