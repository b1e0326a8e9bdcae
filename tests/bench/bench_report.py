"""The table: one row per figure, one column per device; every latency
cell gives the value and its ratio to that device's own fio floor, taken
in the same run.  Targets are printed below it, never enforced
(bench_targets.py)."""

from bench_targets import targets


def rx(v, f):
    return "%.1fx" % (v / f) if f and v is not None and v >= 0 else "-"


def us(v):
    return "%.0f" % v if v is not None else "?"


def fio_rows(row):
    row("fio 4K rand write p50/p99 (us)", lambda r: "%.1f / %.1f" % (
        r["fio"]["randwrite_4k"]["p50_us"], r["fio"]["randwrite_4k"]["p99_us"]))
    row("fio 4K rand read p50/p99 (us)", lambda r: "%.1f / %.1f" % (
        r["fio"]["randread_4k"]["p50_us"], r["fio"]["randread_4k"]["p99_us"]))
    row("fio 4K rand write IOPS (QD1)", lambda r: "%.0f" % r["fio"]["randwrite_4k"]["iops"])
    row("fio 64K seq write (MB/s)", lambda r: "%.0f" % r["fio"]["seqwrite_64k"]["mb_per_s"])
    row("FLOOR one hop = write+read p50/p99 (us)", lambda r: "%.1f / %.1f" % (
        r["floor"]["p50"], r["floor"]["p99"]))


def link_rows(row):
    for key, name in (("oneway_idle", "one-way, idle 1/s (reported only)"),
                      ("oneway_1000", "one-way, 1,000/s"),
                      ("oneway_10000", "one-way, 10,000/s")):
        row(name + " p50/p99 (us) [x floor]", lambda r, key=key: "%s / %s [%s/%s]%s" % (
            us(r["link"][key]["p50_us"]), us(r["link"][key]["p99_us"]),
            rx(r["link"][key]["p50_us"], r["floor"]["p50"]),
            rx(r["link"][key]["p99_us"], r["floor"]["p99"]), lost(r["link"][key])))
    for key, name in (("rtt_b2b", "round trip, back to back"),
                      ("rtt_spaced", "round trip, 100 ms apart"),
                      ("rtt_knet", "round trip, knet ping interval (750 ms)")):
        row(name + " p50/p99 (us) [x 2 floors]", lambda r, key=key: "%s / %s [%s/%s]%s" % (
            us(r["link"][key]["p50_us"]), us(r["link"][key]["p99_us"]),
            rx(r["link"][key]["p50_us"], 2 * r["floor"]["p50"]),
            rx(r["link"][key]["p99_us"], 2 * r["floor"]["p99"]), lost(r["link"][key])))
        row("  its ping half p50 (us)", lambda r, key=key: us(r["link"][key].get("fwd_p50_us")))
    row("throughput, 65507-byte dgrams MB/s [x fio seq]", lambda r: "%.1f [%s]%s%s" % (
        r["link"]["tput_64k"]["mb_per_s"], rx(r["link"]["tput_64k"]["mb_per_s"], r["floor"]["bw"]),
        lost(r["link"]["tput_64k"]), drops(r["link"]["tput_64k"])))
    row("throughput, 200-byte dgrams/s [x fio IOPS]", lambda r: "%.0f [%.2f]%s%s" % (
        r["link"]["tput_200"]["dgrams_per_s"],
        r["link"]["tput_200"]["dgrams_per_s"] / r["fio"]["randwrite_4k"]["iops"],
        lost(r["link"]["tput_200"]), drops(r["link"]["tput_200"])))


