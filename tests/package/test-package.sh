#!/bin/sh
# shellcheck disable=SC2015,SC2016 # "check && ok || fail": ok only prints; sh -c scripts in single quotes
# The packages, as an operator gets them (make check-package; a stage of
# tools/test.sh):
#  1. debian/: dpkg-buildpackage -us -uc -b from a clean copy of the source
#     tree (its git-tracked and new files, no build products); lintian
#     reports no errors; conffiles, systemd helper scriptlets, file places.
#  2. disklink.spec (made by configure): rpmbuild -bb --nodeps from
#     `make dist`; rpmbuild fails on any file `make install` installs that
#     %files does not list, and on any listed file it does not install.
#  3. A throwaway root: a mount namespace with an overlay over / (upper and
#     work directories on a tmpfs, so nothing reaches the disk) made its
#     root (pivot_root; the host's root is then detached from it).  in-root.sh installs the .debs there and runs, against the
#     installed files: --version, systemd-analyze verify of the installed
#     unit, ocf-tester on the installed agent, and one lab scenario
#     (tests/lab/test-disklink-netcut.py with DL_INSTALLED=1: corosync,
#     Pacemaker and the namespaces are the host's programs, run inside the
#     root; disklinkd and disklink are the package's; the CPG client comes
#     from the build tree); then remove and purge, and what is left.
#  4. The host is untouched: its dpkg status of disklink and its files.
# DL_PKG_LAB=none leaves the lab scenario out (a faster run).
# Exit 0 pass, 1 fail, 77 skip (a failure under CI=true).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
export top_srcdir top_builddir
TEST=test-package
START=$(date +%s)
skip() { echo "SKIP: $TEST: $*"; exit 77; }
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
step() { printf '\n== %s (%s, %ss)\n' "$*" "$(date +%T)" $(($(date +%s) - START)); }

[ "$(id -u)" = 0 ] || skip "needs root (mount namespace, overlay, pivot_root, loop devices)"
for t in dpkg-buildpackage dh lintian rpmbuild unshare pivot_root git systemd-analyze ocf-tester; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (tools/debian-packages)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
	skip "no overlayfs (the throwaway root)"
[ -f "$top_builddir/disklink.spec" ] || skip "$top_builddir/disklink.spec: run configure"

T=$(mktemp -d /var/tmp/dl-package.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
host_before=$(dpkg-query -W -f '${db:Status-Abbrev}' disklink 2>/dev/null; ls -d /usr/sbin/disklinkd /etc/disklink 2>/dev/null)

step "dpkg-buildpackage"
mkdir -p "$T/deb/src"
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top_srcdir" && git ls-files -co --exclude-standard -z |
		xargs -0 cp -P --parents -t "$T/deb/src") || { fail "copy of the tree"; exit 1; }
else
	cp -a "$top_srcdir/." "$T/deb/src/"
