#!/usr/bin/python3
"""test-vnic-lab: knet link 1 on dl0 (disklinkd in TUN mode, corosync mode) carries a
3-node cluster through a 60 s network cut, and dl0 carries the operator's
traffic too.

A 3-node corosync/knet + Pacemaker cluster (crypto on, fencing on, token
3000 ms) whose link 1 uses the nodes' dl0 addresses (169.254.0.<id>,
disklinkd --mode tun --link 1 on one shared loop device: the daemons take
node ids, port, peers and dl0's addresses from corosync's cmap).  dl1's every network
link is cut for 60 s.  Sampled throughout: the ring id never changes,
every node stays quorate with members 1 2 3, nobody is fenced.  During
the cut: ping over dl0 works both ways, 10 MB cross over TCP (socat) with
a matching checksum while membership holds, and `tcpdump -i dl0` on dl2
captures knet's packets.

Exit 0 pass, 1 fail, 77 skip (1 instead of skip when CI=true).
"""

import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
import dlcluster as dc  # noqa: E402

NAME = "test-vnic-lab"
CUT_S = 60


def tun_addr(node_id):
    return "169.254.%d.%d" % (node_id >> 8, node_id & 255)


class TunCluster(dc.Cluster):
    """dlcluster's cluster with link 1 on dl0: disklinkd in TUN mode and
    corosync mode (--link 1: node id, port and peers from cmap, dl0's
    address from corosync.conf's ring1_addr), started before corosync: it
    creates dl0 and waits for corosync; knet binds link 1's address before
    dl0 has it and the link comes up once disklinkd configured dl0."""

    def create(self):
        super().create()
        self.mode = "tun"
        dc.say("cluster: link 1 on dl0 (%s): disklinkd in TUN and corosync mode, before "
               "corosync" % ", ".join(tun_addr(nd.id) for nd in self.nodes))
        return self

    def links(self):
        return [{"priority": dc.NET_PRIORITY},
                {"addrs": {nd.id: tun_addr(nd.id) for nd in self.nodes},
                 "priority": dc.DISK_PRIORITY, "mcastport": dc.DISK_PORT}]

    def start_daemon(self, nd):
        argv = [dc.disklinkd_bin(), "--device", self.device, "--foreground",
                "--log-file", dc.DAEMON_LOG, "--mode", "tun", "--link", "1"]
        return nd.spawn(argv, name="disklinkd", boot=True, before="corosync")

    def start(self, fencing=True, stonith_action="reboot", timeout=120):
        for nd in self.nodes:
            self.start_daemon(nd)
        for nd in self.nodes:
            nd.start_corosync()
        for nd in self.nodes:
            self.wait_daemon(nd, timeout=timeout)
        for nd in self.nodes:
            nd.start_pacemaker()
        self.lab.wait_quorate(timeout=timeout)
        self.wait_links(timeout=timeout)
        self.lab.wait_online(timeout=timeout)
        if fencing:
            self.lab.configure_pacemaker(stonith_action=stonith_action)
            self.lab.wait_resource("fence-lab", timeout=timeout)
        dc.say("cluster: quorate, link 1 on dl0 connected everywhere, Pacemaker online")


def from_corosync(c, ck):
    """Each daemon took its link from cmap and gave dl0 its ring1_addr."""
    for nd in c.nodes:
        log = nd.sh("cat %s" % dc.DAEMON_LOG)
        ck.check("corosync link 1: node %d " % nd.id in log,
                 "%s: disklinkd took link 1 from corosync" % nd.name)
        addr = nd.sh("ip -4 -o addr show dev dl0")
        ck.check("%s/16" % tun_addr(nd.id) in addr,
                 "%s: dl0 has corosync's ring1_addr %s" % (nd.name, tun_addr(nd.id)))


def holds(c, ring, when):
    s = dc.sample_cluster(c, c.nodes)
    for name, v in s.items():
        if not v or v["ring_id"] != ring or not v["quorate"] or v["members"] != [1, 2, 3]:
            raise AssertionError("%s, %s: %s (ring was %s)" % (when, name, v, ring))
    if c.lab.fencings():
        raise AssertionError("%s: fencing: %s" % (when, c.lab.fencings()))


def during_cut(c, ck, ring):
    n1, n2, _ = c.nodes
    for a, b in ((n2, n1), (n1, n2)):
        cp = a.exec(["ping", "-c", "3", "-i", "0.3", "-W", "2", tun_addr(b.id)], timeout=20)
        ck.check(cp.returncode == 0, "ping %s -> %s over dl0 during the cut: %s"
                 % (a.name, b.name, cp.stdout.strip().splitlines()[-1:]))
    holds(c, ring, "after the pings")
    cap = n2.exec("timeout 15 tcpdump -n -i dl0 -c 5 udp port %d 2>&1" % dc.DISK_PORT,
                  timeout=30)
    ck.check(len(re.findall(r" IP %s\.\d+ > " % re.escape(tun_addr(1)), cap.stdout)) > 0,
             "tcpdump -i dl0 on dl2 captures knet's packets from dl1")
    n1.sh("head -c 10000000 /dev/urandom > /run/vnic-blob")
    want = n1.sh("sha256sum < /run/vnic-blob").split()[0]
    n2.sh("rm -f /run/vnic-got; (timeout 90 socat -u TCP-LISTEN:7000,bind=%s,reuseaddr "
          "OPEN:/run/vnic-got,creat,trunc >/dev/null 2>&1 &)" % tun_addr(2))
    time.sleep(0.5)
    t0 = time.monotonic()
    cp = n1.exec("timeout 90 socat -u OPEN:/run/vnic-blob TCP:%s:7000" % tun_addr(2),
                 timeout=100)
    ck.check(cp.returncode == 0, "socat sent 10 MB from dl1 to dl2 over dl0 in %.1f s"
             % (time.monotonic() - t0))
    got = ""
    for _ in range(50):
        got = n2.sh("sha256sum < /run/vnic-got").split()[0]
        if got == want:
            break
        time.sleep(0.2)
    ck.check(got == want, "10 MB over TCP during the cut: checksum matches")
    holds(c, ring, "after the TCP transfer")


def scenario(c, ck):
    n1 = c.nodes[0]
    c.start()
    from_corosync(c, ck)
    s0 = dc.sample_cluster(c, c.nodes)
    ring = s0["dl1"]["ring_id"]
    ck.check(ring and all(v["ring_id"] == ring and v["quorate"] and v["members"] == [1, 2, 3]
                          for v in s0.values()),
             "all nodes quorate, members 1 2 3, ring id %s" % ring)
    n1.cut()
    t_cut = time.monotonic()
    ck.say("cut dl1's network for %d s" % CUT_S)
    did = False
    samples = 0
    while time.monotonic() - t_cut < CUT_S:
        t = time.monotonic()
        holds(c, ring, "%.1fs into the cut" % (t - t_cut))
        samples += 1
        if not did and t - t_cut > 8:
            during_cut(c, ck, ring)
            did = True
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))
    ck.check(did and samples >= CUT_S // 4,
             "%d samples over %d s: ring id %s, quorate, members 1 2 3, nobody fenced"
             % (samples, CUT_S, ring))
    n1.restore()
    c.wait_links(link=0, timeout=60)
    holds(c, ring, "after the restore")
    ck.check(c.lab.fencings() == [], "nobody was fenced")


if __name__ == "__main__":
    dc.Cluster = TunCluster
    sys.exit(dc.run_test(NAME, scenario))
