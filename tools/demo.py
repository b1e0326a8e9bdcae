#!/usr/bin/python3
"""disklink demo: a live 3-node Corosync/Pacemaker cluster whose second
link runs through a shared disk, keeping its membership while a node's
network is cut; and, in TUN mode (the default, doc/vnic.md), the operator
reaching the cut node through the disk: ping, a TCP transfer and a remote
command over dl0.  Run by tools/demo.sh (as root, after the build); see
README.md.  Exits 0 if the membership held (and dl1 was reachable over
dl0), 1 if not, 77 if this machine cannot run it.

Everything runs on this machine: each "node" is a set of Linux namespaces
(tests/lab/dllab.py, doc/lab.md), the shared disk is a loop device, and
everything is torn down at the end, on Ctrl-C and on errors.
"""

import argparse
import os
import re
import sys
import time

sys.dont_write_bytecode = True
SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "lab"))
os.environ.setdefault("DLLAB_QUIET", "1")   # the demo tells its own story
import dllab  # noqa: E402
import dlcluster as dc  # noqa: E402

T0 = time.monotonic()
RULE = "-" * 72
TCP_MB = 10
# What dl1 answers dl2's TCP connection with (socat EXEC, no sshd in the lab).
DEMO_CMD = """#!/bin/sh
echo "$(hostname): corosync-quorumtool says $(corosync-quorumtool -s | grep -E '^(Quorate|Nodes):' | tr -s ' ' | paste -sd ' ')"
ip -br addr show dl0
"""


def tun_addr(node_id):
    """A node's dl0 address: 169.254.0.0 + node id (doc/vnic.md)."""
    return "169.254.%d.%d" % (node_id >> 8, node_id & 255)


class TunCluster(dc.Cluster):
    """dlcluster's cluster with knet's link 1 on dl0: disklinkd in TUN
    mode (explicit node id, port and peers), started before corosync so
    that knet's link 1 finds its dl0 address (as tests/vnic/test-vnic-lab.py)."""

    def create(self):
        super().create()
        self.mode = "tun"
        return self

    def links(self):
        return [{"priority": dc.NET_PRIORITY},
                {"addrs": {nd.id: tun_addr(nd.id) for nd in self.nodes},
                 "priority": dc.DISK_PRIORITY, "mcastport": dc.DISK_PORT}]

    def start_daemon(self, nd):
        argv = [dc.disklinkd_bin(), "--device", self.device, "--foreground",
                "--log-file", dc.DAEMON_LOG, "--mode", "tun", "--node-id", str(nd.id),
                "--port", str(dc.DISK_PORT)]
        for p in self.nodes:
            if p.id != nd.id:
                argv += ["--peer", "%d=%s" % (p.id, tun_addr(p.id))]
        pid = nd.spawn(argv, name="disklinkd", boot=True, before="corosync")
        self.wait_daemon(nd)
        return pid

    def start(self, fencing=True, stonith_action="reboot", timeout=120):
        for nd in self.nodes:
            self.start_daemon(nd)
        for nd in self.nodes:
            nd.start_corosync()
        for nd in self.nodes:
            nd.start_pacemaker()
        self.lab.wait_quorate(timeout=timeout)
        self.wait_links(timeout=timeout)
        self.lab.wait_online(timeout=timeout)
        if fencing:
            self.lab.configure_pacemaker(stonith_action=stonith_action)
            self.lab.wait_resource("fence-lab", timeout=timeout)


def out(msg=""):
    print(msg, flush=True)


def step(n, total, title, *lines):
    out()
    out(RULE)
    out("Step %d/%d: %s" % (n, total, title))
    for line in lines:
        out("  " + line)
    out(RULE)


def show(title, text, indent="    "):
    out("  $ " + title)
    for line in text.rstrip().splitlines():
        out(indent + line)


def peer_links(c, nd):
    """'link 0 up|DOWN, link 1 up|DOWN' from nd to dl1 (cmap stats)."""
    st = dc.links_state(nd)
    return "link 0 %s, link 1 %s" % ("up" if st.get((1, 0)) else "DOWN",
                                     "up" if st.get((1, 1)) else "DOWN")


