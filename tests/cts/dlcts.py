#!/usr/bin/python3
"""dlcts -- Pacemaker's Cluster Test Suite (CTS lab, pacemaker 2.1.5) against
a disklink cluster of namespace nodes.  See doc/cts.md.

  dlcts.py prepare WORK            get CTS from Debian's pacemaker source
                                   package and configure it into WORK
  dlcts.py run WORK [options]      for each phase of a suite: build a lab,
                                   run CTS tests, check CTS's verdicts
                                   against the expected ones, tear down

Suites (--suite): `ci` (tools/test.sh's CTS stage), `cts` (`make cts`: the
ci phases with three seeds, then the full list once), `custom` (--tests).
Parts: ctsprep.py (prepare), ctslab.py (the lab, the exerciser, running
CTS), verdict.py (CTS's log: verdicts, times).  Python 3 standard library
only; run as root.
"""

import argparse
import glob
import os
import re
import sys
import time

import ctscommon  # noqa: F401  (puts tests/lab on sys.path)
import dllab
from ctscommon import log
from ctslab import CtsLab, run_cts
from ctsprep import is_prepared, prepare
import verdict

NOT_SPLIT = "Expected partitions were not created"
SUBSET = ["StartOnebyOne", "Restart", "ComponentFail", "ResourceRecover"]
ONLY_PATH = ["StartOnebyOne", "Restart", "ResourceRecover"]
# CTS 2.1.5's tests but the remote-node ones (pacemaker-remote is not
# installed) and those CTS never selects here (Valgrind, Bandwidth, HAE*,
# RollingUpgrade, AddResource, the loop and "Lite" helpers); SplitBrain
# last, as its expected failure ends CTS's sequence
FULL = ["Flip", "Restart", "Stonithd", "StartOnebyOne", "SimulStart", "SimulStop",
        "StopOnebyOne", "RestartOnebyOne", "PartialStart", "Standby", "MaintenanceMode",
        "ResourceRecover", "ComponentFail", "Reattach", "SpecialTest1",
        "NearQuorumPoint", "SplitBrain"]


class Phase:
    """One lab, one CTS run: tests with what each must give."""

    def __init__(self, name, tests, seed, isolate=False, only_path=None,
                 splitbrain_wait=120):
        self.name, self.seed, self.isolate = name, seed, isolate
        self.only_path, self.splitbrain_wait = only_path, splitbrain_wait
        # SplitBrain: split when the disk link is cut too, not split when kept
        self.expect = [(t, NOT_SPLIT if t == "SplitBrain" and not isolate else "pass")
                       for t in tests]

    @property
    def tests(self):
        return [t for t, _ in self.expect]

    def describe(self):
        how = ("node %d's network cut: the disk is its only path" % self.only_path
               if self.only_path else
               "disk link cut with the network" if self.isolate else "disk link kept")
        return "%s (seed %d, %s)" % (self.name, self.seed, how)


def ci_phases(seed):
    return [Phase("only-path-s%d" % seed, ONLY_PATH, seed, only_path=1),
            Phase("splitbrain-disk-cut-s%d" % seed, ["SplitBrain"], seed, isolate=True),
            Phase("subset-s%d" % seed, SUBSET + ["SplitBrain"], seed)]


def phases_of(a):
    if a.suite == "ci":
        return ci_phases(a.seed)
    if a.suite == "cts":
        return [p for s in (a.seed, a.seed + 1, a.seed + 2) for p in ci_phases(s)] + \
               [Phase("full-s%d" % a.seed, FULL, a.seed, splitbrain_wait=300)]
    out = []
    if a.splitbrain_disk:
        out.append(Phase("splitbrain-disk-cut", ["SplitBrain"], a.seed, isolate=True,
                         splitbrain_wait=a.splitbrain_wait))
    if a.tests:
        out.append(Phase("main", a.tests, a.seed, isolate=a.isolate_disk,
                         only_path=a.only_path, splitbrain_wait=a.splitbrain_wait))
    return out


def run_phase(a, ph, out_dir, left):
    """Lab up, CTS, logs kept, lab down (always).  CTS's log path."""
    lab = CtsLab(a.work, a.builddir, nodes=a.nodes, disk=not a.no_disk,
                 agent=not a.no_agent, only_path=ph.only_path)
    outfile = os.path.join(out_dir, "cts-%s.log" % ph.name)
    for f in (outfile, outfile + ".stderr"):
        if os.path.exists(f):
            os.unlink(f)
    log("phase %s" % ph.describe())
    try:
        lab.setup()
        lab.set_disk_isolation(ph.isolate)
        run_cts(lab, ph.tests, outfile, int(left) - 60, ph.seed,
                splitbrain_wait=ph.splitbrain_wait)
    except dllab.LabError as e:
        log("lab error: %s" % e)
        dllab.report_failure(lab, "cts-" + ph.name)
    finally:
        try:
            lab.collect_logs(os.path.join(out_dir, "lab-" + ph.name))
        except Exception as e:  # noqa: the logs are a help, not the verdict
            log("log collection: %s" % e)
        lab.destroy()
    left_behind = dllab.leftovers(lab.id)
    if left_behind:
        log("lab %s left behind: %s" % (lab.id, left_behind))
    return outfile, left_behind


