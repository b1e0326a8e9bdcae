#!/usr/bin/python3
"""test-lab-basics: the lab's own mechanics, without a cluster.

Nodes are isolated (hostname, /run, /dev/shm, per-node /etc/corosync ...),
link 0 carries traffic only between node namespaces and only on link-local
addresses, nothing appears in the root network namespace, shared loop devices
are visible in every node with the requested sector size, cut/restore really
stop/restart traffic, power off kills everything in a node (also spawned
processes) and power on boots it again, the fence agent answers metadata with
valid XML and logs requests, generated corosync.conf files with an extra link
pass `corosync -t`, and `lab cleanup` removes a lab whose owner died.

Exit 0 pass, 1 fail, 77 skip (1 instead of skip when CI=true).
"""

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import dllab  # noqa: E402
from corolink import check, say  # noqa: E402

NAME = "test-lab-basics"

UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7777))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
"""
UDP_PING = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
try:
    s.sendto(b"ping", (sys.argv[1], 7777))
    print(s.recvfrom(2048)[0].decode())
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error %s" % e.errno)
"""


LAB_IFNAMES = {"br0", "eth0", "v1", "v2"}


def root_links():
    """Names of the root netns's interfaces that the lab's naming scheme uses
    (other projects' tests may add links of their own meanwhile)."""
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                         env=dllab.CLEAN_ENV).stdout
    names = {l.split(":")[1].strip().split("@")[0] for l in out.splitlines() if ":" in l}
    return sorted(names & LAB_IFNAMES)


def ping(src, dst):
    return src.exec(["/usr/bin/python3", "-c", UDP_PING, dst.addr0], timeout=10).stdout.strip()


def scenario(lab, links_before):
    n1, n2 = lab.nodes
    check(root_links() == links_before, "no interface appeared in the root netns")
    for nd in lab.nodes:
        check(nd.sh("hostname").strip() == nd.name, "%s: own hostname" % nd.name)
        addrs = nd.sh("ip -o addr show")
        check("%s/24" % nd.addr0 in addrs and "%s/32" % nd.loop_addr in addrs,
              "%s: link-local %s/24 on eth0 and %s/32 on lo" % (nd.name, nd.addr0, nd.loop_addr))
        for a in __import__("re").findall(r"inet (\S+)", addrs):
            check(a.startswith("127.") or a.startswith("169.254."),
                  "%s: address %s is loopback or link-local" % (nd.name, a))
    # private /run and /dev/shm, private bind mounts
    n1.sh("echo one > /dev/shm/dllab-probe; echo one > /run/dllab-probe; "
          "echo one > /etc/corosync/dllab-probe")
    r = n2.exec("cat /dev/shm/dllab-probe /run/dllab-probe /etc/corosync/dllab-probe")
    check(r.returncode != 0 and "one" not in r.stdout, "dl2 does not see dl1's /dev/shm, /run, /etc/corosync")
    check(not os.path.exists("/dev/shm/dllab-probe") and not os.path.exists("/run/dllab-probe"),
          "the host does not see dl1's /dev/shm and /run")
    check(os.path.exists(n1.host_path("/etc/corosync/dllab-probe")),
          "dl1's /etc/corosync is its directory in the state dir")
    # shared loop devices
    for dev, ssz in zip(lab.loops, (512, 4096)):
        for nd in lab.nodes:
            out = nd.sh("blockdev --getss %s" % dev).strip()
            check(out == str(ssz), "%s: %s visible, sector size %s" % (nd.name, dev, ssz))
    n1.sh("printf dllab-data | dd of=%s bs=4096 count=1 conv=sync,fsync oflag=direct 2>/dev/null" % lab.loops[1])
    got = n2.sh("dd if=%s bs=4096 count=1 iflag=direct 2>/dev/null | head -c 10" % lab.loops[1])
    check(got == "dllab-data", "a block written on dl1 is read on dl2 (O_DIRECT)")

    # link 0 traffic, cut and restore
    echo = n2.spawn(["/usr/bin/python3", "-c", UDP_ECHO, n2.addr0], name="echo")
    dllab.wait_for(lambda: ping(n1, n2) == "ping", 10, 0.2, "udp echo dl1 -> dl2")
    check(True, "UDP over link 0 dl1 -> dl2 works")
    for method, want in (("switch", "timeout"), ("nft", "error 1"), ("link", "error 101"),
                         ("carrier", "timeout")):
        n1.cut(method)
        check(n1.is_cut(), "dl1 cut (%s)" % method)
        got = ping(n1, n2)
        check(got == want, "no traffic dl1 -> dl2 while cut (%s: %s)" % (method, got))
        check(n1.sh("ip -br addr show lo").count("127.77.0.1") == 1,
              "dl1's loopback address stays while cut")
        n1.restore()
        check(not n1.is_cut(), "dl1 restored")
        dllab.wait_for(lambda: ping(n1, n2) == "ping", 10, 0.2, "udp echo after restore")
        check(True, "traffic dl1 -> dl2 flows again after restore (%s)" % method)

    # power
    check(dllab.proc_alive(echo) and echo in n2.processes(), "spawned process tracked in dl2")
    holder = n2.holder
    n2.power_off()
    check(not dllab.proc_alive(echo) and not dllab.proc_alive(holder) and n2.processes() == [],
          "power off killed every process of dl2")
    check(not n2.is_on(), "dl2 is off")
    n2.power_on()
    check(n2.is_on() and n2.holder != holder, "dl2 powered on with a new holder")
    check(n2.sh("cat /dev/shm/x 2>/dev/null; ls /run").strip() != "" and
          n2.sh("hostname").strip() == "dl2", "dl2 booted: fresh /run, own hostname")

    # fence agent
    agent = "/usr/sbin/" + lab.fence_agent_name
    check(os.access(agent, os.X_OK), "fence agent installed as %s" % agent)
    md = subprocess.run([agent], input="action=metadata\n", capture_output=True, text=True, timeout=30,
                        env=dllab.CLEAN_ENV)
    x = ET.fromstring(md.stdout)
    acts = {a.get("name") for a in x.iter("action")}
    check(md.returncode == 0 and x.tag == "resource-agent" and
          {"on", "off", "reboot", "status", "list", "monitor", "metadata"} <= acts,
          "fence agent metadata is valid XML with on/off/reboot/status/list/monitor")
    st = subprocess.run(["stonith_admin", "--metadata", "--agent", lab.fence_agent_name],
                        capture_output=True, text=True, timeout=30,
                        env=dllab.CLEAN_ENV)
    check(st.returncode == 0 and "<resource-agent" in st.stdout,
          "stonith_admin --metadata reads the agent")
    lst = subprocess.run([agent], input="action=list\n", capture_output=True, text=True, timeout=30,
                         env=dllab.CLEAN_ENV)
    check(lst.stdout.split() == ["dl1,dl1", "dl2,dl2"], "agent lists the outlets dl1 dl2")

    def agent_run(action, port):
        return n1.exec([agent], input="action=%s\nport=%s\nnodename=%s\n" % (action, port, port),
                       timeout=90).returncode
    check(agent_run("status", "dl2") == 0, "agent status dl2: on")
    check(agent_run("off", "dl2") == 0 and not n2.is_on(), "agent off dl2: dl2 is off")
    check(agent_run("status", "dl2") == 2, "agent status dl2: off (exit 2)")
    check(agent_run("on", "dl2") == 0 and n2.is_on(), "agent on dl2: dl2 is on")
    ev = [(e["action"], e["target"], e["by"]) for e in lab.fence_events()]
    check(ev[-4:] == [("status", "dl2", "dl1"), ("off", "dl2", "dl1"),
                      ("status", "dl2", "dl1"), ("on", "dl2", "dl1")],
          "fence log has one line per request with action, target, requester")
    check([(e["action"], e["target"]) for e in lab.fencings()] == [("off", "dl2")],
          "fencings() sees exactly the one off")

    # corosync.conf with an extra (disk) link
    links = [{}, {"addrs": {nd.id: nd.loop_addr for nd in lab.nodes}, "priority": 1}]
    text = lab.write_corosync_conf(links=links)
    check("ring1_addr: 127.77.0.2" in text and "linknumber: 1" in text,
          "corosync.conf carries link 1 with loopback addresses")
    for nd in lab.nodes:
        r = nd.exec(["corosync", "-t"], timeout=30)
        check(r.returncode == 0, "%s: corosync -t accepts the 2-link config" % nd.name)


