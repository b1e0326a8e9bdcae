#!/usr/bin/python3
"""test-mirror-failover: ocf:disklink:mirror in a 3-node lab cluster with
fencing (tests/lab/dlcluster.py: corosync link 1 through disklinkd, the
lab's power-switch fence agent, stonith-action=off).

Set up with the commands of doc/replication.md, "Two-site example" (the
link clone, the promotable mirror, a Dummy application colocated with the
promoted role and ordered after the promotion); the replication hook is
tests/replica/mirror_cmd_fake (an array replication CLI double, its
states set per node by this test, every call logged).

Asserts, in order:
 1. the mirror is promoted where the copy is current (dl1; dl2 and dl3
    lagging), the application follows, the hook promoted exactly once
    there, and dl2 reads dl1's claim (role primary) through the disk;
 2. scores: a lagging copy scores below a current one (crm_attribute
    promotion score: 10 < 100); a split copy loses its score;
 3. a split or stale copy blocks promotion: with dl1 in standby, dl2
    stale and dl3 split, nothing is promoted; once dl2 reports current,
    dl2 is promoted (never dl3), with dl1's demote logged before dl2's
    promote, and the application moves to dl2;
 4. promotion is refused while the old primary still writes its disk ring
    (crm_resource --force-promote on dl3 fails with the reason, the hook
    is not called), and allowed once the old primary was fenced
    (stonith_admin -F dl2): dl3 is promoted exactly once, after the
    fencing, the application moves to dl3, and the fence log shows one
    fencing (dl2).

Needs root, the lab's tools and the built disklinkd/disklink; exit 77
otherwise (1 under CI=true).  About 130 s on 2 cores.
"""

import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
TOP_SRC = os.environ.get("top_srcdir", os.path.abspath(os.path.join(HERE, "..", "..")))
sys.path.insert(0, os.path.join(TOP_SRC, "tests", "lab"))
import dllab  # noqa: E402
import dlagents  # noqa: E402
import dlcluster  # noqa: E402

NAME = "test-mirror-failover"
AGENTS = {"disklink": os.path.join(TOP_SRC, "agent", "disklink"),
          "mirror": os.path.join(TOP_SRC, "agent", "disklink-mirror")}
FAKE = os.path.join(TOP_SRC, "tests", "replica", "mirror_cmd_fake")
SHIM = os.path.join(TOP_SRC, "tests", "replica", "disklink_role_shim")


def calls(fake_dir):
    """The hook's call log: [(time, node, verb)]."""
    out = []
    try:
        with open(os.path.join(fake_dir, "calls.log")) as f:
            for line in f:
                p = line.split()
                kv = dict(x.split("=", 1) for x in p[1:] if "=" in x)
                out.append((float(p[0]), kv.get("node"), kv.get("verb")))
    except FileNotFoundError:
        pass
    return out


def acts(fake_dir, verb=None, since=0.0):
    return [(t, n, v) for (t, n, v) in calls(fake_dir)
            if v != "status" and (verb is None or v == verb) and t >= since]


def promoted(nd, rsc="data"):
    x = nd.crm_mon()
    if x is None:
        return None
    return sorted(n.get("name") for r in x.iter("resource")
                  if r.get("id") == rsc and r.get("role") in ("Promoted", "Master")
                  and r.get("failed") != "true" for n in r.findall("node"))


def score(via, node, rsc="data"):
    """The promotion score of rsc on node (None: unset)."""
    cp = via.exec(["crm_attribute", "-t", "status", "-N", node, "-n", "master-" + rsc,
                   "-l", "reboot", "-G", "-q"])
    v = cp.stdout.strip()
    return int(v) if cp.returncode == 0 and v.lstrip("-").isdigit() else None


def pcs(ck, nd, *args):
    cp = nd.exec(["pcs"] + list(args), timeout=120)
    ck.check(cp.returncode == 0, "pcs %s%s" % (" ".join(args),
                                               "" if cp.returncode == 0 else
                                               ": " + (cp.stderr or cp.stdout).strip()))
    return cp


