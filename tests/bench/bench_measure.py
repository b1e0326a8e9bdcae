"""What the daemons of one device measure: latency, round trips and
throughput through two daemons (dl_latency), the idle cost of N daemons,
and the disk bytes of one broadcast."""

import json
import time

from bench_common import DL_LATENCY, MSG_SIZE, log, par
from bench_daemons import PORT, addr, cpu_seconds, mem_kb

BLOCK_SIZE = 4096
BLOCK_HDR = 64
REC_HDR = 24
# knet's ping interval with corosync's default timers and 2 nodes: token
# 3000 ms / (2 x knet_pong_count 2) = 750 ms (the lab measures its own).
KNET_PING_MS = 750
TUNED = {"poll_idle_us": 2500, "read_ahead": 32}


def dl_latency(d, mode, *args):
    argv = [DL_LATENCY, mode, "--a-bind", "%s:%d" % (addr(1, 1), PORT),
            "--a-to", "%s:%d" % (addr(1, 2), PORT),
            "--b-bind", "%s:%d" % (addr(2, 2), PORT),
            "--b-to", "%s:%d" % (addr(2, 1), PORT)] + list(args)
    return json.loads(d.netns.run(argv, timeout=900).stdout)


def measure_link(d):
    """Two daemons: one-way, round trips, throughput."""
    d.start([1, 2])
    time.sleep(1)
    r = {}
    log("one-way latency at idle (1/s + random gap, %d s)" % par("idle_count"))
    r["oneway_idle"] = dl_latency(d, "oneway", "--rate", 1, "--count", par("idle_count"),
                                  "--size", MSG_SIZE)
    for rate, key in ((1000, "r1k_count"), (10000, "r10k_count")):
        log("one-way latency at %d/s" % rate)
        r["oneway_%d" % rate] = dl_latency(d, "oneway", "--rate", rate, "--count", par(key),
                                           "--size", MSG_SIZE)
    log("round trip, back to back")
    r["rtt_b2b"] = dl_latency(d, "rtt", "--count", par("rtt_count"), "--size", MSG_SIZE)
    log("round trip, 100 ms apart (idle daemons)")
    r["rtt_spaced"] = dl_latency(d, "rtt", "--count", par("rtt_spaced_count"),
                                 "--size", MSG_SIZE, "--gap-ms", 100)
    log("round trip at knet's ping interval (%d ms)" % KNET_PING_MS)
    r["rtt_knet"] = dl_latency(d, "rtt", "--count", par("rtt_knet_count"),
                               "--size", MSG_SIZE, "--gap-ms", KNET_PING_MS)
    r["rtt_knet"]["gap_ms"] = KNET_PING_MS
    # 12 x 17 blocks in flight: 80 % of the default 256-block ring.
    for size, win, key in ((65507, 12, "tput_64k"), (200, 256, "tput_200")):
        log("throughput, %d-byte datagrams" % size)
        before = d.counters([1, 2])
        t = dl_latency(d, "throughput", "--size", size, "--window", win,
                       "--duration", par("tput_s"))
        time.sleep(0.3)
        after = d.counters([1, 2])
        t["daemons"] = {k: after[k] - before[k] for k in after}
        r[key] = t
    d.stop()
    return r


def measure_tuned(d):
    """The same link with a shorter idle period and a longer read-ahead:
    what the two main tunables buy, and what the idle period costs."""
    d.start([1, 2], TUNED)
    r = {"tunables": dict(TUNED)}
    log("tuned %s: round trip 100 ms apart, 64 KiB throughput, idle CPU" % TUNED)
    r["rtt_spaced"] = dl_latency(d, "rtt", "--count", par("rtt_spaced_count"),
                                 "--size", MSG_SIZE, "--gap-ms", 100)
    r["tput_64k"] = dl_latency(d, "throughput", "--size", 65507, "--window", 12,
                               "--duration", par("tput_s"))
    r["idle"] = sample_idle(d, [1, 2])
    d.stop()
    return r