def crashed_lab_cleanup():
    """A lab created by the CLI whose owner is gone: `lab cleanup ID`."""
    lab_id = "c%04d" % (os.getpid() % 10000)
    cli = os.path.join(HERE, "lab")
    r = subprocess.run([cli, "create", "--nodes", "2", "--id", lab_id, "--loop", "1M"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "lab create via the CLI (%s)" % r.stderr.strip()[-200:])
    check(len(dllab.leftovers(lab_id)) > 0, "the CLI's lab exists after the CLI exited")
    r = subprocess.run([cli, "--lab", lab_id, "exec", "2", "hostname"],
                       capture_output=True, text=True, timeout=30,
                       env=dllab.CLEAN_ENV)
    check(r.stdout.strip() == "dl2", "lab exec 2 hostname -> dl2")
    r = subprocess.run([cli, "cleanup", lab_id], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and dllab.leftovers(lab_id) == [],
          "lab cleanup removed the crashed lab: %s" % dllab.leftovers(lab_id))


def main():
    links_before = root_links()
    lab = dllab.Lab(nodes=2)
    try:
        lab.create(loops=[(1 << 20, 512), (1 << 20, 4096)])
    except dllab.LabSkip as e:
        dllab.skip_or_fail(str(e))
    ok = False
    try:
        scenario(lab, links_before)
        ok = True
    except (AssertionError, dllab.LabError) as e:
        say("FAIL: %s" % e)
    finally:
        snap = lab.process_snapshot()
        if not ok:
            try:
                dllab.report_failure(lab, NAME)
            except Exception as e:  # noqa
                say("log collection failed: %s" % e)
        lab.destroy()
    left = dllab.leftovers(lab.id)
    if ok:
        try:
            crashed_lab_cleanup()
        except (AssertionError, dllab.LabError, subprocess.TimeoutExpired) as e:
            say("FAIL: %s" % e)
            ok = False
        finally:
            subprocess.run([os.path.join(HERE, "lab"), "cleanup",
                            "c%04d" % (os.getpid() % 10000)], capture_output=True, timeout=120)
    alive = dllab.survivors(snap)
    if left or alive or root_links() != links_before:
        say("FAIL: left behind: %s %s" % (left, alive))
        return 1
    say("ok: no namespace, loop device, process, interface or file left behind")
    say("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