def scenario(c, ck):
    n1, n2, n3 = c.nodes
    c.start(stonith_action="off")
    work = os.path.join(c.lab.dir, "mirror")
    fake_dir = os.path.join(work, "fake")
    os.makedirs(fake_dir)
    tool = os.path.join(work, "disklink")
    shutil.copy(SHIM, tool)
    with open(tool + ".real", "w") as f:
        f.write(dlcluster.disklink_bin() + "\n")

    def set_copy(nd, state):
        dllab.write_atomic(os.path.join(fake_dir, nd.name + ".state"), state + "\n")

    set_copy(n1, "current")
    set_copy(n2, "lagging lag_ms=800")
    set_copy(n3, "lagging lag_ms=900")

    cp = n1.exec(["pcs", "resource", "describe", "ocf:disklink:mirror"])
    ck.check(cp.returncode == 0 and "mirror_cmd" in cp.stdout,
             "pcs resource describe ocf:disklink:mirror accepts the meta-data")

    # doc/replication.md, "Two-site example" (tool= and binary= point at
    # the build tree; mirror_cmd at the array double).
    dev = c.device
    pcs(ck, n1, "resource", "create", "link", "ocf:disklink:disklink", "device=" + dev,
        "link=1", "binary=" + dlcluster.disklinkd_bin(), "tool=" + dlcluster.disklink_bin(),
        "op", "monitor", "interval=10s", "timeout=30s", "clone", "interleave=true")
    pcs(ck, n1, "resource", "create", "data", "ocf:disklink:mirror",
        "mirror_cmd=%s %s" % (FAKE, fake_dir), "group=data", "tool=" + tool,
        "promotable", "promoted-max=1", "notify=true", "interleave=true")
    pcs(ck, n1, "resource", "create", "app", "ocf:pacemaker:Dummy",
        "op", "monitor", "interval=10s")
    pcs(ck, n1, "constraint", "order", "start", "link-clone", "then", "start", "data-clone")
    pcs(ck, n1, "constraint", "colocation", "add", "data-clone", "with", "link-clone",
        "INFINITY")
    pcs(ck, n1, "constraint", "order", "promote", "data-clone", "then", "start", "app")
    pcs(ck, n1, "constraint", "colocation", "add", "app", "with", "Promoted", "data-clone",
        "INFINITY")

    # 1. promoted where the copy is current
    dllab.wait_for(lambda: promoted(n1) == ["dl1"], 120, 1, "data promoted on dl1")
    dllab.wait_for(lambda: n1.resource_nodes("app") == ["dl1"], 60, 1, "app on dl1")
    ck.check([n for (_, n, _) in acts(fake_dir, "promote")] == ["dl1"],
             "the hook promoted once, on dl1: %s" % acts(fake_dir))
    st = dlcluster.daemon_status(n2)
    cp = n2.exec([tool, "status", "--json"])
    peer1 = [p for p in json.loads(cp.stdout)["peers"] if p["node_id"] == 1][0]
    ck.check(peer1.get("role") == "primary" and peer1.get("mirror") == "healthy",
             "dl2 reads dl1's claim through the disk: role %s, mirror %s" % (
                 peer1.get("role"), peer1.get("mirror")))
    ck.check(st is not None, "disklink status answers on dl2")

    # 2. scores
    dllab.wait_for(lambda: score(n1, "dl2") == 10 and score(n1, "dl3") == 10, 60, 1,
                   "lagging copies score 10 on dl2, dl3")
    set_copy(n3, "current")
    dllab.wait_for(lambda: score(n1, "dl3") == 100, 60, 1, "current copy scores 100 on dl3")
    ck.check(score(n1, "dl2") == 10, "lagging dl2 scores below current dl3 (10 < 100)")
    set_copy(n3, "split")
    dllab.wait_for(lambda: score(n1, "dl3") is None, 60, 1, "split copy on dl3 loses its score")
    ck.say("scores: dl1 %s, dl2 %s, dl3 %s" % (score(n1, "dl1"), score(n1, "dl2"),
                                                score(n1, "dl3")))

    # 3. split/stale block promotion; planned failover demote-then-promote
    set_copy(n2, "stale")
    dllab.wait_for(lambda: score(n1, "dl2") is None, 60, 1, "stale copy on dl2 loses its score")
    t_standby = time.time()
    pcs(ck, n1, "node", "standby", "dl1")
    dllab.wait_for(lambda: n2.resource_nodes("data") == ["dl2", "dl3"] and
                   promoted(n2) == [], 90, 1, "dl1 demoted and stopped, nothing promoted")
    time.sleep(15)
    ck.check(promoted(n2) == [] and acts(fake_dir, "promote", t_standby) == [],
             "no promotion for 15 s while dl2 is stale and dl3 split")
    ck.check(n2.resource_nodes("app") == [], "app stopped (no promoted copy)")
    set_copy(n2, "current")
    dllab.wait_for(lambda: promoted(n2) == ["dl2"], 90, 1, "data promoted on dl2")
    dllab.wait_for(lambda: n2.resource_nodes("app") == ["dl2"], 60, 1, "app on dl2")
    seq = [(n, v) for (_, n, v) in acts(fake_dir, since=t_standby)]
    ck.check(seq == [("dl1", "demote"), ("dl2", "promote")],
             "hook order: dl1 demote, then dl2 promote (got %s)" % seq)

    # 4. refused while dl2 writes its ring; allowed once dl2 is fenced
    set_copy(n3, "current")
    dllab.wait_for(lambda: score(n2, "dl3") == 100, 60, 1, "dl3 current again (score 100)")
    t_force = time.time()
    cp = n3.exec(["crm_resource", "--force-promote", "-r", "data"], timeout=120)
    out = cp.stdout + cp.stderr
    ck.check(cp.returncode != 0, "crm_resource --force-promote on dl3 fails (rc %d)"
             % cp.returncode)
    ck.say("force-promote said: %s" % " | ".join(out.strip().splitlines()[-3:]))
    ck.check("the disk ring shows the old primary still writing" in out,
             "the refusal names the old primary still writing its ring")
    ck.check(acts(fake_dir, "promote", t_force) == [], "the hook was not asked to promote")
    ck.check(promoted(n3) == ["dl2"], "dl2 still the only promoted instance")

    t_fence = time.time()
    cp = n3.exec(["stonith_admin", "-F", "dl2", "--timeout", "60"], timeout=90)
    ck.check(cp.returncode == 0, "stonith_admin -F dl2: %s" % (cp.stderr or cp.stdout).strip())
    dllab.wait_for(lambda: promoted(n3) == ["dl3"], 120, 1, "data promoted on dl3")
    dllab.wait_for(lambda: n3.resource_nodes("app") == ["dl3"], 60, 1, "app on dl3")
    time.sleep(5)
    proms = acts(fake_dir, "promote", t_fence)
    ck.check([n for (_, n, _) in proms] == ["dl3"],
             "exactly one promotion after the fencing, on dl3: %s" % proms)
    fl = c.lab.fencings()
    ck.check(len(fl) == 1 and fl[0].get("target") == "dl2" and fl[0].get("action") == "off",
             "the fence log shows one fencing, dl2 off: %s" % fl)
    hist = n3.exec(["stonith_admin", "--history", "dl2", "--output-as=xml"]).stdout
    ck.say("fence history: %s" % " ".join(hist.split()))
    gate = n3.exec("grep -h 'old primary: ' /var/log/pacemaker/pacemaker.log | tail -n 1").stdout
    ck.say("gate on dl3: %s" % gate.strip())
    ck.check("dl2" in gate and ("fenced" in gate or "gone" in gate),
             "dl3's promotion gate saw dl2 fenced or gone")


def main():
    if os.geteuid() != 0:
        dllab.skip_or_fail("needs root")
    with dlagents.OcfAgents(AGENTS):
        return dlcluster.run_test(NAME, scenario, nodes=3)


if __name__ == "__main__":
    sys.exit(main())
