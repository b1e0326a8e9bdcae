"""knet's view: a real corosync cluster of the lab (tests/lab/dlcluster.py;
link 0 = the lab's bridge over veth, link 1 = 127.77.0.N through
disklinkd on the benchmark's device; corosync's default timers (token
3000 ms, +650 ms per node beyond 2), crypto on, no Pacemaker).  It reads
`corosync-cmapctl -m stats` (stats.knet.nodeX.linkY.latency_ave, knet's
ping round trip in us) on every node twice, lab_settle_s apart.

knet's latency_ave is a running average since the link came up, so the
start-up samples (taken before every peer's daemon had attached) stay in
it for a long time: the figure is the average over the window, computed
from the two readings and latency_samples.  The increase of
latency_samples over the window also gives the ping interval knet used."""

import os
import sys
import time

from bench_common import DISKLINK, SRC, log, par, run


def measure_lab(device, nodes):
    if os.environ.get("BENCH_LAB") == "0":
        return {"nodes": nodes, "skipped": "BENCH_LAB=0"}
    sys.path.insert(0, os.path.join(SRC, "tests", "lab"))
    os.environ.setdefault("DLLAB_QUIET", "1")
    # Explicit mode (addresses on the command line), as everywhere in
    # this benchmark; DLCLUSTER_DAEMON_MODE=corosync measures --link.
    os.environ.setdefault("DLCLUSTER_DAEMON_MODE", "explicit")
    import dllab
    import dlcluster
    res = {"nodes": nodes, "via": "tests/lab/dlcluster.py", "token_ms": dlcluster.TOKEN_MS,
           "daemon_mode": os.environ["DLCLUSTER_DAEMON_MODE"], "device": device.name}
    log("%d-node corosync cluster, disk link on %s (settle %d s)" % (
        nodes, device.loop, par("lab_settle_s")))
    # The lab formats its own RAM loop device (unused here) for nodes + 1
    # slots of 1 MiB rings: make it large enough for 16 nodes.
    dlcluster.LOOP_SIZE = max(dlcluster.LOOP_SIZE, (nodes + 4) << 20)
    t0 = time.time()
    try:
        with dlcluster.Cluster(nodes=nodes) as c:
            c.create()
            # The disk link on this run's device, not the lab's RAM loop.
            run([DISKLINK, "format", device.loop, "--cluster", dlcluster.CLUSTER_NAME,
                 "--slots", nodes + 1, "--force"])
            c.device = device.loop
            for nd in c.nodes:
                nd.start_corosync()
            for nd in c.nodes:
                c.start_daemon(nd)
            c.lab.wait_quorate(timeout=120 + 10 * nodes)
            c.wait_links(timeout=120 + 10 * nodes)
            time.sleep(3)
            rt = dlcluster.cmap_get(c.nodes[0], "runtime.config.totem.")
            res["token_runtime_ms"] = rt.get("runtime.config.totem.token")
            t1 = time.time()
            first = {nd.id: cmap_stats(nd) for nd in c.nodes}
            time.sleep(par("lab_settle_s"))
            last = {nd.id: cmap_stats(nd) for nd in c.nodes}
            res["stats"] = lab_stats([nd.id for nd in c.nodes], first, last,
                                     time.time() - t1)
    except dllab.LabSkip as e:
        res["skipped"] = str(e)
    except dllab.LabError as e:
        res["skipped"] = "lab failed: %s" % e
        log("lab: %s" % e)
    res["seconds"] = round(time.time() - t0, 1)
    try:
        tok = float(res.get("token_runtime_ms"))
        # corosync: knet_ping_interval = token / (knet_pong_count 2 * 2)
        res["ping_interval_computed_ms"] = tok / 4
    except (TypeError, ValueError):
        pass
    s = res.get("stats")
    if s:
        log("knet %d nodes on %s: link1 disk %s us, link0 net %s us (window), ping every %s ms"
            % (nodes, device.name, fmt(s["link1_window_ave_us"]), fmt(s["link0_window_ave_us"]),
               fmt(s.get("link1_ping_interval_ms"))))
    return res


def fmt(v):
    return "%.0f" % v if v is not None else "?"


def cmap_stats(node):
    cp = node.exec(["corosync-cmapctl", "-m", "stats", "stats.knet."], timeout=60)
    out = {}
    for line in cp.stdout.splitlines():
        if " = " not in line:
            continue
        k, v = line.split(" = ", 1)
        try:
            out[k.split(" (")[0].strip()] = float(v.strip())
        except ValueError:
            pass
    return out


def avg(v):
    return sum(v) / len(v) if v else None


def lab_stats(ids, first, last, seconds):
    out = {"window_s": round(seconds, 1)}
    per = []
    win_of = {}
    for link in (0, 1):
        rep, win, interval = [], [], []
        for n in ids:
            for m in ids:
                if m == n:
                    continue
                k = "stats.knet.node%d.link%d." % (m, link)
                a1, a2 = first[n].get(k + "latency_ave"), last[n].get(k + "latency_ave")
                s1, s2 = first[n].get(k + "latency_samples"), last[n].get(k + "latency_samples")
                if a2 is None:
                    continue
                rep.append(a2)
                w = None
                if None not in (a1, s1, s2) and s2 > s1:
                    w = (a2 * s2 - a1 * s1) / (s2 - s1)
                    win.append(w)
                    interval.append(seconds * 1000 / (s2 - s1))
                win_of[(n, m, link)] = w
                per.append({"on": n, "peer": m, "link": link, "latency_ave_us": a2,
                            "window_ave_us": w, "samples": s2,
                            "latency_max_us": last[n].get(k + "latency_max")})
        out["link%d_latency_ave_us" % link] = avg(rep)
        out["link%d_latency_ave_max_us" % link] = max(rep) if rep else None
        out["link%d_window_ave_us" % link] = avg(win)
        out["link%d_window_max_us" % link] = max(win) if win else None
        out["link%d_ping_interval_ms" % link] = avg(interval)
    # The pair, link by link: disk minus network on the same node pair.
    diff = [win_of[(n, m, 1)] - win_of[(n, m, 0)] for (n, m, link) in win_of
            if link == 1 and win_of.get((n, m, 1)) is not None
            and win_of.get((n, m, 0)) is not None]
    out["disk_minus_net_window_us"] = avg(diff)
    out["disk_minus_net_window_max_us"] = max(diff) if diff else None
    out["per_link"] = per
    return out
