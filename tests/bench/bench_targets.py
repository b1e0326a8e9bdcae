"""The targets printed under the table (reported, never enforced): those of
the performance issue "Fast and frugal" (doc/performance.md, "Targets").
Each is judged from the figures of the same run; "no slower than before"
needs the JSON of an earlier run (BENCH_BASELINE=FILE, same device names)."""

import json
import os


def verdict(ok, miss):
    return "met" if ok else "MISSED " + miss


def _idle(r, n):
    return next((i for i in r.get("idle", []) if i["nodes"] == n), None)


def _lab(r, n):
    return next((x for x in r.get("lab", []) if x["nodes"] == n), None)


def baseline():
    """{device name: its result} of BENCH_BASELINE's run, or {}."""
    path = os.environ.get("BENCH_BASELINE")
    if not path:
        return {}
    with open(path) as f:
        return {d["device"]["name"]: d for d in json.load(f).get("devices", [])}


def _knet(r, name, floor_ms):
    out = []
    for x in r.get("lab", []):
        v = (x.get("stats") or {}).get("disk_minus_net_window_us")
        if v is None:
            continue
        bound = 0.5 if name == "ram" else 3 * floor_ms + 0.5
        ok = v / 1000 <= bound
        out.append((ok, "knet latency disk minus net, %d nodes <= %.2f ms: %s" % (
            x["nodes"], bound, verdict(ok, "by %.2f ms" % (v / 1000 - bound)))))
    return out


def _idle_targets(r):
    out = []
    for i in r.get("idle", []):
        n = i["nodes"]
        io_bound = 150 if n <= 3 else 300
        ok = i["iops_per_node"] <= io_bound
        out.append((ok, "idle I/O per node, %d nodes <= %d/s: %s" % (
            n, io_bound, verdict(ok, "by %.0f/s" % (i["iops_per_node"] - io_bound)))))
        cpu_bound = 0.3 if n <= 3 else 1.0
        ok = i["cpu_pct_avg"] <= cpu_bound
        out.append((ok, "idle CPU per node, %d nodes <= %.1f %%: %s" % (
            n, cpu_bound, verdict(ok, "by %.2f points" % (i["cpu_pct_avg"] - cpu_bound)))))
    idles = r.get("idle", [])
    if len(idles) > 1:
        lo, hi = idles[0], idles[-1]
        ok = hi["rss_kb_avg"] <= lo["rss_kb_avg"] * 1.05
        out.append((ok, "RSS flat in the node count (%d -> %d nodes, <= +5 %%): %s" % (
            lo["nodes"], hi["nodes"], verdict(ok, "by %.0f kB" % (
                hi["rss_kb_avg"] - lo["rss_kb_avg"] * 1.05)))))
    return out


def _link_targets(r, name, before):
    out = []
    floor_ms = r["floor"]["p50"] / 1000
    o = r["link"]["oneway_1000"]["p50_us"] / 1000
    bound = 3 * floor_ms + 0.2
    out.append((o <= bound, "one-way p50 at 1,000/s <= 3x floor + 0.2 ms (%.2f ms): %s" % (
        bound, verdict(o <= bound, "by %.2f ms" % (o - bound)))))
    t, fio = r["link"]["tput_64k"]["mb_per_s"], r["fio"]["seqwrite_64k"]["mb_per_s"]
    what = "64 KiB throughput >= 0.8x fio seq write (%.0f MB/s)" % (0.8 * fio)
    if name == "ram":
        out.append((None, "%s: %.2fx (reported; the target is the disk-backed device's)" % (
            what, t / fio)))
    else:
        out.append((t >= 0.8 * fio, "%s: %s" % (what, verdict(
            t >= 0.8 * fio, "by %.0f MB/s (%.2fx)" % (0.8 * fio - t, t / fio)))))
    b = (before.get(name) or {}).get("link", {}).get("tput_200", {}).get("dgrams_per_s")
    now = r["link"]["tput_200"]["dgrams_per_s"]
    if b:
        ok = now >= 0.95 * b
        out.append((ok, "200-byte datagrams no slower than before (%.0f/s): %.0f/s, %s" % (
            b, now, verdict(ok, "by %.0f %%" % (100 - 100 * now / b)))))
    return out


def targets(devs):
    """The lines to print; each device's verdicts also go to r["targets"]."""
    before, lines = baseline(), []
    for r in devs:
        name = r["device"]["name"]
        tg = r.setdefault("targets", {})
        got = _link_targets(r, name, before) + _idle_targets(r) + \
            _knet(r, name, r["floor"]["p50"] / 1000)
        for ok, text in got:
            if ok is not None:
                tg[text.split(":")[0]] = ok
            lines.append("%s: %s" % (name, text))
    return lines
