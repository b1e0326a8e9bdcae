"""dllab.scenario -- the frame every lab test shares: create a lab, run the
scenario, report a failure with the logs (so a CI log alone explains it),
destroy the lab and check that nothing was left behind; skip or fail when
this machine cannot run a lab."""

import glob
import os
import sys
import time

from .base import LabError, LabSkip
from .lab import Lab
from .proc import survivors
from .teardown import leftovers

SKIP = 77


def skip_or_fail(reason):
    """Exit 77 (skip), or 1 when CI=true (a skip in CI is a failure)."""
    if os.environ.get("CI") == "true":
        print("FAIL (CI=true, would skip): %s" % reason)
        sys.exit(1)
    print("SKIP: %s" % reason)
    sys.exit(SKIP)


def artifacts_dir(name):
    base = os.environ.get("DLLAB_ARTIFACTS", "/tmp/dllab-artifacts")
    return os.path.join(base, "%s-%s" % (name, time.strftime("%Y%m%d-%H%M%S")))


def run_scenario(name, scenario, say, nodes=3, loops=()):
    """The frame of a lab test: create a lab of `nodes` nodes (skip, or
    fail under CI=true, when this machine cannot), run scenario(lab),
    collect the logs if it failed, destroy the lab, and check that nothing
    was left behind.  Returns the test's exit status (0 pass, 1 fail)."""
    lab = Lab(nodes=nodes)
    try:
        lab.create(loops=loops)
    except LabSkip as e:
        skip_or_fail(str(e))
    ok = False
    try:
        scenario(lab)
        ok = True
    except (AssertionError, LabError) as e:
        say("FAIL: %s" % e)
    finally:
        snap = lab.process_snapshot()
        if not ok:
            try:
                report_failure(lab, name)
            except Exception as e:  # noqa
                say("log collection failed: %s" % e)
        lab.destroy()
    left = leftovers(lab.id)
    alive = survivors(snap)
    if left or alive:
        say("FAIL: left behind: %s %s" % (left, alive))
        return 1
    say("ok: no namespace, loop device, process or file left behind")
    say("PASS" if ok else "FAIL")
    return 0 if ok else 1


def report_failure(lab, name, tail=40):
    """Collect the lab's logs into an artifacts dir and print the essentials
    (fence log, per-node status, log tails) to stdout, so that a CI log
    (test-suite.log) alone explains a failure.  Returns the artifacts dir."""
    dest = lab.collect_logs(artifacts_dir(name))
    print("==== lab logs collected in %s" % dest)
    for path in sorted(glob.glob(os.path.join(dest, "*.log"))) + \
            sorted(glob.glob(os.path.join(dest, "*", "status.txt"))) + \
            sorted(glob.glob(os.path.join(dest, "*", "var-log", "*", "*.log"))):
        try:
            with open(path, errors="replace") as f:
                lines = f.readlines()
        except OSError:
            continue
        print("==== %s (last %d of %d lines)" % (os.path.relpath(path, dest),
                                                min(tail, len(lines)), len(lines)))
        sys.stdout.write("".join(l[:300] + ("\n" if len(l) > 300 else "")
                                 for l in lines[-tail:]))
    sys.stdout.flush()
    return dest
