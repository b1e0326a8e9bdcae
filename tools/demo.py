#!/usr/bin/python3
"""disklink demo: a live 3-node Corosync/Pacemaker cluster whose second
link runs through a shared disk, keeping its membership while a node's
network is cut.  Run by tools/demo.sh (as root, after the build); see
README.md.  Exits 0 if the membership held, 1 if not, 77 if this machine
cannot run it.

Everything runs on this machine: each "node" is a set of Linux namespaces
(tests/lab/dllab.py, doc/lab.md), the shared disk is a loop device, and
everything is torn down at the end, on Ctrl-C and on errors.
"""

import argparse
import os
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


def hold(c, ring, seconds):
    """Watch the cluster for `seconds` with dl1's network cut; return a list
    of problems (empty: the membership held)."""
    n1, n2, n3 = c.nodes
    problems = []
    t_cut = time.monotonic()
    last_print = -10.0
    while True:
        el = time.monotonic() - t_cut
        if el >= seconds:
            break
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
    lat0 = dc.link_stats(n2, 1, 0).get("latency_ave")
    lat1 = dc.link_stats(n2, 1, 1).get("latency_ave")
    out("  knet's round-trip latency dl2<->dl1: link 0 (network) %s us, link 1 (disk) %s us"
        % (lat0, lat1))
    ring = dc.ring_id(n2)
    rx_before = sum(s["received"] for s in (c.cpg_report(n2, final=False) or {}).get(
        "senders", []) if s["nodeid"] == 1)

    step(3, total, "cut dl1's network for %d s" % args.hold,
         "The switch port of dl1 drops everything: without the disk link, dl2 and dl3",
         "would declare dl1 dead within ~8 s and fence (power-cycle) it.",
         "Watch: the ring id stays, all 3 stay quorate, the fence log stays empty,",
         "and link 0 to dl1 goes DOWN while link 1 (the disk) stays up.")
    n1.cut()
    problems = hold(c, ring, args.hold)
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
    args = p.parse_args()
    out("disklink demo: Corosync/Pacemaker keeps its membership through a shared disk")
    out("when a node's network fails.  (Ctrl-C at any time tears everything down.)")
    c = dc.Cluster(nodes=3, sector_size=args.sector_size)
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
        out("RESULT: FAILED -- the membership did not hold:")
        for pr in problems[:10]:
            out("  " + pr)
        return 1
    out("RESULT: the membership held for %d s with dl1's network cut: same ring, 3 quorate"
        % args.hold)
    out("members, nobody fenced, no CPG message lost; dl1 talked to its peers through the")
    out("disk only. (%.0f s in all)" % (time.monotonic() - T0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
