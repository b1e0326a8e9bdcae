#!/bin/sh
# The mirror agent's promotion gate as the agent runs it (`disklink
# gate`, lib/gate.c), without a cluster: the saved status and membership
# of tests/replica/fence-history/, and a fence history larger than
# 128 KiB read from a pipe and from a file (one argument could not carry
# it: the agent's former Python gate failed there).  The verdicts are
# shell assignments that survive eval.
. "$(dirname "$0")/../agent/lib.sh"
FIX=$top_srcdir/tests/replica/fence-history
[ -x "$DISKLINK" ] || skip "$DISKLINK is not built"
NOW=1796183000          # 200 s after dl2 was fenced (2026-12-02 03:40:00 UTC)

gate() {
	"$DISKLINK" gate --status "$FIX/status-primary-dl2.sh" --nodes "$FIX/crm-node.txt" \
		--now "$NOW" "$@"
}

# verdict OUTPUT: DV_VERDICTS after eval in a fresh sh.
verdict() {
	sh -c 'eval "$1" && printf "%s|%s" "$DV_VERDICTS" "$DV_FROZEN_PRIMARY"' sh "$1"
}

# No history: dl2 (frozen, not a member) may still write.
out=$(gate --history /dev/null) || fail "gate without history exited $?"
[ "$(verdict "$out")" = "dl2=present|dl2" ] || fail "no history: $out"

# A history of 3000 failed fencings of dl3 and one of dl2, > 128 KiB.
{
	echo '<pacemaker-result api-version="2.25"><fence_history>'
	i=0
	while [ $i -lt 3000 ]; do
		echo "  <fence_event action=\"reboot\" target=\"dl3\" client=\"stonith_admin.$i\" origin=\"dl1\" status=\"failed\" exit-reason=\"No route to host\" delegate=\"dl1\" completed=\"2026-12-02 03:00:00 +00:00\"/>"
		i=$((i + 1))
	done
	grep '<fence_event' "$FIX/pcmk-2.1.xml"
	echo '</fence_history><status code="0" message="OK"/></pacemaker-result>'
} >"$WORK/history.xml"
size=$(wc -c <"$WORK/history.xml")
[ "$size" -gt 131072 ] || fail "the generated history has only $size bytes"

out=$(gate --history - <"$WORK/history.xml") || fail "gate with a pipe exited $?"
[ "$(verdict "$out")" = "dl2=fenced|dl2" ] || fail "history through a pipe: $out"
out=$(gate --history "$WORK/history.xml") || fail "gate with a file exited $?"
[ "$(verdict "$out")" = "dl2=fenced|dl2" ] || fail "history in a file: $out"
printf '%s\n' "$out" | grep -q "^DV_DETAILS='dl2 (node 2): .*, fenced 200s ago'$" ||
	fail "details: $out"

# Score mode reads no history; a reply that is not a status is refused.
out=$(gate --score) || fail "gate --score exited $?"
[ "$(verdict "$out")" = "|dl2" ] || fail "score mode: $out"
echo '{"node_id":1}' >"$WORK/bad"
"$DISKLINK" gate --status "$WORK/bad" >"$WORK/out" 2>&1 && fail "a JSON status was accepted"
grep -q "not a 'disklink status --shell' reply" "$WORK/out" ||
	fail "unclear error: $(cat "$WORK/out")"
"$DISKLINK" gate --status - --nodes - </dev/null >/dev/null 2>&1 && fail "two inputs on stdin"
echo "PASS: $TEST"
