"""verdict -- CTS's verdicts, from its log (--outputfile), checked against
what a phase of tests/cts/dlcts.py expects.

A phase expects, per test, either "pass" (CTS counts a call, no failure, no
audit failure) or a failure reason: the test must fail with exactly that
reason (CTS's "Test X FAILED: REASON" line; its "See previous errors" that
follows does not count).  Used for SplitBrain with the disk link kept,
which must fail with "Expected partitions were not created": the disk link
keeps the partitions together, which is disklink's success."""

import ast
import os
import re

STAMP_RE = re.compile(r"^\w{3} +\d+ (\d\d):(\d\d):(\d\d)\s")
RUNNING_RE = re.compile(r"Running test (\S+)")
FAILED_RE = re.compile(r"Test (\S+) +FAILED: (.*)$")
STATS_RE = re.compile(r"Test (\S+): +(\{.*\})")
OVERALL_RE = re.compile(r"Overall Results:(\{.*\})")
END_RE = re.compile(r"Overall Results:|TESTS COMPLETED|Interrupted")
VERDICT_RE = re.compile(r"(Running test |Test \S+ +FAILED|Overall Results|Test Summary|"
                        r"^.*Test \S+:\s+\{|BadNews:|Audit .* FAILED|TESTS COMPLETED|"
                        r"BEGINNING|Random Seed|Expected partitions|Cluster did not|"
                        r"Interrupted|Exception|Traceback|Warn: |ERROR)")
NOT_A_REASON = "See previous errors"


def _secs(line):
    m = STAMP_RE.match(line)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) if m else None


def parse(outfile):
    """{'overall': dict or None, 'tests': {name: {...}}, 'order': [names],
    'lines': {name: [log lines of that test]}} from CTS's log."""
    res = {"overall": None, "tests": {}, "order": [], "lines": {}}
    try:
        with open(outfile, errors="replace") as fh:
            text = fh.read().splitlines()
    except FileNotFoundError:
        return res
    cur, t0, last = None, None, None
    for line in text:
        now = _secs(line)
        m = RUNNING_RE.search(line)
        if m or (cur and END_RE.search(line)):
            if cur and now is not None and t0 is not None:
                res["tests"][cur]["secs"] += (now - t0) % 86400
            cur, t0 = (m.group(1), now) if m else (None, None)
            if cur:
                res["tests"].setdefault(cur, {"secs": 0, "reasons": [], "stats": None})
                res["order"].append(cur)
        if cur:
            res["lines"].setdefault(cur, []).append(line)
        m = FAILED_RE.search(line)
        if m and m.group(1) in res["tests"] and m.group(2).strip() != NOT_A_REASON:
            res["tests"][m.group(1)]["reasons"].append(m.group(2).strip())
        m = STATS_RE.search(line)
        if m and " debug: " not in line:
            st = res["tests"].setdefault(m.group(1), {"secs": 0, "reasons": [], "stats": None})
            st["stats"] = ast.literal_eval(m.group(2))
        m = OVERALL_RE.search(line)
        if m:
            res["overall"] = ast.literal_eval(m.group(1))
        last = now if now is not None else last
    if cur and last is not None and t0 is not None:   # cut short: up to its last line
        res["tests"][cur]["secs"] += (last - t0) % 86400
    return res


def check(res, expect):
    """[(test, ok, verdict text)] for each expected test: expect is
    [(test, "pass" or the failure reason it must give)]."""
    out = []
    for name, want in expect:
        t = res["tests"].get(name)
        st = t and t["stats"]
        if not st or st.get("calls", 0) < 1:
            out.append((name, False, "not run (no CTS result)"))
            continue
        fails, audit, reasons = st.get("failure", 0), st.get("auditfail", 0), t["reasons"]
        if want == "pass":
            ok = fails == 0 and audit == 0
            text = "passed" if ok else "FAILED: %s" % ("; ".join(reasons) or
                                                      "%d audit failures" % audit)
        else:
            ok = fails > 0 and audit == 0 and reasons and all(r == want for r in reasons)
            text = ("failed as expected: %s" % want) if ok else (
                "expected the failure '%s', got: %s" % (want, "; ".join(reasons) or
                                                       ("passed" if not fails else "audit failures")))
        out.append((name, ok, text))
    return out


def disklink_news(outfile):
    """CTS's BadNews lines that speak of disklink: ([all], [fatal]).  A
    fatal one says disklink's agent is not installed in the nodes (its
    resource then never runs, yet CTS does not count BadNews against a
    test: the clone went unrun unnoticed once)."""
    news, fatal = [], []
    try:
        with open(outfile, errors="replace") as fh:
            for line in fh:
                if "BadNews:" in line and "disklink" in line:
                    news.append(line.rstrip()[:300])
                    if "not installed" in line:
                        fatal.append(news[-1])
    except FileNotFoundError:
        pass
    return news, fatal


def verdict_lines(outfile):
    """CTS's own verdict lines (non-debug), to print."""
    out = []
    try:
        with open(outfile, errors="replace") as fh:
            for line in fh:
                if " debug: " not in line and VERDICT_RE.search(line):
                    out.append(line.rstrip()[:400])
    except FileNotFoundError:
        out.append("(no CTS output file %s)" % outfile)
    return out


def write_test_logs(res, out_dir, phase):
    """Each test's part of CTS's log as OUT/cts-PHASE-TEST.log; the paths."""
    paths = {}
    for name, lines in res["lines"].items():
        p = os.path.join(out_dir, "cts-%s-%s.log" % (phase, name))
        with open(p, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        paths[name] = p
    return paths
