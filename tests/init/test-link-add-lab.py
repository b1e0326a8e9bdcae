#!/usr/bin/python3
"""test-link-add-lab: a disk link added to a running cluster, by the book.

In the lab (tests/lab/dllab.py: 3 nodes, crypto on, link 0 on the lab's
bridge), corosync runs with link 0 only.  The volume is formatted with
`disklink format`; disklinkd starts on every node in corosync mode
(`--device LOOP --link 1`) and waits, since link 1 is not configured yet.
Then `disklink corosync-link --apply` runs on every node (it edits the
node's corosync.conf and runs `corosync-cfgtool -R`).  Asserted with
corosync's own tools:

- corosync-cfgtool -s on every node shows link 1 connected to every peer;
- the membership did not change: the ring id (corosync-quorumtool -s "Ring
  ID"; corosync 3.1.7 has no ring id key in cmap) and cmap's
  runtime.members.N.join_count are the same as before on every node, and
  the members are still 1 2 3;
- each disklinkd follows corosync: status shows corosync "connected", its
  own ring address and the port, both peers "up".

Then two reloads (corosync-cfgtool -R reloads every node): node 3 removed
from the nodelist of nodes 1 and 2, so their daemons drop peer 3 and close
its socket; then added back, so they bind it again (corosync 3.1.7 wants
every node on the same links and refuses to change an address in place,
so nodes removed and added are what a reload does).  No daemon restarts
(same pids) and link 1 is connected everywhere again.  Then corosync stops
on dl2 (its disklinkd keeps the last configuration) and starts again (it
reconnects).  Last, refusals: an explicit --node-id that contradicts
corosync (exit 2) and a volume of another cluster (exit 3).

Exit 0 pass, 1 fail, 77 skip (1 instead of skip when CI=true).
"""

import os
import re
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lab"))
import dllab  # noqa: E402
from corolink import (DL, DLD, LINK_PORT, check, daemons_follow, drop_node3,  # noqa: E402
                      link1_up, links, restore_node3, say, status)

NAME = "test-link-add-lab"


def ring_id(nd):
    """The ring id as corosync-quorumtool -s shows it ("Ring ID: 1.c")."""
    cp = nd.exec(["corosync-quorumtool", "-s"], timeout=15)
    m = re.search(r"Ring ID:\s+(\S+)", cp.stdout)
    return m.group(1) if m else None


def join_counts(nd):
    """cmap runtime.members.N.join_count: how often each member joined.
    (corosync 3.1.7 has no ring id key in cmap; a membership change would
    show in the join counts and in quorumtool's Ring ID.)"""
    cp = nd.exec(["corosync-cmapctl", "-b", "runtime.members"], timeout=15)
    vals = dict((int(a), int(b)) for a, b in re.findall(
        r"runtime\.members\.(\d+)\.join_count \(u32\) = (\d+)", cp.stdout))
    return vals or None


