#!/usr/bin/python3
"""test-fence-cut: the lab is real (stock corosync + Pacemaker, no disklink).

A 3-node corosync/knet + Pacemaker cluster (crypto on, votequorum without
two_node, fencing through the lab's power switch double) forms and runs an
ocf:pacemaker:Dummy resource placed on dl1.  Cutting dl1's only network link
gets dl1 fenced exactly once (and nobody else), the resource recovers on
another node, dl1 reboots into an inquorate partition of its own, and
restoring its link brings it back online in the cluster.

Exit 0 pass, 1 fail, 77 skip (1 instead of skip when CI=true).
The disk-link tests will run the same scenario with link 1 through disklinkd
and assert the opposite (nobody fenced).
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dllab  # noqa: E402
from corolink import check, say  # noqa: E402

NAME = "test-fence-cut"


def scenario(lab):
    n1, n2, n3 = lab.nodes
    lab.write_corosync_conf(token=1000, crypto=True)
    conf = open(n1.host_path("/etc/corosync/corosync.conf")).read()
    check("crypto_cipher: aes256" in conf and "two_node" not in conf,
          "corosync.conf has crypto on and no two_node")
    lab.seed_cib()
    lab.start_cluster()

    # -- membership, by corosync's own tools ---------------------------------
    lab.wait_quorate(members=[1, 2, 3], timeout=60)
    for nd in lab.nodes:
        q = nd.quorum()
        check(q["quorate"] and q["members"] == [1, 2, 3] and q["expected"] == 3,
              "%s: corosync-quorumtool quorate, members 1 2 3, expected votes 3" % nd.name)
        check(nd.cmap_members() == [1, 2, 3],
              "%s: corosync-cmapctl runtime.members = 1 2 3 joined" % nd.name)
        links = nd.link_status()
        peers = [i for i in (1, 2, 3) if i != nd.id]
        check(all(("nodeid:          %d:\tconnected" % i) in links for i in peers),
              "%s: corosync-cfgtool shows link 0 connected to %s" % (nd.name, peers))

    # -- pacemaker ------------------------------------------------------------
    lab.wait_online(timeout=90)
    say("pacemaker: all nodes online")
    lab.configure_pacemaker()
    lab.add_dummy("dummy", prefer="dl1", score=100)
    lab.wait_resource("fence-lab", timeout=60)
    where = lab.wait_resource("dummy", on="dl1", timeout=60)
    check(where == "dl1", "dummy started on dl1 (crm_mon)")
    check(n2.locate("dummy") == ["dl1"], "crm_resource --locate: dummy on dl1")
    check(lab.fencings() == [], "nobody fenced while the cluster is healthy")

    # -- cut dl1's only link ------------------------------------------------
    boots_before = n1.state().get("boots", 0)
    t_cut = time.monotonic()
    n1.cut()
    say("cut dl1's link 0")
    lab.wait_quorate(members=[2, 3], nodes=[n2, n3], timeout=30)
    t_memb = time.monotonic() - t_cut
    # token 1000 ms (+650 ms for the 3rd node) + consensus: a few seconds;
    # generous bounds only (no performance threshold)
    check(1.0 < t_memb < 30, "dl2, dl3 form a quorate membership {2,3} %.1fs after the cut "
          "(not before the 1 s token expired)" % t_memb)
    for nd in (n2, n3):
        check(nd.cmap_members() == [2, 3], "%s: cmap members 2 3" % nd.name)

    dllab.wait_for(lambda: lab.fencings("dl1"), 60, 0.5, "fencing of dl1")
    say("dl1 fencing requested: %s" % lab.fencings("dl1"))
    new = dllab.wait_for(
        lambda: (lambda w: w if w and w[0] in ("dl2", "dl3") else None)(n2.resource_nodes("dummy")),
        90, 1, "dummy recovered on dl2 or dl3")
    check(len(new) == 1 and new[0] in ("dl2", "dl3"), "dummy recovered on %s" % new[0])
    check(n3.locate("dummy") == new, "crm_resource --locate agrees (%s)" % new)
    st = n2.pcmk_nodes()
    check(not st["dl1"]["online"] and not st["dl1"]["unclean"],
          "crm_mon: dl1 offline and clean (fenced)")

    # dl1 was power-cycled: it boots again, its link still cut -> alone, inquorate
    dllab.wait_for(lambda: n1.is_on() and n1.state().get("boots", 0) > boots_before,
                   30, 0.5, "dl1 powered on again by the reboot")
    q1 = dllab.wait_for(lambda: (lambda q: q if q and q["members"] == [1] else None)(n1.quorum()),
                        30, 0.5, "dl1 corosync up alone")
    check(not q1["quorate"], "rebooted dl1 (link still cut) is alone and inquorate")
    # pacemakerd is the last boot service the fence agent starts.
    try:
        again = dllab.wait_for(lambda: n1.pid_of("corosync") and n1.pid_of("pacemaker"),
                               60, 0.2, "corosync and pacemakerd on dl1")
    except dllab.LabError:
        again = False
    check(again, "rebooted dl1 runs corosync and pacemakerd again")

    # -- restore ---------------------------------------------------------------
    n1.restore()
    say("restored dl1's link 0")
    lab.wait_quorate(members=[1, 2, 3], timeout=60)
    for nd in lab.nodes:
        check(nd.cmap_members() == [1, 2, 3], "%s: cmap members 1 2 3 after restore" % nd.name)
    lab.wait_online(timeout=90)
    say("pacemaker: all nodes online again")
    where = lab.wait_resource("dummy", timeout=60)
    check(where in ("dl1", "dl2", "dl3"), "dummy active on exactly one node (%s)" % where)
    for nd in lab.nodes:
        st = nd.pcmk_nodes()
        check(all(st[n]["online"] for n in ("dl1", "dl2", "dl3")),
              "%s: crm_mon shows dl1 dl2 dl3 online" % nd.name)

    # -- the fence log ----------------------------------------------------------
    time.sleep(3)   # anything late would show up here
    f1 = lab.fencings("dl1")
    check(len(f1) == 1, "dl1 fenced exactly once (%d off/reboot requests)" % len(f1))
    check(f1[0]["action"] == "reboot" and f1[0]["by"] in ("dl2", "dl3"),
          "the fencing was a reboot executed by a survivor (%s)" % f1[0]["by"])
    check(lab.fencings("dl2") == [] and lab.fencings("dl3") == [],
          "dl2 and dl3 never fenced")
    check(len(lab.fencings()) == 1, "exactly one fencing in all")
    # the rejoined node stays (a node that believes it was "just fenced"
    # would shut its Pacemaker down)
    check(n1.pid_of("pacemaker") is not None, "dl1's pacemakerd still runs")
    st = n2.pcmk_nodes()
    check(all(st[n]["online"] for n in ("dl1", "dl2", "dl3")),
          "dl2: crm_mon still shows dl1 dl2 dl3 online")


def main():
    return dllab.run_scenario(NAME, scenario, say, nodes=3)


if __name__ == "__main__":
    sys.exit(main())