def sample_idle(d, ids):
    """CPU (parent + I/O child, /proc/PID/stat), memory, and I/O operations
    (the daemons' counters and /sys/block/X/stat) of the running daemons
    IDS over idle_cost_s seconds, idle_settle_s after their start (the
    schedule of an idle daemon settles in 10 s: doc/design.md, "Polling
    ahead of pings")."""
    time.sleep(par("idle_settle_s"))
    pids = {}
    for n in ids:
        s = d.status(n)
        pids[n] = [s["pid"], s["io_pid"]]
    t0 = time.time()
    c0 = {n: cpu_seconds(pids[n]) for n in ids}
    io0 = {n: d.status(n)["io"] for n in ids}
    d0 = d.device.disk_ops()
    time.sleep(par("idle_cost_s"))
    d1 = d.device.disk_ops()
    c1 = {n: cpu_seconds(pids[n]) for n in ids}
    io1 = {n: d.status(n)["io"] for n in ids}
    dt = time.time() - t0
    mem = [[sum(x) for x in zip(*(mem_kb(p) for p in pids[n]))] for n in ids]
    n_nodes = len(ids)
    cpu = [(c1[n] - c0[n]) / dt * 100 for n in ids]
    ops = [(io1[n]["reads"] - io0[n]["reads"] + io1[n]["writes"] - io0[n]["writes"]) / dt
           for n in ids]
    return {"nodes": n_nodes, "seconds": round(dt, 1),
            "cpu_pct_avg": sum(cpu) / len(cpu), "cpu_pct_max": max(cpu),
            "rss_kb_avg": sum(m[0] for m in mem) / n_nodes,
            "pss_kb_avg": sum(m[1] for m in mem) / n_nodes,
            "iops_per_node": sum(ops) / len(ops),
            "device_iops_per_node": (d1[0] - d0[0]) / dt / n_nodes,
            "device_kb_per_s_per_node": (d1[1] - d0[1]) / dt / n_nodes / 1000}


def measure_idle(d, n_nodes):
    ids = list(range(1, n_nodes + 1))
    d.start(ids)
    r = sample_idle(d, ids)
    log("idle %d nodes: cpu %.2f%% (max %.2f%%), rss %.0f kB, %.0f IO/s per node "
        "(device %.0f)" % (n_nodes, r["cpu_pct_avg"], r["cpu_pct_max"], r["rss_kb_avg"],
                           r["iops_per_node"], r["device_iops_per_node"]))
    if n_nodes in (8, 16):
        r["broadcast"] = {str(size): measure_broadcast(d, ids, size) for size in (160, 1200)}
    d.stop()
    return r


def broadcast(d, n_nodes, rounds, size):
    """Node 1's knet end sends the same datagram to every peer (as knet
    does for a broadcast), ROUNDS times, 100 rounds/s."""
    argv = [DL_LATENCY, "broadcast", "--a-bind", "%s:%d" % (addr(1, 1), PORT),
            "--count", rounds, "--rate", 100, "--size", size]
    for m in range(2, n_nodes + 1):
        argv += ["--dst", "%s:%d" % (addr(1, m), PORT)]
    d.netns.run(argv, timeout=300)
    time.sleep(0.5)


def measure_broadcast(d, ids, size):
    """Bytes node 1 writes per broadcast of SIZE bytes to its N-1 peers:
    coalesced (default), with coalesce_us=0 (the parent does not wait
    for the copies; the I/O child still merges identical consecutive
    queue entries, so this is not "no coalescing"), and computed for
    N-1 separate records (there is no switch that turns it off)."""
    n = len(ids)
    rounds = par("bcast_rounds")
    out = {"size": size, "rounds": rounds}
    for label, tun in (("coalesced", None), ("coalesce_us_0", {"coalesce_us": 0})):
        if tun:
            d.reload(1, tun)
        s0 = d.status(1)["io"]
        broadcast(d, n, rounds, size)
        s1 = d.status(1)["io"]
        blocks = s1["blocks_written"] - s0["blocks_written"]
        out[label] = {"blocks": blocks, "bytes_per_round": blocks * BLOCK_SIZE / rounds,
                      "writes": s1["writes"] - s0["writes"],
                      "dgrams_written": s1["dgrams_written"] - s0["dgrams_written"],
                      "coalesced": s1["coalesced"] - s0["coalesced"]}
    d.reload(1, {"coalesce_us": 100})

    def rec(dst):
        return REC_HDR + ((2 * dst + 7) // 8) * 8 + ((size + 7) // 8) * 8
    per_block = BLOCK_SIZE - BLOCK_HDR
    sep = (n - 1) * rec(1)
    packed = -(-sep // per_block) * BLOCK_SIZE
    out["computed"] = {
        "one_record_bytes": rec(n - 1),
        "separate_records_bytes": sep,
        # N-1 records packed into shared blocks (a group commit of the
        # whole burst, the best case), or one block each (the worst).
        "separate_packed_bytes": packed,
        "separate_unpacked_bytes": (n - 1) * BLOCK_SIZE,
    }
    c = out["coalesced"]["bytes_per_round"]
    out["saved_vs_packed"] = 1 - c / packed
    out["saved_vs_unpacked"] = 1 - c / ((n - 1) * BLOCK_SIZE)
    log("broadcast %d nodes, %d B: %.0f B/round coalesced, %.0f with coalesce_us=0, "
        "%d as N-1 packed records" % (n, size, c, out["coalesce_us_0"]["bytes_per_round"],
                                      packed))
    return out