def reach_over_dl0(c):
    """From dl2, reach the cut dl1 through the disk over dl0: ping, a
    TCP transfer with its checksum, a command run on dl1 (socat).  Returns
    a list of problems."""
    n1, n2 = c.nodes[0], c.nodes[1]
    a1, a2 = tun_addr(1), tun_addr(2)
    problems = []
    out()
    out("  -- dl1's network is cut: the operator on dl2 reaches dl1 through the disk (dl0) --")
    cp = n2.exec(["ping", "-c", "3", "-i", "0.3", "-W", "2", a1], timeout=20)
    show("ping -c 3 %s                 (on dl2)" % a1, "\n".join(
        [x for x in cp.stdout.splitlines() if "bytes from" in x or "rtt" in x]) or cp.stdout)
    if cp.returncode != 0:
        problems.append("ping dl2 -> dl1 over dl0 failed")
    # A command run on dl1 for dl2's TCP connection (no sshd in the lab:
    # socat stands for it), answered through the disk.
    cp = n1.exec("cat > /run/demo-cmd && chmod 755 /run/demo-cmd", input=DEMO_CMD)
    if cp.returncode != 0:
        raise dllab.LabError("cannot write /run/demo-cmd in dl1: %s" % cp.stderr.strip())
    n1.sh("(timeout 30 socat TCP-LISTEN:2222,bind=%s,reuseaddr EXEC:/run/demo-cmd "
          ">/dev/null 2>&1 &)" % a1)
    time.sleep(0.5)
    cp = n2.exec("socat -t 5 -T 15 - TCP:%s:2222 </dev/null" % a1, timeout=30)
    show("socat - TCP:%s:2222          (on dl2: a command run on dl1)" % a1,
         cp.stdout or cp.stderr)
    if cp.returncode != 0 or "dl1" not in cp.stdout:
        problems.append("the command on dl1 over dl0 failed: %s" % (cp.stderr.strip()[-200:]))
    # TCP: TCP_MB MB from dl1 to dl2, checksum compared.
    n1.sh("head -c %d /dev/urandom > /run/demo-blob" % (TCP_MB * 1000000))
    want = n1.sh("sha256sum < /run/demo-blob").split()[0]
    n2.sh("rm -f /run/demo-got; (timeout 90 socat -u TCP-LISTEN:7000,bind=%s,reuseaddr "
          "OPEN:/run/demo-got,creat,trunc >/dev/null 2>&1 &)" % a2)
    time.sleep(0.5)
    t0 = time.monotonic()
    cp = n1.exec("timeout 90 socat -u OPEN:/run/demo-blob TCP:%s:7000" % a2, timeout=100)
    sec = time.monotonic() - t0
    got = ""
    for _ in range(50):
        got = n2.sh("sha256sum < /run/demo-got 2>/dev/null || true").split()[:1]
        got = got[0] if got else ""
        if got == want:
            break
        time.sleep(0.2)
    ok = cp.returncode == 0 and got == want
    out("  $ socat (dl1 -> dl2, %d MB over TCP on dl0): %s in %.1f s, sha256 %s"
        % (TCP_MB, "sent" if cp.returncode == 0 else "FAILED", sec,
           "matches" if got == want else "DIFFERS"))
    if not ok:
        problems.append("%d MB over TCP on dl0: %s" % (
            TCP_MB, "checksum differs" if cp.returncode == 0 else "socat failed"))
    cap = n2.exec("timeout 10 tcpdump -n -l -i dl0 -c 2 udp port %d 2>/dev/null" % dc.DISK_PORT,
                  timeout=20)
    lines = [re.sub(r"^\S+ ", "", x) for x in cap.stdout.splitlines() if " IP " in x]
    if lines:
        show("tcpdump -i dl0 udp port %d  (on dl2: knet's own packets on dl0)" % dc.DISK_PORT,
             "\n".join(lines))
    n1.exec("rm -f /run/demo-blob /run/demo-cmd")
    n2.exec("rm -f /run/demo-got")
    out()
    return problems