def scenario(lab):
    loop = lab.loops[0]
    lab.write_corosync_conf(token=1000, crypto=True)
    lab.start_cluster(pacemaker=False)
    lab.wait_quorate(members=[1, 2, 3], timeout=60)
    check(all(list(links(nd)) == [0] for nd in lab.nodes),
          "corosync-cfgtool -s: link 0 only on every node")

    cp = dllab.run([DL, "format", loop, "--cluster", "dllab", "--slots", "4"], check=False)
    check(cp.returncode == 0, "disklink format %s --cluster dllab (%s)" % (loop, cp.stderr.strip()))
    pids = {}
    for nd in lab.nodes:
        pids[nd.id] = nd.spawn([DLD, "--foreground", "--device", loop, "--link", "1"],
                               name="disklinkd")
    dllab.wait_for(lambda: all((status(nd) or {}).get("corosync") == "waiting"
                               for nd in lab.nodes), 20, 0.3, "disklinkd waiting")
    check(True, "disklinkd runs on every node and waits for corosync's link 1")

    before = {nd.id: ring_id(nd) for nd in lab.nodes}
    before_cmap = {nd.id: join_counts(nd) for nd in lab.nodes}
    check(all(before.values()), "ring ids before: %s" % before)
    check(all(before_cmap.values()), "cmap join counts before: %s" % before_cmap)

    for nd in lab.nodes:
        cp = nd.exec([DL, "corosync-link", "--link", "1", "--apply"], timeout=60)
        check(cp.returncode == 0, "%s: disklink corosync-link --link 1 --apply (%s)"
              % (nd.name, (cp.stdout + cp.stderr).strip().splitlines()[-1:]))
        conf = nd.exec(["cat", "/etc/corosync/corosync.conf"]).stdout
        check("ring1_addr: 127.77.0.%d" % nd.id in conf, "%s: corosync.conf has link 1" % nd.name)

    def peers_of(nd):
        return [p.id for p in lab.nodes if p is not nd]
    dllab.wait_for(lambda: link1_up(lab.nodes), 60, 0.5, "link 1 connected everywhere")
    for nd in lab.nodes:
        check(all(links(nd)[1][p] == "connected" for p in peers_of(nd)),
              "%s: corosync-cfgtool -s shows link 1 connected to %s" % (nd.name, peers_of(nd)))
    dllab.wait_for(lambda: daemons_follow(lab.nodes, lambda i: "127.77.0.%d" % i, LINK_PORT), 30, 0.5,
                   "disklinkd status")
    check(True, "each disklinkd: corosync connected, own address 127.77.0.N:%d, peers up" % LINK_PORT)

    after = {nd.id: ring_id(nd) for nd in lab.nodes}
    after_cmap = {nd.id: join_counts(nd) for nd in lab.nodes}
    check(after == before, "ring id unchanged (quorumtool): %s" % after)
    check(after_cmap == before_cmap, "join counts unchanged (cmap): %s" % after_cmap)
    for nd in lab.nodes:
        q = nd.quorum()
        check(q["quorate"] and q["members"] == [1, 2, 3],
              "%s: still quorate with members 1 2 3" % nd.name)

    # -- reloads: node 3 removed from the nodelist, then added back ------------
    # (corosync needs every node on the same links, and refuses to change an
    # address in place: nodes removed and added are what a reload can do.)
    n1, n2, n3 = lab.nodes
    for nd in (n1, n2):
        conf = drop_node3(nd)
        check("dl3" not in conf and "ring1_addr: 127.77.0.2" in conf,
              "%s: node 3 removed from corosync.conf" % nd.name)
    cp = n1.exec(["corosync-cfgtool", "-R"], timeout=30)
    check(cp.returncode == 0, "dl1: corosync-cfgtool -R (node 3 removed)")

    def dropped():
        for nd in (n1, n2):
            st = status(nd)
            other = [p.id for p in (n1, n2) if p is not nd]
            if not st or [p["node_id"] for p in st["peers"]] != other:
                return False
            if any(p["state"] != "up" for p in st["peers"]) or st["corosync_reloads"] < 1:
                return False
        return True
    dllab.wait_for(dropped, 30, 0.5, "peer 3 dropped")
    check(True, "dl1, dl2: disklinkd dropped peer 3 without a restart, the other peer up")
    for nd in (n1, n2):
        cp = nd.exec(["ss", "-Hunl", "src", "127.77.0.3"])
        check(cp.returncode == 0 and cp.stdout.strip() == "",
              "%s: nothing bound on 127.77.0.3 any more" % nd.name)
        cp = nd.exec(["ss", "-Hunl", "src", "127.77.0.%d" % (3 - nd.id)])
        check(":%d" % LINK_PORT in cp.stdout, "%s: the other peer's socket stays bound" % nd.name)
    lab.wait_quorate(members=[1, 2], nodes=[n1, n2], timeout=60)
    check(True, "corosync: dl1 and dl2 form a membership of 1 2")

    for nd in (n1, n2):
        restore_node3(nd)
    cp = n1.exec(["corosync-cfgtool", "-R"], timeout=30)
    check(cp.returncode == 0, "dl1: corosync-cfgtool -R (node 3 added back)")
    dllab.wait_for(lambda: daemons_follow(lab.nodes, lambda i: "127.77.0.%d" % i, LINK_PORT), 60, 0.5,
                   "disklinkd following node 3's return")
    check(True, "each disklinkd follows the reload: peer 3 bound again, all peers up")
    lab.wait_quorate(members=[1, 2, 3], timeout=60)
    dllab.wait_for(lambda: link1_up(lab.nodes), 60, 0.5, "link 1 connected again")
    check(True, "corosync-cfgtool -s: link 1 connected everywhere after the reloads")
    for nd in lab.nodes:
        check(nd.pid_of("disklinkd") == pids[nd.id], "%s: same disklinkd (no restart)" % nd.name)

    # -- corosync goes away and comes back on dl2 -------------------------------
    n2.stop_service("corosync", timeout=30)
    dllab.wait_for(lambda: (status(n2) or {}).get("corosync") == "disconnected", 20, 0.3,
                   "dl2 disklinkd: corosync disconnected")
    st = status(n2)
    check(st["local_addr"] == "127.77.0.2" and len(st["peers"]) == 2 and
          n2.pid_of("disklinkd") == pids[2],
          "dl2: corosync stopped; disklinkd keeps serving its last configuration")
    n2.start_corosync()
    dllab.wait_for(lambda: (status(n2) or {}).get("corosync") == "connected", 40, 0.5,
                   "dl2 disklinkd: reconnected")
    lab.wait_quorate(members=[1, 2, 3], timeout=60)
    dllab.wait_for(lambda: link1_up(lab.nodes), 60, 0.5, "link 1 connected again")
    check(n2.pid_of("disklinkd") == pids[2], "dl2: corosync back; disklinkd reconnected "
          "(same pid), link 1 connected everywhere")

    # -- refusals (dl1's daemon stopped first: its ports are free) -------------
    n1.stop_service("disklinkd", timeout=15)
    cp = n1.exec([DLD, "--device", loop, "--link", "1", "--node-id", "7"], timeout=30)
    err = cp.stderr.strip()
    check(cp.returncode == 2 and len(err.splitlines()) == 1 and "7" in err and
          "node id 1" in err, "an explicit --node-id 7 contradicting corosync: exit 2, "
          "one line naming both: %r" % err)
    other = lab.add_loop(16 << 20, 4096)
    cp = dllab.run([DL, "format", other, "--cluster", "elsewhere", "--slots", "4"], check=False)
    check(cp.returncode == 0, "a volume of cluster 'elsewhere' on %s" % other)
    cp = n1.exec([DLD, "--device", other, "--link", "1"], timeout=30)
    err = cp.stderr.strip()
    check(cp.returncode == 3 and len(err.splitlines()) == 1 and "'elsewhere'" in err and
          "'dllab'" in err, "a volume of another cluster: exit 3, one line: %r" % err)


def main():
    if not (os.access(DL, os.X_OK) and os.access(DLD, os.X_OK)):
        print("FAIL: %s or %s not built" % (DL, DLD))
        return 1
    return dllab.run_scenario(NAME, scenario, say, nodes=3, loops=[(16 << 20, 4096)])


if __name__ == "__main__":
    sys.exit(main())