def tun_rows(row, devs):
    """TUN mode over dl0 (bench_tun.py): ping and TCP against the floor."""
    if not any(r.get("tun") for r in devs):
        return
    row("TUN mode over dl0 (bench_tun.py):", lambda r: (
        "not measured: %s" % (r["tun"].get("skipped") or r["tun"]["error"])[:60]
        if r["tun"].get("skipped") or r["tun"].get("error") else ""))
    for key, name in (("ping_10ms", "  ping, 10 ms apart"), ("ping_100ms", "  ping, 100 ms apart")):
        row(name + " p50/p99 (us) [x 2 floors]", lambda r, key=key: "%s / %s [%s/%s]%s" % (
            us(r["tun"][key]["p50_us"]), us(r["tun"][key]["p99_us"]),
            rx(r["tun"][key]["p50_us"], 2 * r["floor"]["p50"]),
            rx(r["tun"][key]["p99_us"], 2 * r["floor"]["p99"]), lost(r["tun"][key])))
    for key, name in (("tcp_default", "  TCP, bulk limit 4096 KiB/s: MB/s [x fio seq]"),
                      ("tcp_unlimited", "  TCP, no bulk limit: MB/s [x fio seq]")):
        row(name, lambda r, key=key: "%.1f [%s]%s" % (
            r["tun"][key]["mb_per_s"], rx(r["tun"][key]["mb_per_s"], r["floor"]["bw"]),
            " (bulk drops %d)" % r["tun"][key]["bulk_drops"]
            if r["tun"][key].get("bulk_drops") else ""))
        row("    pings meanwhile, 50 ms apart p50/p99 (us)", lambda r, key=key: "%s / %s%s" % (
            us(r["tun"][key]["ping_during"]["p50_us"]), us(r["tun"][key]["ping_during"]["p99_us"]),
            lost(r["tun"][key]["ping_during"])))


def lost(o):
    return " lost %d/%d" % (o["lost"], o["sent"]) if o.get("lost") else ""


def drops(o):
    d = o.get("daemons", {})
    n = d.get("lost_blocks", 0) + d.get("overruns", 0) + d.get("tx_queue_drops", 0) + \
        d.get("rx_queue_drops", 0) + d.get("write_drops", 0)
    return " (daemon losses %d)" % n if n else ""


def tuned_rows(row, devs):
    if not any(r.get("tuned") for r in devs):
        return
    t = next(r["tuned"] for r in devs if r.get("tuned"))
    name = ", ".join("%s=%s" % kv for kv in sorted(t["tunables"].items()))
    row("tuned (%s):" % name, lambda r: "")
    row("  round trip 100 ms apart p50/p99 (us)", lambda r: "%s / %s [%s/%s]" % (
        us(r["tuned"]["rtt_spaced"]["p50_us"]), us(r["tuned"]["rtt_spaced"]["p99_us"]),
        rx(r["tuned"]["rtt_spaced"]["p50_us"], 2 * r["floor"]["p50"]),
        rx(r["tuned"]["rtt_spaced"]["p99_us"], 2 * r["floor"]["p99"])))
    row("  throughput, 65507-byte dgrams MB/s", lambda r: "%.1f [%s]" % (
        r["tuned"]["tput_64k"]["mb_per_s"], rx(r["tuned"]["tput_64k"]["mb_per_s"],
                                               r["floor"]["bw"])))
    row("  idle 2 nodes: CPU %/node; IO/s/node", lambda r: "%.2f %%; %.0f" % (
        r["tuned"]["idle"]["cpu_pct_avg"], r["tuned"]["idle"]["iops_per_node"]))


def idle_of(r, n):
    for i in r.get("idle", []):
        if i["nodes"] == n:
            return i
    return None


def cell(fn):
    def f(r):
        try:
            return fn(r)
        except (KeyError, TypeError, ZeroDivisionError):
            return "-"
    return f


