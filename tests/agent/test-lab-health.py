#!/usr/bin/python3
"""test-lab-health: #health-disklink is an attribute an operator can trust.

A 3-node lab cluster (tests/lab) with the disk link on link 1 and
node-health-strategy=migrate-on-red, the clone created as doc/agent.md
says (allow-unhealthy-nodes=true), and a Dummy resource "web" that prefers
dl1.  Each node reaches the shared volume through a device-mapper device of
its own over the lab volume's backing file (the agent's device= is a link
in the node's private /run), so one node's device can fail alone.

Asserts: with dl1's device failing (its writes refused), dl1's
#health-disklink turns red and web leaves dl1; the clone instance on dl1
stops (its restart fails on the device) and the health stays red, so web
does not come back; nobody is fenced.  Once the device works again, a
start of the instance (after a cleanup) turns the health green and web
returns to dl1.

Needs root, the lab's tools, and a disklinkd with the corosync
mode (--link); exit 77 otherwise (1 under CI=true).
"""

import json
import os
import subprocess
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

NAME = "test-lab-health"
CK = dlcluster.Checker()
say, check, attr = CK.say, CK.check, dlagents.node_attr
AGENT = os.path.join(TOP_SRC, "agent", "disklink")
DISKLINKD = os.path.join(TOP_BUILD, "knet-transport", "disklinkd")
DISKLINK = os.path.join(TOP_BUILD, "knet-transport", "disklink")
NODE_DEV = "/run/dlhealth/dev"     # in each node's private /run


def host(argv, check_rc=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check_rc and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r


class NodeDevices:
    """A loop device per node over the lab volume's backing file (one
    tmpfs file: the nodes share its pages, as they would a LUN), so that
    one node's device can fail alone: blockdev --setro, a write error for
    disklinkd (EPERM, reported as a read-only device), and --setrw."""

    def __init__(self, lab, loop):
        self.lab = lab
        self.backing = host(["losetup", "-nO", "BACK-FILE", loop]).stdout.strip()
        self.devs = {}

    def create(self):
        for nd in self.lab.nodes:
            dev = host(["losetup", "--find", "--show", "--sector-size", "4096",
                        self.backing]).stdout.strip()
            self.devs[nd.name] = dev
            # A loop device keeps a read-only flag across detach/attach.
            host(["blockdev", "--setrw", dev])
            nd.exec("mkdir -p %s && ln -sf %s %s"
                    % (os.path.dirname(NODE_DEV), dev, NODE_DEV), check=True)

    def fail(self, nd):
        host(["blockdev", "--setro", self.devs[nd.name]])

    def repair(self, nd):
        host(["blockdev", "--setrw", self.devs[nd.name]])

    def remove(self):
        # Busy ones detach when their last user closes them (autoclear).
        # The read-only flag would outlive the detach (the next user of
        # the loop device would find it read-only).
        for dev in self.devs.values():
            host(["blockdev", "--setrw", dev], check_rc=False)
            host(["losetup", "-d", dev], check_rc=False)
        self.devs = {}


def clone_on(node, via):
    where = via.resource_nodes("dl")
    return where is not None and node.name in where


def scenario(lab):
    n1, n2, n3 = lab.nodes
    dlagents.start_with_volume(lab, DISKLINK, 3000, check)
    devs = NodeDevices(lab, lab.loops[0])
    try:
        devs.create()
        run(lab, devs)
    finally:
        n2.exec(["pcs", "resource", "disable", "dl-clone", "--wait=60"], timeout=90)
        devs.remove()


def run(lab, devs):
    n1, n2, n3 = lab.nodes
    n1.exec(["crm_attribute", "--type", "crm_config", "--name", "node-health-strategy",
             "--update", "migrate-on-red"], check=True)
    r = n1.exec(["pcs", "resource", "create", "dl", "ocf:disklink:disklink",
                 "device=" + NODE_DEV, "binary=" + DISKLINKD, "tool=" + DISKLINK,
                 "dampen=2s", "op", "monitor", "interval=5s", "timeout=30s",
                 "clone", "interleave=true"])
    check(r.returncode == 0, "pcs resource create dl ... clone: %s" % r.stderr.strip())
    n1.exec(["crm_resource", "--resource", "dl-clone", "--meta", "--set-parameter",
             "allow-unhealthy-nodes", "--parameter-value", "true"], check=True)
    lab.add_dummy("web", prefer=n1)
    dllab.wait_for(lambda: all(attr(nd, "#health-disklink") == "green" for nd in lab.nodes),
                   90, what="#health-disklink=green on every node")
    say("the clone runs, every node is green")
    # The timing guard read knet's ping timeout from corosync's cmap.
    r = n1.exec([DISKLINK, "status", "--json"])
    st = json.loads(r.stdout) if r.returncode == 0 else {}
    ping = st.get("knet_ping_timeout_ms", 0)
    check(ping > 0 and st.get("io_timeout_ms") == max(100, ping // 3)
          and st.get("timing_warning") == "",
          "dl1: io_timeout_ms %s is a third of knet_ping_timeout %s, no warning"
          % (st.get("io_timeout_ms"), ping))
    lab.wait_resource("web", on=n1.name, timeout=60)
    say("web runs on dl1 (its preference)")

    devs.fail(n1)
    say("dl1's device fails (writes refused: blockdev --setro)")
    dllab.wait_for(lambda: attr(n1, "#health-disklink") == "red", 60,
                   what="#health-disklink=red on dl1")
    say("dl1: #health-disklink=red")
    lab.wait_resource("web", timeout=60)
    dllab.wait_for(lambda: n2.resource_nodes("web") not in (None, [], ["dl1"]), 60,
                   what="web leaves dl1")
    say("web left dl1 (for %s)" % n2.resource_nodes("web"))
    # The instance on dl1 fails, is stopped, its restart fails on the device.
    dllab.wait_for(lambda: not clone_on(n1, n2) and n1.exec(
        "ls /run/resource-agents/disklink-dl*/state").returncode != 0, 90,
        what="the clone instance on dl1 stops (the agent's stop ran: no state)")
    say("the clone instance on dl1 is stopped")
    for _ in range(4):
        time.sleep(5)
        check(attr(n1, "#health-disklink") == "red", "dl1 stays red with its instance stopped")
        where = n2.resource_nodes("web")
        check(where and "dl1" not in where, "web stays away from dl1 (%s)" % where)
    check(lab.fencings() == [], "nobody fenced")
    for nd in (n2, n3):
        check(attr(nd, "#health-disklink") == "green", "%s stays green" % nd.name)

    devs.repair(n1)
    say("dl1's device works again; cleanup of the failed instance")
    n1.exec(["crm_resource", "--cleanup", "--resource", "dl-clone", "--node", "dl1"],
            check=True)
    dllab.wait_for(lambda: attr(n1, "#health-disklink") == "green", 90,
                   what="a start on dl1 turns #health-disklink green")
    say("dl1: #health-disklink=green after the start")
    lab.wait_resource("web", on=n1.name, timeout=90)
    say("web is back on dl1")


def main():
    dlagents.need_corosync_mode(DISKLINKD, DISKLINK)
    with dlagents.OcfAgents({"disklink": AGENT}):
        return dllab.run_scenario(NAME, scenario, say, nodes=3, loops=[(64 << 20, 4096)])


if __name__ == "__main__":
    sys.exit(main())
