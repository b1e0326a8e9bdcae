#!/bin/sh
# ocf:disklink:mirror without a cluster: its meta-data is valid against
# resource-agents' ra-api-1.dtd (ocf-tester) and pcs's OCF 1.1 schema, is
# promotable (promote, demote, notify, Promoted/Unpromoted monitors) and needs no
# ocf-shellfuncs; the agent and the hook double are shellcheck -s sh
# clean; validate-all returns the documented exit codes; the man page.
. "$(dirname "$0")/../agent/lib.sh"
AGENT=$top_srcdir/agent/disklink-mirror
FAKE=$top_srcdir/tests/replica/mirror_cmd_fake

DTD=""
for d in /usr/share/resource-agents/ra-api-1.dtd /usr/lib/ocf/lib/heartbeat/ra-api-1.dtd; do
	[ -r "$d" ] && DTD=$d && break
done
[ -n "$DTD" ] || skip "ra-api-1.dtd (resource-agents) is not installed"
for t in xmllint shellcheck python3; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done

"$AGENT" meta-data >"$WORK/md.xml" || fail "meta-data exited $?"
xmllint --noout --dtdvalid "$DTD" "$WORK/md.xml" 2>"$WORK/xmllint.log" ||
	fail "meta-data does not validate against $DTD: $(cat "$WORK/xmllint.log")"
RNG=/usr/share/pcs/data/ocf-1.1.rng
if [ -r "$RNG" ]; then
	xmllint --noout --relaxng "$RNG" "$WORK/md.xml" 2>"$WORK/xmllint.log" ||
		fail "meta-data does not validate against pcs's $RNG: $(cat "$WORK/xmllint.log")"
fi
OCF_FUNCTIONS_DIR=/nonexistent "$AGENT" meta-data | cmp -s - "$WORK/md.xml" ||
	fail "meta-data depends on ocf-shellfuncs"
python3 - "$WORK/md.xml" <<'PY' || fail "meta-data contents"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.get("name") == "mirror"
acts = [a.get("name") for a in r.find("actions")]
for a in ("start", "stop", "promote", "demote", "notify", "monitor", "validate-all", "meta-data"):
    assert a in acts, "missing action " + a
mons = sorted((a.get("role"), a.get("interval")) for a in r.find("actions") if a.get("name") == "monitor")
assert [m[0] for m in mons] == ["Promoted", "Unpromoted"], mons
assert mons[0][1] != mons[1][1], "role monitors need different intervals"
params = {p.get("name"): p for p in r.find("parameters")}
assert params["mirror_cmd"].get("required") == "1"
assert int(params["score_current"].find("content").get("default")) > \
    int(params["score_lagging"].find("content").get("default"))
PY

shellcheck -s sh "$AGENT" "$FAKE" >"$WORK/sc.log" 2>&1 || { cat "$WORK/sc.log"; fail "shellcheck -s sh"; }
shellcheck -s sh -x -P "$top_srcdir/tests/agent" "$0" >"$WORK/sc.log" 2>&1 || { cat "$WORK/sc.log"; fail "shellcheck $0"; }

# validate-all: 6 for what is wrong everywhere, 5 for what is missing here.
export OCF_RESOURCE_INSTANCE=data OCF_RESKEY_tool=/bin/true
va() {
	want=$1
	shift
	env "$@" "$AGENT" validate-all >"$WORK/va.out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] || { cat "$WORK/va.out"; fail "validate-all $* exited $got, expected $want"; }
}
va 6 OCF_RESKEY_mirror_cmd=
va 5 OCF_RESKEY_mirror_cmd=/nonexistent/hook
va 6 OCF_RESKEY_mirror_cmd="$FAKE $WORK" OCF_RESKEY_score_lagging=100
va 6 OCF_RESKEY_mirror_cmd="$FAKE $WORK" OCF_RESKEY_score_current=x
va 6 OCF_RESKEY_mirror_cmd="$FAKE $WORK" OCF_RESKEY_CRM_meta_clone_max=2
va 6 OCF_RESKEY_mirror_cmd="$FAKE $WORK" OCF_RESKEY_CRM_meta_clone_max=2 \
	OCF_RESKEY_CRM_meta_promotable=true OCF_RESKEY_CRM_meta_promoted_max=2
va 0 OCF_RESKEY_mirror_cmd="$FAKE $WORK" OCF_RESKEY_CRM_meta_clone_max=2 \
	OCF_RESKEY_CRM_meta_promotable=true OCF_RESKEY_CRM_meta_promoted_max=1
va 0 OCF_RESKEY_mirror_cmd="$FAKE $WORK"

# The hook double: states, failures, and its call log.
echo "lagging lag_ms=700" >"$WORK/n1.state"
[ "$(DL_MIRROR_NODE=n1 "$FAKE" "$WORK" status)" = "lagging lag_ms=700" ] || fail "fake status"
[ "$(DL_MIRROR_NODE=n2 "$FAKE" "$WORK" status)" = current ] || fail "fake default status"
echo "array says no" >"$WORK/n1.fail-promote"
DL_MIRROR_NODE=n1 "$FAKE" "$WORK" promote 2>/dev/null && fail "fake promote should fail"
DL_MIRROR_NODE=n2 "$FAKE" "$WORK" promote || fail "fake promote"
[ -e "$WORK/n2.writable" ] || fail "fake promote: no R1 marker"
[ "$(awk '{ print $2, $3 }' "$WORK/calls.log" | tr '\n' ,)" = \
	"node=n1 verb=status,node=n2 verb=status,node=n1 verb=promote,node=n2 verb=promote," ] ||
	fail "fake call log: $(cat "$WORK/calls.log")"

MAN=$top_builddir/agent/ocf_disklink_mirror.7
if [ -f "$MAN" ]; then
	grep -q '^\.TH "OCF_DISKLINK_MIRROR" "7"' "$MAN" || fail "$MAN has no .TH line"
	grep -q '^\\fBmirror_cmd\\fR' "$MAN" || fail "$MAN lacks the mirror_cmd parameter"
fi
echo "PASS: $TEST"