def hold(c, ring, seconds, during=None):
    """Watch the cluster for `seconds` with dl1's network cut; return a list
    of problems (empty: the membership held).  during() runs once, 10 s
    into the cut, and returns problems of its own."""
    n1, n2, n3 = c.nodes
    problems = []
    t_cut = time.monotonic()
    last_print = -10.0
    while True:
        el = time.monotonic() - t_cut
        if el >= seconds:
            break
        if during and el >= 10:
            problems += during()
            during = None
            continue
        t = time.monotonic()
        s = dc.sample_cluster(c, c.nodes)
        fenced = c.lab.fencings()
        for name, v in s.items():
            if not v or v["ring_id"] != ring or not v["quorate"] or v["members"] != [1, 2, 3]:
                problems.append("%.0fs: %s sees %s" % (el, name, v))
        if fenced:
            problems.append("%.0fs: fencing: %s" % (el, fenced))
        if el - last_print >= 5 or problems:
            last_print = el
            q = [v for v in s.values() if v]
            out("  t=%3.0fs  ring %s on all 3 | quorate %d/3, members %s | fence log: %s "
                "| dl2->dl1: %s" % (
                    el, ring if all(v["ring_id"] == ring for v in q) else "CHANGED",
                    sum(1 for v in q if v["quorate"]),
                    " ".join(str(m) for m in (q[0]["members"] if q else [])),
                    "empty" if not fenced else "%d fencing(s)" % len(fenced),
                    peer_links(c, n2)))
        if problems:
            break
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))
    return problems


