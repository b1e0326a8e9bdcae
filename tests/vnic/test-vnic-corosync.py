#!/usr/bin/python3
"""test-vnic-corosync: TUN mode in corosync mode, a dl0 link added to a
running cluster by the book, and corosync's reloads followed.

In the lab (tests/lab/dllab: 3 nodes, crypto on, link 0 on the lab's
bridge) corosync runs with link 0 only, Pacemaker off.  disklinkd starts on
every node with `--mode tun --link 1`: it creates dl0 (no address yet) and
waits, link 1 not being configured.  `disklink corosync-link --link 1 --tun
--apply` then runs on every node (corosync.conf gets ring1_addr
169.254.0.N, corosync-cfgtool -R): each daemon takes node id, port, peers
and dl0's address from cmap, dl0 comes up with 169.254.0.N/16, knet's
link 1 connects over it and ping crosses dl0; the daemons kept
CAP_NET_ADMIN while they waited and dropped it once dl0 was configured.
Then two reloads: node 3
removed from the nodelist of nodes 1 and 2 (their daemons drop peer 3:
169.254.0.3 gets an ICMP unreachable) and added back (peer 3 again, ping
crosses); no daemon restarts.  Last, a refusal: an explicit --node-id
contradicting corosync: exit 2, one line, and no dl0 left behind.
Then again, shorter, with link 1 on the IPv6 dl0 addresses (tun_ipv6 in
the daemons' --config file, `disklink corosync-link --tun-ipv6 PREFIX`): dl0 gets both
addresses from the plan and corosync, knet's link 1 runs over IPv6 on dl0.

Exit 0 pass, 1 fail, 77 skip (1 instead of skip when CI=true).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lab"))
import dllab  # noqa: E402
import corolink  # noqa: E402
from corolink import (DL, DLD, LINK_PORT, check, drop_node3, link1_up,  # noqa: E402
                      restore_node3, say, status)

NAME = "test-vnic-corosync"
PFX = "fd5a:1b2c:3d4e:1"
V6 = False                     # the run: link 1 on the IPv4 or the IPv6 dl0 addresses


def addr(i):
    """Node i's ring1_addr: its dl0 address."""
    return "%s::%d" % (PFX, i) if V6 else "169.254.0.%d" % i


def daemons_follow(nodes):
    """Each daemon: corosync connected, dl0 on its ring1_addr, the others
    its peers, up."""
    return corolink.daemons_follow(nodes, addr, LINK_PORT)


CAP_NET_ADMIN = 1 << 12
CAP_NET_BIND_SERVICE = 1 << 10


def cap_eff(pid):
    """The effective capability set of process pid."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return None


def ping(nd, to, want="ok", tries=10):
    """ping -c1 until it answers (want "ok") or reports the address
    unreachable (want "unreachable"); the last attempt's result."""
    for _ in range(tries):
        cp = nd.exec(["ping", "-6" if ":" in to else "-4", "-c", "1", "-W", "2", to],
                     timeout=15)
        if (cp.returncode == 0) if want == "ok" else ("nreachable" in cp.stdout):
            break
        time.sleep(0.5)
    return cp


def add_link(lab):
    """disklink corosync-link --tun --apply on every node; the daemons
    configure dl0 from cmap; knet's link 1 connects over it."""
    opt = ["--tun-ipv6", PFX + "::/64"] if V6 else ["--tun"]
    for nd in lab.nodes:
        cp = nd.exec([DL, "corosync-link", "--link", "1", "--apply"] + opt, timeout=60)
        check(cp.returncode == 0, "%s: disklink corosync-link --link 1 %s --apply (%s)"
              % (nd.name, " ".join(opt), (cp.stdout + cp.stderr).strip().splitlines()[-1:]))
        conf = nd.sh("cat /etc/corosync/corosync.conf")
        check("ring1_addr: %s" % addr(nd.id) in conf, "%s: corosync.conf has link 1 on %s"
              % (nd.name, addr(nd.id)))
    dllab.wait_for(lambda: daemons_follow(lab.nodes), 60, 0.5, "disklinkd configured from cmap")
    check(True, "each disklinkd: corosync connected, dl0 on %s, port %d, peers up"
          % (PFX + "::N" if V6 else "169.254.0.N", LINK_PORT))
    for nd in lab.nodes:
        a = nd.sh("ip -o addr show dev dl0")
        v4 = "169.254.0.%d/16" % nd.id
        check(v4 in a and (not V6 or "%s/64" % addr(nd.id) in a),
              "%s: dl0 has %s%s" % (nd.name, v4, " and %s/64" % addr(nd.id) if V6 else ""))
    dllab.wait_for(lambda: link1_up(lab.nodes), 60, 0.5, "link 1 connected everywhere")
    check(True, "corosync-cfgtool -s: knet link 1 connected everywhere over dl0")
    n1, n2, _ = lab.nodes
    cp = ping(n2, addr(1))
    check(cp.returncode == 0, "ping dl2 -> dl1 over dl0")