def only_path_evidence(ph, lab_dir):
    """The only-path node's traffic went through the disk: in every other
    node's collected logs, knet saw its link 1 up and never its link 0."""
    link = {0: 0, 1: 0}
    for f in glob.glob(os.path.join(lab_dir, "dl*", "var-log", "**", "*"), recursive=True):
        if "/dl%d/" % ph.only_path in f or not os.path.isfile(f):
            continue
        with open(f, errors="replace") as fh:
            for line in fh:
                m = re.search(r"host: %d link: ([01]) is up" % ph.only_path, line)
                if m:
                    link[int(m.group(1))] += 1
    ok = link[1] > 0 and link[0] == 0
    return ok, "knet on the other nodes: node %d's link 1 (disk) up %d times, link 0 %d" % (
        ph.only_path, link[1], link[0])


def report_phase(ph, outfile, left_behind, out_dir, table):
    """Print CTS's verdicts and ours; rows into table; True if as expected."""
    res = verdict.parse(outfile)
    logs = verdict.write_test_logs(res, out_dir, ph.name)
    print("==== CTS phase %s: %s" % (ph.describe(), outfile))
    for line in verdict.verdict_lines(outfile):
        print(line)
    ok = res["overall"] is not None and not left_behind
    print("==== %s: CTS Overall Results: %s" % (ph.name, res["overall"]))
    if left_behind:
        print("==== %s: FAILED: the lab left behind %s" % (ph.name, left_behind))
    for name, good, text in verdict.check(res, ph.expect):
        secs = res["tests"].get(name, {}).get("secs", 0)
        table.append((ph.name, name, ph.seed, text, secs))
        print("==== %-28s %-16s seed %d  %4d s  %s" % (ph.name, name, ph.seed, secs, text))
        if not good:
            ok = False
            lp = logs.get(name, outfile)
            print("---- %s failed; its log: %s (node logs: %s); last lines:" % (
                name, lp, os.path.join(out_dir, "lab-" + ph.name)))
            with open(lp, errors="replace") if os.path.exists(lp) else open(os.devnull) as fh:
                for line in fh.readlines()[-40:]:
                    print("    " + line.rstrip()[:300])
    news, fatal = verdict.disklink_news(outfile)
    print("==== %s: %d BadNews lines of disklink%s" % (ph.name, len(news), ":" if news else ""))
    for line in news[:10]:
        print("    " + line)
    if fatal:
        print("==== %s: FAILED: disklink's agent is not installed in the nodes" % ph.name)
        ok = False
    if ph.only_path:
        good, text = only_path_evidence(ph, os.path.join(out_dir, "lab-" + ph.name))
        print("==== %s: %s%s" % (ph.name, "" if good else "FAILED: ", text))
        ok = ok and good
    if res["overall"] is None:
        print("==== %s: FAILED: CTS gave no Overall Results (%s.stderr)" % (ph.name, outfile))
    return ok


def cmd_run(a):
    if not is_prepared(a.work):
        prepare(a.work)
    try:
        dllab.check_prereqs()
    except dllab.LabSkip as e:
        dllab.skip_or_fail(str(e))
    out_dir = os.path.abspath(a.output)
    os.makedirs(out_dir, exist_ok=True)
    deadline = time.monotonic() + a.timeout
    table, failed = [], []
    t_all = time.monotonic()
    for ph in phases_of(a):
        left = deadline - time.monotonic()
        if left < 180:
            print("==== %s: FAILED: not run, the time bound (%d s) was reached" % (
                ph.name, a.timeout))
            failed.append(ph.name)
            continue
        t0 = time.monotonic()
        outfile, left_behind = run_phase(a, ph, out_dir, left)
        if not report_phase(ph, outfile, left_behind, out_dir, table):
            failed.append(ph.name)
        print("==== %s: %.0f s" % (ph.name, time.monotonic() - t0))
    with open(os.path.join(out_dir, "results.txt"), "w") as fh:
        fh.write("phase\ttest\tseed\tsecs\tverdict\n")
        for ph, name, seed, text, secs in table:
            fh.write("%s\t%s\t%d\t%d\t%s\n" % (ph, name, seed, secs, text))
    print("==== CTS: %d phases in %.0f s; %s" % (
        len(phases_of(a)), time.monotonic() - t_all,
        "all as expected" if not failed else "FAILED: " + ", ".join(failed)))
    return 1 if failed else 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="dlcts", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare", help="get and configure CTS into WORK")
    pp.add_argument("work")
    r = sub.add_parser("run", help="build labs and run CTS tests")
    r.add_argument("work")
    r.add_argument("--builddir", default=os.environ.get("top_builddir", "."),
                   help="build tree with knet-transport/disklinkd and disklink")
    r.add_argument("--suite", choices=("ci", "cts", "custom"), default="custom")
    r.add_argument("--nodes", type=int, default=3)
    r.add_argument("--tests", default=",".join(SUBSET + ["SplitBrain"]),
                   help="custom: comma-separated CTS test names ('' for none)")
    r.add_argument("--splitbrain-disk", action="store_true",
                   help="custom: first SplitBrain on its own lab, disk link cut too")
    r.add_argument("--isolate-disk", action="store_true",
                   help="custom: cut the disk link with the network in the main phase")
    r.add_argument("--only-path", type=int, default=None, metavar="ID",
                   help="custom: cut node ID's network for the whole run")
    r.add_argument("--splitbrain-wait", type=int, default=300,
                   help="custom: how long SplitBrain waits for the partitions (s)")
    r.add_argument("--no-disk", action="store_true", help="no disk link (plain cluster)")
    r.add_argument("--no-agent", action="store_true", help="no ocf:disklink:disklink clone")
    r.add_argument("--timeout", type=int, default=3600, help="total time bound (s)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--output", default="cts-results")
    a = p.parse_args(argv)
    if a.cmd == "prepare":
        prepare(a.work)
        return 0
    a.tests = [t for t in a.tests.split(",") if t]
    return cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