def idle_rows(row, devs):
    ns = sorted({i["nodes"] for r in devs for i in r.get("idle", [])})
    for n in ns:
        row("idle %2d nodes: IO/s per node daemon / device" % n, lambda r, n=n: "%.0f / %.0f" % (
            idle_of(r, n)["iops_per_node"], idle_of(r, n)["device_iops_per_node"]))
        row("  device kB/s per node; x fio IOPS", lambda r, n=n: "%.0f; %.3f" % (
            idle_of(r, n)["device_kb_per_s_per_node"],
            idle_of(r, n)["device_iops_per_node"] / r["fio"]["randwrite_4k"]["iops"]))
        row("  CPU % per node avg/max; RSS (PSS) kB", lambda r, n=n: "%.2f / %.2f; %.0f (%.0f)" % (
            idle_of(r, n)["cpu_pct_avg"], idle_of(r, n)["cpu_pct_max"],
            idle_of(r, n)["rss_kb_avg"], idle_of(r, n)["pss_kb_avg"]))
        for size in ("160", "1200"):
            if any((idle_of(r, n) or {}).get("broadcast") for r in devs):
                row("  broadcast %s B to %d peers: disk B/dgram" % (size, n - 1),
                    lambda r, n=n, size=size: "%.0f (coalesce_us=0 %.0f)" % (
                        idle_of(r, n)["broadcast"][size]["coalesced"]["bytes_per_round"],
                        idle_of(r, n)["broadcast"][size]["coalesce_us_0"]["bytes_per_round"]))


def lab_of(r, n):
    for x in r.get("lab", []):
        if x["nodes"] == n:
            return x
    return None


def knet_rows(row, devs):
    ns = sorted({x["nodes"] for r in devs for x in r.get("lab", [])})
    for n in ns:
        def st(r, n=n):
            return lab_of(r, n)["stats"]
        row("knet %d nodes, lab cluster" % n, lambda r, n=n: (
            "%.0f s" % lab_of(r, n)["seconds"] if lab_of(r, n).get("stats")
            else "not measured: %s" % lab_of(r, n).get("skipped", "?")[:60]))
        row("  window ave: disk / net (us) [x 2 floors]", lambda r, st=st: "%s / %s [%s]" % (
            us(st(r)["link1_window_ave_us"]), us(st(r)["link0_window_ave_us"]),
            rx(st(r)["link1_window_ave_us"], 2 * r["floor"]["p50"])))
        row("  disk minus net, same pair (us) avg/max", lambda r, st=st: "%s / %s" % (
            us(st(r)["disk_minus_net_window_us"]), us(st(r)["disk_minus_net_window_max_us"])))
        row("  as knet reports it: disk / net (us)", lambda r, st=st: "%s / %s" % (
            us(st(r)["link1_latency_ave_us"]), us(st(r)["link0_latency_ave_us"])))
        row("  ping interval measured (computed) ms", lambda r, n=n, st=st: "%s (%s)" % (
            us(st(r)["link1_ping_interval_ms"]),
            us(lab_of(r, n).get("ping_interval_computed_ms"))))


def report(res):
    devs = [r for r in res["devices"] if r.get("fio")]
    rows = []

    def row(what, fn):
        rows.append([what] + [cell(fn)(r) for r in devs])
    fio_rows(row)
    if all(r.get("link") for r in devs):
        link_rows(row)
    tun_rows(row, devs)
    tuned_rows(row, devs)
    idle_rows(row, devs)
    knet_rows(row, devs)
    head = ["figure"] + ["%s" % r["device"]["label"] for r in devs]
    w = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
    fmt = " | ".join("%%-%ds" % x for x in w)
    lines = ["disklink benchmark%s: %s, %d CPUs, load %.1f -> %.1f, nice %s, dsync %s, %s s" % (
        " (QUICK)" if res["quick"] else "", res["time"], res["cpus"], res["load_before"],
        res.get("load_after", 0), res.get("nice", "?"), "on" if res["dsync"] else "off",
        res.get("seconds", "?")),
        fmt % tuple(head), "-" * (sum(w) + 3 * len(w))]
    lines += [(fmt % tuple(x)).rstrip() for x in rows]
    lines.append("")
    lines.append("devices:")
    for r in res["devices"]:
        d = r["device"]
        lines.append("  %s: %s %s%s" % (d["name"], d.get("loop", "-"), d.get("backing", ""),
                                        ("  NOT MEASURED: " + r["error"]) if r.get("error") else ""))
    lines.append("targets (reported, not enforced):")
    lines += ["  " + t for t in targets([r for r in devs if r.get("link")])]
    return "\n".join(lines)