def without_node3(lab):
    """Node 3 removed from the nodelist of nodes 1 and 2 (corosync-cfgtool
    -R): their daemons drop peer 3; then added back."""
    n1, n2, n3 = lab.nodes
    for nd in (n1, n2):
        conf = drop_node3(nd)
        check("dl3" not in conf and "ring1_addr: %s" % addr(2) in conf,
              "%s: node 3 removed from corosync.conf" % nd.name)
    cp = n1.exec(["corosync-cfgtool", "-R"], timeout=30)
    check(cp.returncode == 0, "dl1: corosync-cfgtool -R (node 3 removed)")
    dllab.wait_for(lambda: daemons_follow([n1, n2]), 30, 0.5, "peer 3 dropped")
    check(all(status(nd)["corosync_reloads"] >= 1 for nd in (n1, n2)),
          "dl1, dl2: disklinkd dropped peer 3 without a restart (a reload applied)")
    cp = ping(n1, addr(3), want="unreachable")
    check("nreachable" in cp.stdout, "dl1: 169.254.0.3 is nobody's now: %s"
          % cp.stdout.strip().splitlines()[1:2])
    for nd in (n1, n2):
        restore_node3(nd)
    cp = n1.exec(["corosync-cfgtool", "-R"], timeout=30)
    check(cp.returncode == 0, "dl1: corosync-cfgtool -R (node 3 added back)")
    dllab.wait_for(lambda: daemons_follow(lab.nodes), 60, 0.5, "disklinkd following node 3")
    check(True, "each disklinkd follows the reload: peer 3 back, all peers up")
    lab.wait_quorate(members=[1, 2, 3], timeout=60)
    dllab.wait_for(lambda: link1_up(lab.nodes), 60, 0.5, "link 1 connected again")
    cp = ping(n1, addr(3))
    check(cp.returncode == 0, "ping dl1 -> dl3 over dl0 again")


def scenario(lab):
    loop = lab.loops[0]
    conf = []
    if V6:                     # a node-private disklink.conf with tun_ipv6
        conf = ["--config", "/etc/corosync/disklink.conf"]
        for nd in lab.nodes:
            nd.write_file(conf[1], "tun_ipv6 = %s::/64\n" % PFX)
    lab.write_corosync_conf(token=1000, crypto=True)
    lab.start_cluster(pacemaker=False)
    lab.wait_quorate(members=[1, 2, 3], timeout=60)
    cp = dllab.run([DL, "format", loop, "--cluster", "dllab", "--slots", "4"], check=False)
    check(cp.returncode == 0, "disklink format %s --cluster dllab" % loop)
    pids = {}
    for nd in lab.nodes:
        pids[nd.id] = nd.spawn([DLD, "--foreground", "--device", loop, "--mode", "tun",
                                "--link", "1"] + conf, name="disklinkd")
    dllab.wait_for(lambda: all((status(nd) or {}).get("corosync") == "waiting"
                               for nd in lab.nodes), 20, 0.3, "disklinkd waiting")
    check(all(nd.exec(["ip", "link", "show", "dl0"]).returncode == 0 and
              nd.exec(["ip", "-4", "-o", "addr", "show", "dev", "dl0"]).stdout.strip() == ""
              for nd in lab.nodes),
          "disklinkd --mode tun --link 1 waits for link 1: dl0 exists, without an address")
    check(all(cap_eff(pids[nd.id]) & CAP_NET_ADMIN for nd in lab.nodes),
          "while it waits, disklinkd keeps CAP_NET_ADMIN (dl0's addresses to come)")
    add_link(lab)
    check(all(cap_eff(pids[nd.id]) & ~CAP_NET_BIND_SERVICE == 0 for nd in lab.nodes),
          "dl0 configured: disklinkd dropped every capability but CAP_NET_BIND_SERVICE")
    if V6:
        return                 # the reloads and refusals: the IPv4 run
    without_node3(lab)
    for nd in lab.nodes:
        check(nd.pid_of("disklinkd") == pids[nd.id], "%s: same disklinkd (no restart)" % nd.name)
    n1 = lab.nodes[0]
    n1.stop_service("disklinkd", timeout=15)
    check(n1.exec(["ip", "link", "show", "dl0"]).returncode != 0,
          "dl1: disklinkd stopped, dl0 gone")
    cp = n1.exec([DLD, "--device", loop, "--mode", "tun", "--link", "1", "--node-id", "7"],
                 timeout=30)
    err = cp.stderr.strip()
    check(cp.returncode == 2 and len(err.splitlines()) == 1 and "node id 7" in err and
          "node id 1" in err, "an explicit --node-id 7 contradicting corosync: exit 2, "
          "one line: %r" % err)
    check(n1.exec(["ip", "link", "show", "dl0"]).returncode != 0, "dl1: no dl0 left behind")


def main():
    global V6
    if not (os.access(DL, os.X_OK) and os.access(DLD, os.X_OK)):
        print("FAIL: %s or %s not built" % (DL, DLD))
        return 1
    rc = dllab.run_scenario(NAME, scenario, say, nodes=3, loops=[(16 << 20, 4096)])
    if rc:
        return rc
    say("again with link 1 on the IPv6 dl0 addresses (tun_ipv6 = %s::/64)" % PFX)
    V6 = True
    return dllab.run_scenario(NAME + " (IPv6)", scenario, say, nodes=3,
                              loops=[(16 << 20, 4096)])


if __name__ == "__main__":
    sys.exit(main())