fi
if (cd "$T/deb/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	nice dpkg-buildpackage -us -uc -b) >"$T/deb/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	tail -n 60 "$T/deb/build.log"; fail "dpkg-buildpackage"; exit 1
fi
ls "$T"/deb/*.deb

step "lintian"
if nice lintian --fail-on error "$T"/deb/*.changes >"$T/lintian.log" 2>&1; then
	ok "lintian: no errors"
else
	fail "lintian reports errors"
fi
grep -v '^running with root' "$T/lintian.log"

step "the .deb"
deb=$(ls "$T"/deb/disklink_*.deb)
dpkg-deb -e "$deb" "$T/ctl"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||' >"$T/deb.files"
for c in /etc/default/disklink /etc/disklink/disklink.conf.example; do
	grep -qx "$c" "$T/ctl/conffiles" && ok "conffile $c" || fail "$c is not a conffile"
done
grep -q "deb-systemd-helper enable 'disklink.service'" "$T/ctl/postinst" &&
	ok "postinst: deb-systemd-helper enables the unit" || fail "postinst without deb-systemd-helper"
grep -q "deb-systemd-helper purge 'disklink.service'" "$T/ctl/postrm" &&
	ok "postrm: deb-systemd-helper purge" || fail "postrm without deb-systemd-helper purge"
grep -q "deb-systemd-invoke start" "$T/ctl/postinst" &&
	fail "postinst starts the unit (it would start corosync)" || ok "postinst does not start the unit"
for f in /usr/lib/ocf/resource.d/disklink/disklink /usr/lib/ocf/resource.d/disklink/mirror \
	 /usr/share/man/man7/ocf_disklink_disklink.7.gz /usr/share/man/man7/ocf_disklink_mirror.7.gz \
	 /usr/share/man/man8/disklink.8.gz /usr/share/man/man8/disklinkd.8.gz \
	 /usr/share/man/man5/disklink.conf.5.gz /lib/systemd/system/disklink.service \
	 /usr/share/bash-completion/completions/disklink /usr/sbin/disklinkd /usr/bin/disklink; do
	grep -qx "$f" "$T/deb.files" && ok "in the .deb: $f" || fail "not in the .deb: $f"
done

step "rpmbuild"
v=$(sed -n 's/^Version:[[:space:]]*//p' "$top_builddir/disklink.spec")
mkdir -p "$T/rpm/SOURCES"
if make -s -C "$top_builddir" dist-gzip >"$T/rpm/dist.log" 2>&1 &&
   mv "$top_builddir/disklink-$v.tar.gz" "$T/rpm/SOURCES/"; then
	ok "make dist"
else
	tail -n 20 "$T/rpm/dist.log"; fail "make dist"
fi
if nice rpmbuild -bb --nodeps --nocheck --define "_topdir $T/rpm" \
	--define 'debug_package %{nil}' "$top_builddir/disklink.spec" >"$T/rpm/build.log" 2>&1; then
	ok "rpmbuild -bb --nodeps: %files matches make install"
else
	tail -n 40 "$T/rpm/build.log"; fail "rpmbuild"
fi
rpm=
for f in "$T"/rpm/RPMS/*/disklink-"$v"-*.rpm; do
	[ -f "$f" ] && rpm=$f
done
if [ -n "$rpm" ]; then
	rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" >"$T/rpm.flags"
	grep -qx 'cn /etc/sysconfig/disklink' "$T/rpm.flags" &&
		ok "rpm: %config(noreplace) /etc/sysconfig/disklink" || fail "rpm: /etc/sysconfig/disklink is not %config(noreplace)"
	rpm -qp --scripts "$rpm" >"$T/rpm.scripts"
	grep -q "preset disklink.service\|systemd_post\|systemctl.*preset" "$T/rpm.scripts" &&
		ok "rpm: systemd scriptlets" || { cat "$T/rpm.scripts"; fail "rpm: no systemd scriptlets"; }
	grep -q "/usr/lib/systemd/system/disklink.service" "$T/rpm.flags" &&
		ok "rpm: the unit in %_unitdir" || fail "rpm: no unit in /usr/lib/systemd/system"
fi

step "throwaway root: install, run, remove, purge"
if [ "${DL_PKG_LAB:-}" != none ]; then
	# The lab scenario's CPG client (a test program, not packaged).
	make -s -C "$top_builddir/tests" lab/cpg_client >"$T/cpg_client.log" 2>&1 ||
		{ cat "$T/cpg_client.log"; fail "cannot build tests/lab/cpg_client (needs libcpg)"; }
fi
# Everything below runs in a mount namespace of its own: the overlay, its
# tmpfs and the root's mounts vanish with it.
mkdir -p "$T/debs" && cp "$T"/deb/disklink_*.deb "$T"/deb/disklink-dev_*.deb "$T/debs/"
if unshare -m --propagation private sh -c '
	set -e
	T=$1
	mkdir -p "$T/ovl"
	mount -t tmpfs -o size=4g,mode=755 dl-package "$T/ovl"
	mkdir "$T/ovl/upper" "$T/ovl/work" "$T/ovl/root"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$T/ovl/upper,workdir=$T/ovl/work" "$T/ovl/root"
	R=$T/ovl/root
	mount -t proc proc "$R/proc"
	mount --rbind /sys "$R/sys"
	mount --rbind /dev "$R/dev"
	mount -t tmpfs -o mode=755 tmpfs "$R/run"
	mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
	mount -t tmpfs -o mode=1777 tmpfs "$R/var/tmp"
	# The source and build trees (read by the lab) and the packages.
	for d in "$top_srcdir" "$top_builddir"; do
		mkdir -p "$R$d" && mount --rbind "$d" "$R$d"
	done
	mkdir -p "$R/tmp/debs" && cp "$T"/debs/*.deb "$R/tmp/debs/"
	# pivot_root, not a bare chroot: the lab enters its nodes with nsenter,
	# which lands in the root of the mount namespace.
	mkdir -p "$R/.oldroot"
	cd "$R"
	pivot_root . .oldroot
	umount -l /.oldroot
	rmdir /.oldroot
	exec /bin/sh "$top_srcdir/tests/package/in-root.sh" /tmp/debs
' sh "$T" 2>&1; then
	ok "in the throwaway root: every check passed"
else
	fail "in the throwaway root"
fi

step "the host is untouched"
host_after=$(dpkg-query -W -f '${db:Status-Abbrev}' disklink 2>/dev/null; ls -d /usr/sbin/disklinkd /etc/disklink 2>/dev/null)
[ "$host_before" = "$host_after" ] && ok "host: dpkg status and files of disklink unchanged" ||
	fail "host changed: before '$host_before', after '$host_after'"
mount | grep -q "$T" && fail "a mount of the throwaway root is left on the host" ||
	ok "no mount left on the host"

step "done in $(($(date +%s) - START)) s"
[ $fails -eq 0 ] || { echo "FAIL: $TEST: $fails check(s) failed"; exit 1; }
echo "PASS: $TEST"
