#!/bin/sh
# The agent's meta-data, OCF 1.1, checked two ways:
#  - as Debian 12's ocf-tester does: `xmllint --valid` in resource-agents'
#    directory, i.e. against the DTD the document names (ra-api-1.dtd, the
#    OCF 1.0 one) extended by the document's internal subset, which
#    declares OCF 1.1's reloadable="1" and the reload-agent action;
#  - against pcs's OCF 1.1 RelaxNG schema (ocf-1.1.rng), what pcs uses to
#    read an agent's meta-data: the 1.1 document as Pacemaker sees it.
# Then: the tunables (and only they) are reloadable, reload-agent and the
# legacy reload are both there, unique="1" exactly on device and link; the
# man page built from it.
. "$(dirname "$0")/lib.sh"

DTD=""
for d in /usr/share/resource-agents/ra-api-1.dtd /usr/lib/ocf/lib/heartbeat/ra-api-1.dtd; do
	[ -r "$d" ] && DTD=$d && break
done
[ -n "$DTD" ] || skip "ra-api-1.dtd (resource-agents) is not installed"
command -v xmllint >/dev/null 2>&1 || skip "xmllint is not installed"

"$AGENT" meta-data >"$WORK/md.xml" || fail "meta-data exited $?"
(cd "$(dirname "$DTD")" && xmllint --noout --valid - <"$WORK/md.xml") 2>"$WORK/xmllint.log" ||
	fail "meta-data does not validate as ocf-tester checks it ($DTD): $(cat "$WORK/xmllint.log")"
# Without the internal subset the plain OCF 1.0 DTD refuses it: the check
# above does see the 1.1 parts.
sed '/^<!ATTLIST/d; s/ \[$/>/; /^\]>$/d' "$WORK/md.xml" >"$WORK/md10.xml"
if (cd "$(dirname "$DTD")" && xmllint --noout --valid - <"$WORK/md10.xml") 2>/dev/null; then
	fail "meta-data without its internal subset still validates against $DTD"
fi
RNG=/usr/share/pcs/data/ocf-1.1.rng
if [ -r "$RNG" ]; then
	xmllint --noout --relaxng "$RNG" "$WORK/md.xml" 2>"$WORK/xmllint.log" ||
		fail "meta-data does not validate against pcs's $RNG: $(cat "$WORK/xmllint.log")"
fi

# meta-data works without ocf-shellfuncs (the man page is built from it).
OCF_FUNCTIONS_DIR=/nonexistent "$AGENT" meta-data | cmp -s - "$WORK/md.xml" ||
	fail "meta-data depends on ocf-shellfuncs"

python3 - "$WORK/md.xml" <<'PY' || fail "meta-data contents"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.findtext("version") == "1.1", "OCF version must be 1.1 (reload-agent)"
acts = [a.get("name") for a in r.find("actions")]
for a in ("start", "stop", "monitor", "reload", "reload-agent", "validate-all", "meta-data"):
    assert a in acts, "missing action " + a
params = {p.get("name"): p for p in r.find("parameters")}
tunables = {"poll_fast_us", "poll_idle_us", "poll_slow_ms", "fast_window_ms", "header_interval_ms",
            "io_timeout_ms", "abandon_ms", "dsync", "debug"}
monitor_only = {"stall_timeout", "check_age", "dampen"}
reloadable = {n for n, p in params.items() if p.get("reloadable") == "1"}
assert reloadable == tunables | monitor_only, "reloadable: %s" % sorted(reloadable)
assert params["dampen"].find("content").get("default") == "5s"
uniq = sorted(n for n, p in params.items() if p.get("unique") == "1")
assert uniq == ["device", "link"], "unique parameters: %s" % uniq
assert params["device"].get("required") == "1"
assert params["link"].find("content").get("default") == "1"
assert params["format_blank"].find("content").get("default") == "false"
assert params["mode"].find("content").get("default") == "", "mode: default from the daemon's file"
assert params["mode"].get("reloadable") != "1", "a mode change restarts the daemon"
for t in ("poll_fast_us", "poll_idle_us", "io_timeout_ms", "header_interval_ms"):
    assert t in params and params[t].get("unique") != "1", t
for adv in ("node_id", "local_addr", "port", "peers", "control"):
    assert params[adv].findtext("shortdesc").startswith("Advanced use only: "), adv
depths = sorted(a.get("depth") for a in r.find("actions") if a.get("name") == "monitor")
assert depths == ["0", "10"], depths
PY

# The man page (built by agent/Makefile.am when the build tree has one).
MAN=$top_builddir/agent/ocf_disklink_disklink.7
if [ -f "$MAN" ]; then
	grep -q '^\.TH "OCF_DISKLINK_DISKLINK" "7"' "$MAN" || fail "$MAN has no .TH line"
	grep -q '^\\fBformat_blank\\fR' "$MAN" || fail "$MAN lacks the format_blank parameter"
	grep -q '^\\fBmode\\fR' "$MAN" || fail "$MAN lacks the mode parameter"
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man -l "$MAN" 2>"$WORK/man.log" | grep -q "SUPPORTED PARAMETERS" ||
			fail "man cannot render $MAN: $(cat "$WORK/man.log")"
	fi
fi
echo "PASS: $TEST"
