#!/usr/bin/python3
"""test-disklink-netcut: with the network cut, the disk carries the cluster.

A 3-node corosync/knet + Pacemaker cluster (crypto on, fencing on, token
3000 ms) with link 1 through disklinkd on a shared loop device.  CPG clients
on every node multicast numbered messages (up to 20 KB) throughout.  dl1's
network link (link 0) is cut for 60 s.  Sampled every second, with
corosync's own tools: the ring id never changes, every node stays quorate
with members 1 2 3, nobody is fenced, and the Dummy resource on dl1 stays
there.  During the cut, link 0 to dl1 is down and link 1 up (cmap stats,
corosync-cfgtool), and CPG messages from dl1 keep arriving.  After the
restore link 0 comes back; every CPG client received every sender's
messages with no gap, duplicate or membership change.

Exit 0 pass, 1 fail, 77 skip (1 instead of skip when CI=true).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlcluster as dc  # noqa: E402

NAME = "test-disklink-netcut"
CUT_S = 60


def received_from(report, sender):
    return sum(s["received"] for s in (report or {}).get("senders", [])
               if s["nodeid"] == sender)


def scenario(c, ck):
    lab = c.lab
    n1, n2, n3 = c.nodes
    c.start()
    lab.add_dummy("dummy", prefer="dl1", score=100)
    ck.check(lab.wait_resource("dummy", on="dl1", timeout=60) == "dl1",
             "Dummy resource started on dl1")
    for nd in c.nodes:
        links, _ = dc.cfgtool_links(nd)
        peers = [p.id for p in c.nodes if p.id != nd.id]
        ck.check(all(links.get(l, {}).get(p) == "connected" for l in (0, 1) for p in peers),
                 "%s: corosync-cfgtool -s shows links 0 and 1 connected to %s"
                 % (nd.name, peers))
    c.start_cpg()
    ck.say("CPG clients exchanging messages on all nodes")
    s0 = dc.sample_cluster(c, c.nodes)
    ring = s0["dl1"]["ring_id"]
    ck.check(ring and all(v["ring_id"] == ring and v["quorate"] and v["members"] == [1, 2, 3]
                          for v in s0.values()),
             "all nodes quorate, members 1 2 3, ring id %s" % ring)
    before = {nd.name: c.cpg_report(nd, final=False) for nd in (n2, n3)}

    # -- cut dl1's network for 60 s ------------------------------------------
    n1.cut()
    t_cut = time.monotonic()
    ck.say("cut dl1's link 0 (the switch drops its port) for %d s" % CUT_S)
    samples = 0
    link_checks = 0
    while time.monotonic() - t_cut < CUT_S:
        t = time.monotonic()
        s = dc.sample_cluster(c, c.nodes)
        for name, v in s.items():
            if not v or v["ring_id"] != ring or not v["quorate"] or \
                    v["members"] != [1, 2, 3]:
                raise AssertionError("%.1fs into the cut, %s: %s (ring was %s)" % (
                    t - t_cut, name, v, ring))
        if lab.fencings():
            raise AssertionError("fencing during the cut: %s" % lab.fencings())
        samples += 1
        # links and the resource: every 5 s, once link 0 had time to go
        # down (knet ping timeout = token / 2 = 1.8 s)
        if t - t_cut > 5 and samples % 5 == 0:
            for nd in (n2, n3):
                st = dc.links_state(nd)
                if st.get((1, 0)) or not st.get((1, 1)):
                    raise AssertionError("%.1fs into the cut, %s: link 0 to dl1 %s, link 1 %s"
                                         % (t - t_cut, nd.name, st.get((1, 0)), st.get((1, 1))))
            where = n2.resource_nodes("dummy")
            if where != ["dl1"]:
                raise AssertionError("%.1fs into the cut: dummy on %s" % (t - t_cut, where))
            link_checks += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))
    ck.check(samples >= CUT_S // 4,
             "%d one-second samples over %d s: ring id %s, quorate, members 1 2 3 on every "
             "node, fence log empty" % (samples, CUT_S, ring))
    ck.check(link_checks >= 3, "%d checks: link 0 to dl1 down, link 1 up (cmap) on dl2 and "
             "dl3, Dummy still on dl1" % link_checks)
    for nd in (n2, n3):
        links, _ = dc.cfgtool_links(nd)
        ck.check(links[0].get(1) != "connected" and links[1].get(1) == "connected",
                 "%s: corosync-cfgtool -s: link 0 to dl1 '%s', link 1 '%s'"
                 % (nd.name, links[0].get(1), links[1].get(1)))
        lat = dc.link_stats(nd, 1, 1).get("latency_ave")
        ck.say("%s: link 1 to dl1 latency_ave %s us (knet)" % (nd.name, lat))
    for nd in (n2, n3):
        now = c.cpg_report(nd, final=False)
        got = received_from(now, 1) - received_from(before[nd.name], 1)
        ck.check(got >= 10, "%s received %d CPG messages from dl1 during the cut" % (nd.name, got))
    ck.check(n1.locate("dummy") == ["dl1"], "crm_resource --locate: dummy still on dl1")

    # -- restore -----------------------------------------------------------
    n1.restore()
    t_res = time.monotonic()
    c.wait_links(link=0, timeout=60)
    ck.say("link 0 connected everywhere again %.1f s after the restore"
           % (time.monotonic() - t_res))
    time.sleep(2)
    reports = c.stop_cpg()
    probs = dc.check_cpg_reports(reports, [1, 2, 3])
    ck.check(not probs, "CPG: every node received every sender's messages with no gap, "
             "duplicate, corruption or membership change (%s)" % ", ".join(
                 "%s got %d" % (k, sum(s["received"] for s in v["senders"]))
                 for k, v in sorted(reports.items())) + ("" if not probs else ": %s" % probs))
    s1 = dc.sample_cluster(c, c.nodes)
    ck.check(all(v and v["ring_id"] == ring and v["members"] == [1, 2, 3] for v in s1.values()),
             "after the restore: ring id still %s, members 1 2 3" % ring)
    ck.check(lab.fencings() == [], "nobody was fenced (fence log empty)")
    ck.check(n3.resource_nodes("dummy") == ["dl1"], "Dummy never moved from dl1")


if __name__ == "__main__":
    sys.exit(dc.run_test(NAME, scenario))