def run(c, args):
    n1, n2, n3 = c.nodes
    total = 6
    step(1, total, "build a 3-node cluster on this machine",
         "Nodes dl1, dl2, dl3 are Linux namespaces with their own network, hostname",
         "and /etc; they share a loop device as their common disk.")
    c.create()
    out("  shared disk %s formatted with `disklink format --cluster %s --slots %d`"
        % (c.device, dc.CLUSTER_NAME, len(c.nodes) + dc.VOLUME_SLOTS_SPARE))
    if c.mode == "tun":
        out("  corosync.conf: link 0 = network 169.254.77.N (priority %d), link 1 = disk: "
            "dl0, 169.254.0.N port %d (priority %d), token %d ms, crypto on"
            % (dc.NET_PRIORITY, dc.DISK_PORT, dc.DISK_PRIORITY, c.token))
        out("  dl0 is disklinkd's network interface (TUN mode): its IP packets travel")
        out("  through the shared disk; knet's link 1 and any other program use it.")
    else:
        out("  corosync.conf: link 0 = network 169.254.77.N (priority %d), link 1 = disk "
            "127.77.0.N port %d (priority %d), token %d ms, crypto on"
            % (dc.NET_PRIORITY, dc.DISK_PORT, dc.DISK_PRIORITY, c.token))
    out("  starting corosync, disklinkd (%s mode) and Pacemaker on every node ..." % c.mode)
    c.start()
    c.lab.add_dummy("dummy", prefer="dl1", score=100)
    c.lab.wait_resource("dummy", on="dl1", timeout=90)
    c.start_cpg(rate=20, max_size=20000)
    out("  cluster up in %.0f s: quorate, fencing on (a power-switch double), a Dummy"
        % (time.monotonic() - T0))
    out("  resource on dl1, and a CPG client on every node multicasting numbered")
    out("  messages (up to 20 KB, 20/s) and checking that none is lost.")

    step(2, total, "look at the two links",
         "corosync sees two knet links to every peer; link 1's packets go through",
         "disklinkd, which writes them into its ring on the disk; peers read them back.")
    _, text = dc.cfgtool_links(n2)
    show("corosync-cfgtool -s            (on dl2)", text)
    show("disklink status                (on dl1)",
         n1.exec([dc.disklink_bin(), "status"]).stdout)
    if c.mode == "tun":
        show("ip -br addr show dl0           (on dl1)",
             n1.exec(["ip", "-br", "addr", "show", "dl0"]).stdout)
    lat0 = dc.link_stats(n2, 1, 0).get("latency_ave")
    lat1 = dc.link_stats(n2, 1, 1).get("latency_ave")
    out("  knet's round-trip latency dl2<->dl1: link 0 (network) %s us, link 1 (disk) %s us"
        % (lat0, lat1))
    ring = dc.ring_id(n2)
    rx_before = sum(s["received"] for s in (c.cpg_report(n2, final=False) or {}).get(
        "senders", []) if s["nodeid"] == 1)

    tun = c.mode == "tun"
    step(3, total, "cut dl1's network for %d s" % args.hold,
         "The switch port of dl1 drops everything: without the disk link, dl2 and dl3",
         "would declare dl1 dead within ~8 s and fence (power-cycle) it.",
         "Watch: the ring id stays, all 3 stay quorate, the fence log stays empty,",
         "and link 0 to dl1 goes DOWN while link 1 (the disk) stays up.",
         *(["10 s into the cut, dl2 pings dl1, runs a command on it and sends it",
            "%d MB over TCP, all over dl0, through the disk." % TCP_MB] if tun else []))
    n1.cut()
    problems = hold(c, ring, args.hold, during=(lambda: reach_over_dl0(c)) if tun else None)
    rx_after = sum(s["received"] for s in (c.cpg_report(n2, final=False) or {}).get(
        "senders", []) if s["nodeid"] == 1)
    out("  dl2 received %d CPG messages from dl1 while its network was cut"
        % (rx_after - rx_before))
    where = n2.resource_nodes("dummy")
    out("  the Dummy resource is on %s" % (", ".join(where or ["nowhere"])))
    if where != ["dl1"]:
        problems.append("dummy moved to %s" % where)

    step(4, total, "restore dl1's network",
         "knet brings link 0 back and prefers it again (higher priority).")
    n1.restore()
    t = time.monotonic()
    c.wait_links(link=0, timeout=60)
    out("  link 0 connected everywhere again after %.1f s" % (time.monotonic() - t))
    _, text = dc.cfgtool_links(n2)
    show("corosync-cfgtool -s            (on dl2)", text)

    step(5, total, "check the messages",
         "Every node's CPG client reports what it received from each sender.")
    reports = c.stop_cpg()
    for name, r in sorted(reports.items()):
        if r:
            out("  %s: sent %d; received %s" % (name, r["sent"], ", ".join(
                "%d from dl%d (gaps %d, duplicates %d)" % (s["received"], s["nodeid"],
                                                            s["gaps"], s["dups"])
                for s in sorted(r["senders"], key=lambda s: s["nodeid"]))))
    problems += dc.check_cpg_reports(reports, [1, 2, 3])
    if c.lab.fencings():
        problems.append("fencing: %s" % c.lab.fencings())
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hold", type=int, default=30,
                   help="seconds to keep dl1's network cut (default 30)")
    p.add_argument("--sector-size", type=int, choices=(512, 4096), default=512)
    p.add_argument("--keep-logs", metavar="DIR",
                   help="copy the cluster's logs to DIR before the teardown")
    p.add_argument("--mode", choices=("tun", "relay"), default="tun",
                   help="disklinkd's mode: tun (default: knet's link 1 on dl0, and ping, "
                   "TCP and a remote command to the cut node over dl0) or relay (link 1 "
                   "on loopback addresses, membership only)")
    args = p.parse_args()
    if args.hold < 25 and args.mode == "tun":
        p.error("--hold: at least 25 s in tun mode (dl0 is shown 10 s into the cut)")
    out("disklink demo: Corosync/Pacemaker keeps its membership through a shared disk")
    out("when a node's network fails%s" % (
        ",\nand the operator still reaches the node through it." if args.mode == "tun" else "."))
    out("(Ctrl-C at any time tears everything down.)")
    cls = TunCluster if args.mode == "tun" else dc.Cluster
    c = cls(nodes=3, sector_size=args.sector_size)
    problems = None
    try:
        problems = run(c, args)
    except dllab.LabSkip as e:
        out("cannot run the demo here: %s" % e)
        return 77
    except (dllab.LabError, AssertionError) as e:
        out("ERROR: %s" % e)
        problems = ["error: %s" % e]
    except (KeyboardInterrupt, SystemExit):    # Ctrl-C, SIGTERM (dllab's handlers)
        out("\ninterrupted")
        problems = ["interrupted"]
    finally:
        step(6, 6, "tear down",
             "Stop everything, remove the namespaces and the loop device.")
        if args.keep_logs:
            out("  logs: %s" % c.lab.collect_logs(args.keep_logs))
        try:
            c.destroy()
            left = dllab.leftovers(c.lab.id)
            out("  done%s" % ("" if not left else "; LEFT BEHIND: %s" % left))
        except dllab.LabError as e:
            out("  teardown problem: %s" % e)
    out()
    if problems:
        out("RESULT: FAILED:")
        for pr in problems[:10]:
            out("  " + pr)
        return 1
    out("RESULT: the membership held for %d s with dl1's network cut: same ring, 3 quorate"
        % args.hold)
    out("members, nobody fenced, no CPG message lost; dl1 talked to its peers through the")
    out("disk only%s. (%.0f s in all)" % (
        "; dl2 pinged dl1, ran a command on it and sent it %d MB over TCP, over dl0"
        % TCP_MB if args.mode == "tun" else "", time.monotonic() - T0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
