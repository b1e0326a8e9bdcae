#!/usr/bin/python3
"""test-lab-clone: ocf:disklink:disklink as an operator runs it.

A 3-node lab cluster (tests/lab, doc/lab.md) whose corosync.conf has link 1
on loopback addresses (127.77.0.N).  A volume is formatted on the shared
loop device, then, on dl1, exactly what doc/agent.md tells an operator:

    pcs resource create dl ocf:disklink:disklink device=/dev/loopX \
        op monitor interval=10s clone interleave=true

(plus binary= and tool= for the build tree's programs).  Asserts: the
clone runs on every node, each node's daemon was started by the agent
(corosync mode), every node publishes disklink-<peer>=up for its peers and
#health-disklink=green; a tunable change through pcs reloads (same daemon
pids on every node); cutting dl1's network sets disklink-disk-only=1 on dl1
and nobody is fenced; disabling the clone stops every daemon and clears the
attributes.

Needs root, the lab's tools, and a disklinkd with the corosync mode
(--link); exit 77 otherwise (1 under CI=true).
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
TOP_SRC = os.environ.get("top_srcdir", os.path.abspath(os.path.join(HERE, "..", "..")))
TOP_BUILD = os.environ.get("top_builddir", TOP_SRC)
sys.path.insert(0, os.path.join(TOP_SRC, "tests", "lab"))
import dllab  # noqa: E402
import dlagents  # noqa: E402
import dlcluster  # noqa: E402

NAME = "test-lab-clone"
CK = dlcluster.Checker()
say, check, attr = CK.say, CK.check, dlagents.node_attr
AGENT = os.path.join(TOP_SRC, "agent", "disklink")
DISKLINKD = os.path.join(TOP_BUILD, "knet-transport", "disklinkd")
DISKLINK = os.path.join(TOP_BUILD, "knet-transport", "disklink")


def agent_state(node):
    """The agent's state file in the node's /run (tmpfs per node)."""
    r = node.exec("cat /run/resource-agents/disklink-dl*/state")
    st = {}
    for line in r.stdout.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            st[k] = v
    return st


def scenario(lab):
    n1, n2, n3 = lab.nodes
    dev = lab.loops[0]
    dlagents.start_with_volume(lab, DISKLINK, 1000, check)

    r = n1.exec(["pcs", "resource", "describe", "ocf:disklink:disklink"])
    check(r.returncode == 0 and "format_blank" in r.stdout,
          "pcs resource describe ocf:disklink:disklink accepts the meta-data")

    r = n1.exec(["pcs", "resource", "create", "dl", "ocf:disklink:disklink",
                 "device=" + dev, "binary=" + DISKLINKD, "tool=" + DISKLINK,
                 "op", "monitor", "interval=10s", "clone", "interleave=true"])
    check(r.returncode == 0, "pcs resource create dl ... clone: %s" % r.stderr.strip())

    def everywhere():
        x = n1.crm_mon()
        if x is None:
            return False
        started = sorted(nd.get("name") for r in x.iter("resource")
                         if r.get("id") == "dl" and r.get("role") == "Started"
                         and r.get("failed") != "true" for nd in r.findall("node"))
        return started == ["dl1", "dl2", "dl3"]
    dllab.wait_for(everywhere, 90, what="dl (clone) running on dl1, dl2, dl3")
    say("dl-clone runs on every node")

    pids = {}
    for nd in lab.nodes:
        st = agent_state(nd)
        check(st.get("owned") == "1" and st.get("pid"),
              "%s: the agent started its own disklinkd (state %s)" % (nd.name, st))
        pids[nd.name] = st["pid"]

    def peers_up():
        for nd in lab.nodes:
            for peer in lab.nodes:
                if peer is not nd and attr(nd, "disklink-" + peer.name) != "up":
                    return False
        return True
    dllab.wait_for(peers_up, 60, what="disklink-<peer>=up on every node")
    say("every node publishes disklink-<peer>=up")
    for nd in lab.nodes:
        check(attr(nd, "#health-disklink") == "green", "%s: #health-disklink=green" % nd.name)
        check(attr(nd, "disklink-disk-only") == "0", "%s: disklink-disk-only=0" % nd.name)

    # A tunable: reload, never a restart.
    r = n1.exec(["pcs", "resource", "update", "dl", "io_timeout_ms=3000"])
    check(r.returncode == 0, "pcs resource update dl io_timeout_ms=3000")

    def reloaded():
        return all("io_timeout_ms = 3000" in nd.exec(
            "cat /run/resource-agents/disklink-dl*/disklinkd.conf").stdout for nd in lab.nodes)
    dllab.wait_for(reloaded, 60, what="the new tunable in every node's daemon configuration")
    for nd in lab.nodes:
        check(agent_state(nd).get("pid") == pids[nd.name],
              "%s: same disklinkd after the tunable change (reloaded)" % nd.name)

    # dl1 loses its network: its traffic flows only through the disk.
    n1.cut()
    say("cut dl1's link 0")
    dllab.wait_for(lambda: attr(n1, "disklink-disk-only") == "1", 60,
                   what="disklink-disk-only=1 on dl1")
    say("dl1: disklink-disk-only=1")
    check(attr(n2, "disklink-disk-only") == "0",
          "dl2: disklink-disk-only=0 (it still reaches dl3 over the network)")
    time.sleep(5)
    check(lab.fencings() == [], "nobody fenced while dl1's network is cut")
    n1.restore()
    dllab.wait_for(lambda: attr(n1, "disklink-disk-only") == "0", 60,
                   what="disklink-disk-only=0 on dl1 after the restore")

    r = n1.exec(["pcs", "resource", "disable", "dl-clone", "--wait=60"])
    check(r.returncode == 0, "pcs resource disable dl-clone")
    for nd in lab.nodes:
        check(not dllab.proc_alive(int(pids[nd.name])), "%s: disklinkd stopped" % nd.name)
        check(attr(nd, "disklink-disk-only") is None, "%s: attributes cleared" % nd.name)


def main():
    dlagents.need_corosync_mode(DISKLINKD, DISKLINK)
    with dlagents.OcfAgents({"disklink": AGENT}):
        return dllab.run_scenario(NAME, scenario, say, nodes=3, loops=[(64 << 20, 4096)])


if __name__ == "__main__":
    sys.exit(main())
