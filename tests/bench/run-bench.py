#!/usr/bin/python3
"""disklink benchmark suite (`make bench`; not part of `make check`).

One run, one device: a loop device over a file in /dev/shm.  It measures
the device itself with fio (the floor), then datagram latency, round trip
and throughput through two disklinkd instances, the idle cost of 2..16
daemons on one volume, the disk bytes saved by one record for many
destinations, and (in a real 3-node corosync cluster of the lab) the link
latency knet itself reports for the disk link.  It prints ONE table and
writes the same figures as JSON (BENCH_OUT, default ./bench-results.json).

Every daemon runs in explicit mode inside one network namespace created
here: node n's view of the link uses the address set 127.79.n.0/24 (its
knet end 127.79.n.n, peer m at 127.79.n.m), so 16 nodes share one
namespace without two of them binding the same address.

Environment: top_builddir, top_srcdir (set by make), BENCH_QUICK=1 (a
~2 minute smoke run), BENCH_OUT, BENCH_DSYNC=1 (daemon and fio with
O_DSYNC), BENCH_LAB=0 (skip the cluster part).  Exit status: 0 measured
(targets are reported, never enforced), 1 could not measure, 77 cannot
run here (not root, tool missing).  Everything created is removed on exit.
See doc/performance.md.
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree (tests/lab imports)

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("top_srcdir") or os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("top_builddir") or SRC
DISKLINKD = os.path.join(BUILD, "knet-transport", "disklinkd")
DISKLINK = os.path.join(BUILD, "knet-transport", "disklink")
DL_LATENCY = os.path.join(BUILD, "tests", "bench", "dl_latency")
QUICK = os.environ.get("BENCH_QUICK") == "1"
DSYNC = os.environ.get("BENCH_DSYNC") == "1"
OUT = os.environ.get("BENCH_OUT") or os.path.abspath("bench-results.json")
PORT = 5406
NET = "127.79."
CLK_TCK = os.sysconf("SC_CLK_TCK")
BLOCK_SIZE = 4096
BLOCK_HDR = 64
REC_HDR = 24
MSG_SIZE = 128                  # datagram size of the latency runs (a knet ping is ~70-100)

# Durations (seconds / counts): full run, then quick.
P = {
    "fio_s": (8, 3),
    "idle_count": (40, 8),           # one datagram per second
    "r1k_count": (10000, 3000),
    "r10k_count": (100000, 20000),
    "rtt_count": (3000, 500),
    "rtt_spaced_count": (150, 30),   # 100 ms apart: both daemons idle
    "tput_s": (8, 3),
    "idle_cost_s": (20, 5),
    "bcast_rounds": (300, 100),
    "lab_settle_s": (30, 10),
}


def par(name):
    return P[name][1 if QUICK else 0]


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class Skip(Exception):
    pass


class Bench:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="dlbench.")
        self.shm = tempfile.mkdtemp(prefix="dlbench.", dir="/dev/shm")
        self.netns = "dlbench%d" % os.getpid()
        self.loop = None
        self.netns_made = False
        self.daemons = {}            # node id -> Popen
        self.res = {"quick": QUICK, "dsync": DSYNC, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "host": os.uname().nodename, "cpus": os.cpu_count(),
                    "load_before": os.getloadavg()[0]}

    # ---- cleanup --------------------------------------------------------
    def cleanup(self):
        self.stop_daemons()
        if self.netns_made:
            subprocess.run(["ip", "netns", "del", self.netns], stderr=subprocess.DEVNULL)
            self.netns_made = False
        if self.loop:
            subprocess.run(["losetup", "-d", self.loop], stderr=subprocess.DEVNULL)
            self.loop = None
        shutil.rmtree(self.shm, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)

    # ---- helpers --------------------------------------------------------
    def run(self, argv, timeout=300, check=True, netns=False):
        if netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        cp = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=timeout)
        if check and cp.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(argv[:6]), cp.returncode,
                                                    cp.stderr.strip()[-500:]))
        return cp

    @staticmethod
    def addr(view, node):
        return "%s%d.%d" % (NET, view, node)

    def make_device(self):
        img = os.path.join(self.shm, "volume.img")
        # Allocated (not sparse), so that reads hit data as writes do.
        with open(img, "wb") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(128):
                f.write(chunk)
        self.loop = self.run(["losetup", "--find", "--show", img]).stdout.strip()
        self.res["device"] = {"loop": self.loop, "backing": "/dev/shm (tmpfs)", "bytes": 128 << 20,
                              "sector_size": int(open("/sys/block/%s/queue/logical_block_size"
                                                      % os.path.basename(self.loop)).read())}
        log("device %s over %s" % (self.loop, img))

    # ---- fio ------------------------------------------------------------
    def fio(self, rw, bs):
        argv = ["fio", "--name=bench", "--filename=" + self.loop, "--direct=1",
                "--ioengine=psync", "--iodepth=1", "--rw=" + rw, "--bs=" + bs,
                "--size=64M", "--runtime=%d" % par("fio_s"), "--time_based",
                "--output-format=json"]
        if DSYNC and "write" in rw:
            argv.append("--sync=dsync")
        j = json.loads(self.run(argv, timeout=120).stdout)
        job = j["jobs"][0]
        side = job["write" if "write" in rw else "read"]
        pc = side["clat_ns"].get("percentile", {})
        return {"p50_us": pc.get("50.000000", 0) / 1000.0, "p99_us": pc.get("99.000000", 0) / 1000.0,
                "mean_us": side["clat_ns"]["mean"] / 1000.0, "iops": side["iops"],
                "mb_per_s": side["bw_bytes"] / 1e6}

    def measure_fio(self):
        f = {}
        f["randwrite_4k"] = self.fio("randwrite", "4k")
        f["randread_4k"] = self.fio("randread", "4k")
        f["seqwrite_64k"] = self.fio("write", "64k")
        self.res["fio"] = f
        w, r = f["randwrite_4k"], f["randread_4k"]
        # The floor of one hop: one 4 KiB write and one 4 KiB read.
        self.floor = {"p50": w["p50_us"] + r["p50_us"], "p99": w["p99_us"] + r["p99_us"],
                      "bw": f["seqwrite_64k"]["mb_per_s"]}
        log("fio: write p50 %.1f us, read p50 %.1f us, 64k seq %.0f MB/s" %
            (w["p50_us"], r["p50_us"], f["seqwrite_64k"]["mb_per_s"]))

    # ---- daemons --------------------------------------------------------
    def format(self):
        self.run([DISKLINK, "format", self.loop, "--cluster", "bench", "--slots", "16",
                  "--force"])

    def start_daemons(self, ids, tun=None):
        for n in ids:
            conf = os.path.join(self.work, "node%d.conf" % n)
            with open(conf, "w") as f:
                f.write("cluster = bench\n")
                if DSYNC:
                    f.write("dsync = yes\n")
                for k, v in (tun or {}).items():
                    f.write("%s = %s\n" % (k, v))
            argv = ["ip", "netns", "exec", self.netns, DISKLINKD, "--device", self.loop,
                    "--node-id", str(n), "--port", str(PORT), "--local-addr", self.addr(n, n),
                    "--foreground", "--control", self.ctl(n), "--config", conf,
                    "--node-name", "bench%d" % n]
            for m in ids:
                if m != n:
                    argv += ["--peer", "%d=%s" % (m, self.addr(n, m))]
            out = open(os.path.join(self.work, "disklinkd%d.log" % n), "ab")
            self.daemons[n] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
            out.close()
        deadline = time.time() + 30
        while True:
            ok = True
            for n in ids:
                if self.daemons[n].poll() is not None:
                    raise RuntimeError("disklinkd %d exited with %d: %s" % (
                        n, self.daemons[n].returncode, self.tail(n)))
                s = self.status(n)
                if not s or s["device_state"] != "ok" or any(
                        p["state"] != "up" or p["slot"] < 0 for p in s["peers"]):
                    ok = False
            if ok:
                return
            if time.time() > deadline:
                raise RuntimeError("disklinkd %s did not see every peer up in 30 s" % ids)
            time.sleep(0.2)

    def tail(self, n):
        try:
            with open(os.path.join(self.work, "disklinkd%d.log" % n)) as f:
                return " | ".join(f.read().splitlines()[-5:])
        except OSError:
            return ""

    def ctl(self, n):
        return os.path.join(self.work, "ctl%d.sock" % n)

    def status(self, n):
        cp = subprocess.run([DISKLINK, "status", "--json", "--socket", self.ctl(n)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            universal_newlines=True, timeout=5)
        if cp.returncode != 0:
            return None
        try:
            return json.loads(cp.stdout)
        except ValueError:
            return None

    def stop_daemons(self):
        for p in self.daemons.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.daemons.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.daemons = {}

    def reload(self, n, tun):
        conf = os.path.join(self.work, "node%d.conf" % n)
        with open(conf, "a") as f:
            for k, v in tun.items():
                f.write("%s = %s\n" % (k, v))
        self.daemons[n].send_signal(signal.SIGHUP)
        time.sleep(0.5)

    def counters(self, ids):
        """Loss-related counters summed over the daemons IDS."""
        c = {"lost_blocks": 0, "overruns": 0, "torn_skipped": 0, "tx_queue_drops": 0,
             "rx_queue_drops": 0, "write_drops": 0, "knet_send_drops": 0, "blocks_written": 0,
             "writes": 0, "reads": 0}
        for n in ids:
            s = self.status(n) or {}
            for k in ("tx_queue_drops", "rx_queue_drops"):
                c[k] += s.get(k, 0)
            for k in ("write_drops", "blocks_written", "writes", "reads"):
                c[k] += s.get("io", {}).get(k, 0)
            for p in s.get("peers", []):
                for k in ("lost_blocks", "overruns", "torn_skipped", "knet_send_drops"):
                    c[k] += p.get(k, 0)
        return c

    # ---- latency and throughput (2 nodes) -------------------------------
    def dl_latency(self, mode, *args):
        argv = [DL_LATENCY, mode, "--a-bind", "%s:%d" % (self.addr(1, 1), PORT),
                "--a-to", "%s:%d" % (self.addr(1, 2), PORT),
                "--b-bind", "%s:%d" % (self.addr(2, 2), PORT),
                "--b-to", "%s:%d" % (self.addr(2, 1), PORT)] + [str(a) for a in args]
        cp = self.run(argv, timeout=600, netns=True)
        return json.loads(cp.stdout)

    def measure_link(self):
        self.start_daemons([1, 2])
        time.sleep(1)
        r = {}
        log("one-way latency at idle (1/s, %d s)" % par("idle_count"))
        r["oneway_idle"] = self.dl_latency("oneway", "--rate", 1, "--count", par("idle_count"),
                                           "--size", MSG_SIZE)
        for rate, key in ((1000, "r1k_count"), (10000, "r10k_count")):
            log("one-way latency at %d/s" % rate)
            r["oneway_%d" % rate] = self.dl_latency("oneway", "--rate", rate, "--count", par(key),
                                                    "--size", MSG_SIZE)
        log("round trip, back to back")
        r["rtt_b2b"] = self.dl_latency("rtt", "--count", par("rtt_count"), "--size", MSG_SIZE)
        log("round trip, 100 ms apart (idle daemons, as knet's pings)")
        r["rtt_spaced"] = self.dl_latency("rtt", "--count", par("rtt_spaced_count"),
                                          "--size", MSG_SIZE, "--gap-ms", 100)
        # 12 x 17 blocks in flight: 80 % of the default 256-block ring.
        for size, win, key in ((65507, 12, "tput_64k"), (200, 256, "tput_200")):
            log("throughput, %d-byte datagrams" % size)
            before = self.counters([1, 2])
            t = self.dl_latency("throughput", "--size", size, "--window", win,
                                "--duration", par("tput_s"))
            time.sleep(0.3)
            after = self.counters([1, 2])
            t["daemons"] = {k: after[k] - before[k] for k in after}
            r[key] = t
        self.stop_daemons()
        self.res["link"] = r
        self.measure_tuned()

    TUNED = {"poll_idle_us": 2500, "read_ahead": 32}

    def measure_tuned(self):
        """The same link with a shorter idle period and a longer read-ahead:
        what the two main tunables buy, and what the idle period costs."""
        self.start_daemons([1, 2], self.TUNED)
        r = {"tunables": dict(self.TUNED)}
        log("tuned %s: round trip 100 ms apart, 64 KiB throughput, idle CPU" % self.TUNED)
        r["rtt_spaced"] = self.dl_latency("rtt", "--count", par("rtt_spaced_count"),
                                          "--size", MSG_SIZE, "--gap-ms", 100)
        r["tput_64k"] = self.dl_latency("throughput", "--size", 65507, "--window", 12,
                                        "--duration", par("tput_s"))
        r["idle"] = self.sample_idle([1, 2])
        self.stop_daemons()
        self.res["tuned"] = r

    # ---- idle cost, coalescing (N nodes) --------------------------------
    @staticmethod
    def cpu_ticks(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])      # utime, stime
        except (OSError, IndexError, ValueError):
            return 0

    def disk_ops(self):
        with open("/sys/block/%s/stat" % os.path.basename(self.loop)) as f:
            v = [int(x) for x in f.read().split()]
        return v[0] + v[4], v[2] * 512 + v[6] * 512     # ops, bytes

    def sample_idle(self, ids):
        """CPU (parent + I/O child, /proc/PID/stat) and I/O operations of
        the running daemons IDS over idle_cost_s seconds."""
        time.sleep(2)
        pids = {}
        for n in ids:
            s = self.status(n)
            pids[n] = [s["pid"], s["io_pid"]]
        t0 = time.time()
        c0 = {n: sum(self.cpu_ticks(p) for p in pids[n]) for n in ids}
        io0 = {n: self.status(n)["io"] for n in ids}
        d0 = self.disk_ops()
        time.sleep(par("idle_cost_s"))
        d1 = self.disk_ops()
        c1 = {n: sum(self.cpu_ticks(p) for p in pids[n]) for n in ids}
        io1 = {n: self.status(n)["io"] for n in ids}
        dt = time.time() - t0
        n_nodes = len(ids)
        cpu = [(c1[n] - c0[n]) / CLK_TCK / dt * 100 for n in ids]
        ops = [(io1[n]["reads"] - io0[n]["reads"] + io1[n]["writes"] - io0[n]["writes"]) / dt
               for n in ids]
        return {"nodes": n_nodes, "seconds": round(dt, 1),
                "cpu_pct_avg": sum(cpu) / len(cpu), "cpu_pct_max": max(cpu),
                "iops_per_node": sum(ops) / len(ops),
                "device_iops_per_node": (d1[0] - d0[0]) / dt / n_nodes,
                "device_kb_per_s_per_node": (d1[1] - d0[1]) / dt / n_nodes / 1000}

    def measure_idle(self, n_nodes):
        ids = list(range(1, n_nodes + 1))
        self.start_daemons(ids)
        r = self.sample_idle(ids)
        log("idle %d nodes: cpu %.2f%% (max %.2f%%), %.0f IO/s per node" %
            (n_nodes, r["cpu_pct_avg"], r["cpu_pct_max"], r["iops_per_node"]))
        if n_nodes in (8, 16):
            r["broadcast"] = self.measure_broadcast(ids)
        self.stop_daemons()
        return r

    def broadcast(self, n_nodes, rounds, size):
        """Node 1's knet end sends the same datagram to every peer (as knet
        does for a broadcast), ROUNDS times, 100 rounds/s."""
        argv = [DL_LATENCY, "broadcast", "--a-bind", "%s:%d" % (self.addr(1, 1), PORT),
                "--count", rounds, "--rate", 100, "--size", size]
        for m in range(2, n_nodes + 1):
            argv += ["--dst", "%s:%d" % (self.addr(1, m), PORT)]
        self.run([str(x) for x in argv], netns=True, timeout=120)
        time.sleep(0.5)

    def measure_broadcast(self, ids):
        return {str(size): self.measure_broadcast_size(ids, size) for size in (160, 1200)}

    def measure_broadcast_size(self, ids, size):
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
                self.reload(1, tun)
            s0 = self.status(1)["io"]
            self.broadcast(n, rounds, size)
            s1 = self.status(1)["io"]
            blocks = s1["blocks_written"] - s0["blocks_written"]
            out[label] = {"blocks": blocks, "bytes_per_round": blocks * BLOCK_SIZE / rounds,
                          "writes": s1["writes"] - s0["writes"],
                          "dgrams_written": s1["dgrams_written"] - s0["dgrams_written"],
                          "coalesced": s1["coalesced"] - s0["coalesced"]}
        self.reload(1, {"coalesce_us": 100})
        rec = lambda dst: REC_HDR + ((2 * dst + 7) // 8) * 8 + ((size + 7) // 8) * 8
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

    # ---- real cluster ----------------------------------------------------
    def measure_lab(self):
        """A real 3-node corosync cluster of the lab (tests/lab/dlcluster.py:
        link 0 = the lab's bridge, link 1 = 127.77.0.N through disklinkd on a
        shared loop device; no Pacemaker, it is not needed for the links).
        knet's latency_ave is a running average since the link came up, so
        start-up samples (before every peer's daemon attached) stay in it
        for a long time; the average over the measuring window is computed
        from two readings and latency_samples as well."""
        if os.environ.get("BENCH_LAB") == "0":
            self.res["lab"] = {"skipped": "BENCH_LAB=0"}
            return
        sys.path.insert(0, os.path.join(SRC, "tests", "lab"))
        os.environ.setdefault("DLLAB_QUIET", "1")
        # Explicit mode (addresses on the command line), as everywhere in
        # this benchmark; DLCLUSTER_DAEMON_MODE=corosync measures --link.
        os.environ.setdefault("DLCLUSTER_DAEMON_MODE", "explicit")
        res_mode = os.environ["DLCLUSTER_DAEMON_MODE"]
        import dllab
        import dlcluster
        res = {"nodes": 3, "via": "tests/lab/dlcluster.py", "token_ms": dlcluster.TOKEN_MS,
               "daemon_mode": res_mode}
        log("3-node corosync cluster with disklinkd (settle %d s)" % par("lab_settle_s"))
        try:
            with dlcluster.Cluster(nodes=3) as c:
                c.create()
                for nd in c.nodes:
                    nd.start_corosync()
                for nd in c.nodes:
                    c.start_daemon(nd)
                c.lab.wait_quorate(timeout=90)
                c.wait_links(timeout=90)
                time.sleep(3)
                first = {nd.id: self.cmap_stats(nd) for nd in c.nodes}
                time.sleep(par("lab_settle_s"))
                last = {nd.id: self.cmap_stats(nd) for nd in c.nodes}
                res["stats"] = self.lab_stats([nd.id for nd in c.nodes], first, last)
                res["daemons"] = {nd.id: dlcluster.daemon_status(nd) for nd in c.nodes}
        except dllab.LabSkip as e:
            res["skipped"] = str(e)
        except dllab.LabError as e:
            res["skipped"] = "lab failed: %s" % e
            log("lab: %s" % e)
        self.res["lab"] = res

    @staticmethod
    def cmap_stats(node):
        cp = node.exec(["corosync-cmapctl", "-m", "stats", "stats.knet."], timeout=30)
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

    @staticmethod
    def lab_stats(ids, first, last):
        out = {}
        per = []
        for link in (0, 1):
            rep, win = [], []
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
                    per.append({"on": n, "peer": m, "link": link, "latency_ave_us": a2,
                                "window_ave_us": w, "samples": s2,
                                "latency_max_us": last[n].get(k + "latency_max")})
            out["link%d_latency_ave_us" % link] = sum(rep) / len(rep) if rep else None
            out["link%d_latency_ave_max_us" % link] = max(rep) if rep else None
            out["link%d_window_ave_us" % link] = sum(win) / len(win) if win else None
        out["per_link"] = per
        return out

    # ---- the whole run -------------------------------------------------
    def main(self):
        t0 = time.time()
        self.make_device()
        self.measure_fio()
        self.format()
        self.run(["ip", "netns", "add", self.netns])
        self.netns_made = True
        self.run(["ip", "link", "set", "lo", "up"], netns=True)
        self.measure_link()
        sizes = (2, 3, 8, 16) if QUICK else (2, 3, 4, 8, 16)
        self.res["idle"] = [self.measure_idle(n) for n in sizes]
        self.measure_lab()
        self.res["seconds"] = round(time.time() - t0, 1)
        self.res["load_after"] = os.getloadavg()[0]
        table = report(self.res, self.floor)
        self.res["floor"] = self.floor
        with open(OUT, "w") as f:
            json.dump(self.res, f, indent=1)
        print(table)
        print("JSON: %s (%.0f s)" % (OUT, self.res["seconds"]))


# ---- the table --------------------------------------------------------------

def verdict(ok, miss):
    return "met" if ok else "MISSED " + miss


def report(res, floor):
    rows = []
    tg = res.setdefault("targets", {})

    def row(what, value, ratio="", target=""):
        rows.append((what, value, ratio, target))

    def rx(v, f):
        return "%.1fx" % (v / f) if f and v is not None and v >= 0 else "-"

    f = res["fio"]
    row("fio 4K rand write p50/p99 (us)", "%.1f / %.1f" % (f["randwrite_4k"]["p50_us"],
                                                         f["randwrite_4k"]["p99_us"]), "floor")
    row("fio 4K rand read p50/p99 (us)", "%.1f / %.1f" % (f["randread_4k"]["p50_us"],
                                                        f["randread_4k"]["p99_us"]), "floor")
    row("fio 64K seq write (MB/s)", "%.0f" % f["seqwrite_64k"]["mb_per_s"], "floor")
    row("one hop floor = write+read p50/p99 (us)", "%.1f / %.1f" % (floor["p50"], floor["p99"]),
        "1.0x")
    L = res["link"]
    for key, name in (("oneway_idle", "one-way, idle 1/s"), ("oneway_1000", "one-way, 1,000/s"),
                      ("oneway_10000", "one-way, 10,000/s")):
        o = L[key]
        t = ""
        if key == "oneway_1000":
            ok50, ok99 = o["p50_us"] <= 1000, o["p99_us"] <= 5000
            t = "p50<=1ms %s; p99<=5ms %s" % (
                verdict(ok50, "by %.2f ms" % ((o["p50_us"] - 1000) / 1000)),
                verdict(ok99, "by %.2f ms" % ((o["p99_us"] - 5000) / 1000)))
            tg["oneway_1000"] = {"p50_ok": ok50, "p99_ok": ok99}
        row(name + " p50/p99/p99.9 (us)", "%.0f / %.0f / %.0f  lost %d/%d" % (
            o["p50_us"], o["p99_us"], o["p999_us"], o["lost"], o["sent"]),
            "%s / %s" % (rx(o["p50_us"], floor["p50"]), rx(o["p99_us"], floor["p99"])), t)
    for key, name in (("rtt_b2b", "round trip, back to back"),
                      ("rtt_spaced", "round trip, 100 ms apart (idle)")):
        o = L[key]
        row(name + " p50/p99 (us)", "%.0f / %.0f  lost %d/%d (ping half p50 %.0f)" % (
            o["p50_us"], o["p99_us"], o["lost"], o["sent"], o.get("fwd_p50_us", -1)),
            "%s / %s" % (rx(o["p50_us"], 2 * floor["p50"]), rx(o["p99_us"], 2 * floor["p99"])))
    t64 = L["tput_64k"]
    ok = t64["mb_per_s"] >= floor["bw"] / 2
    tg["throughput_64k"] = {"ok": ok}
    d = t64["daemons"]
    row("throughput, 65507-byte datagrams (MB/s)", "%.1f  lost %d/%d (lost_blocks %d, overruns %d,"
        " drops %d)" % (t64["mb_per_s"], t64["lost"], t64["sent"], d["lost_blocks"], d["overruns"],
                        d["tx_queue_drops"] + d["rx_queue_drops"] + d["write_drops"]),
        rx(t64["mb_per_s"], floor["bw"]),
        ">= half fio seq (%.0f) %s" % (floor["bw"] / 2, verdict(ok, "by %.0f MB/s (%.1fx short)" % (
            floor["bw"] / 2 - t64["mb_per_s"], floor["bw"] / 2 / max(t64["mb_per_s"], 0.001)))))
    t2 = L["tput_200"]
    d = t2["daemons"]
    row("throughput, 200-byte datagrams (dgrams/s)", "%.0f  lost %d/%d (lost_blocks %d, overruns %d,"
        " drops %d)" % (t2["dgrams_per_s"], t2["lost"], t2["sent"], d["lost_blocks"], d["overruns"],
                        d["tx_queue_drops"] + d["rx_queue_drops"] + d["write_drops"]),
        "%.2f of fio 4K write IOPS" % (t2["dgrams_per_s"] / f["randwrite_4k"]["iops"]))
    tu = res.get("tuned")
    if tu:
        name = ", ".join("%s=%s" % kv for kv in sorted(tu["tunables"].items()))
        o = tu["rtt_spaced"]
        row("tuned (%s): round trip 100 ms apart p50/p99 (us)" % name,
            "%.0f / %.0f  lost %d/%d" % (o["p50_us"], o["p99_us"], o["lost"], o["sent"]),
            "%s / %s" % (rx(o["p50_us"], 2 * floor["p50"]), rx(o["p99_us"], 2 * floor["p99"])))
        t = tu["tput_64k"]
        row("tuned: throughput, 65507-byte datagrams (MB/s)",
            "%.1f  lost %d/%d" % (t["mb_per_s"], t["lost"], t["sent"]), rx(t["mb_per_s"], floor["bw"]))
        i = tu["idle"]
        row("tuned: idle, 2 nodes: CPU % per node avg/max; IO/s per node",
            "%.2f / %.2f %%; %.0f IO/s" % (i["cpu_pct_avg"], i["cpu_pct_max"], i["iops_per_node"]))
    base = None
    for r in res["idle"]:
        n = r["nodes"]
        t = ""
        if n == 3:
            ok = r["cpu_pct_max"] <= 1.0
            tg["idle_cpu_3"] = {"ok": ok}
            t = "cpu <= 1%% %s" % verdict(ok, "by %.2f points" % (r["cpu_pct_max"] - 1.0))
        if base is None:
            base = r
        else:
            growth = r["iops_per_node"] / base["iops_per_node"] if base["iops_per_node"] else 0
            peers = (n - 1) / (base["nodes"] - 1)
            ok = growth <= peers * 1.05
            tg["idle_io_growth_%d" % n] = {"ok": ok, "growth": growth, "peers_growth": peers}
            t += ("; " if t else "") + "I/O x%.1f vs peers x%.0f %s" % (
                growth, peers, verdict(ok, "by %.1fx" % (growth / peers)))
        row("idle, %2d nodes: CPU %% per node avg/max; IO/s per node" % n,
            "%.2f / %.2f %%; %.0f IO/s (device %.0f, %.0f kB/s)" % (
                r["cpu_pct_avg"], r["cpu_pct_max"], r["iops_per_node"],
                r["device_iops_per_node"], r["device_kb_per_s_per_node"]),
            "%.3f of fio IOPS" % (r["iops_per_node"] / f["randwrite_4k"]["iops"]), t)
        for size, b in sorted(r.get("broadcast", {}).items(), key=lambda kv: int(kv[0])):
            cpt = b["computed"]
            row("broadcast of %s B to %d peers: disk bytes per datagram" % (size, n - 1),
                "%.0f coalesced; %.0f coalesce_us=0; N-1 records: %d packed, %d unpacked" % (
                    b["coalesced"]["bytes_per_round"], b["coalesce_us_0"]["bytes_per_round"],
                    cpt["separate_packed_bytes"], cpt["separate_unpacked_bytes"]),
                "saves %.0f%% / %.0f%%" % (100 * b["saved_vs_packed"],
                                          100 * b["saved_vs_unpacked"]))
    lab = res.get("lab", {})
    if lab.get("stats"):
        s = lab["stats"]

        def us(v):
            return "%.0f" % v if v is not None else "?"
        for key, name in (("latency_ave", "as knet reports it"),
                          ("window_ave", "average over the window")):
            v = s["link1_%s_us" % key]
            ok = v is not None and v <= 3000
            tg["knet_latency_" + key] = {"ok": ok}
            row("knet latency, 3 nodes, %s: link1 disk / link0 net (us)" % name,
                "%s / %s" % (us(v), us(s["link0_%s_us" % key])),
                rx(v, 2 * floor["p50"]),
                "<= 3 ms %s" % verdict(ok, "by %.2f ms" % (((v or 0) - 3000) / 1000)))
    else:
        row("knet latency_ave, 3-node cluster", "not measured: %s" % lab.get("skipped", "?"))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("figure", "value", "ratio to fio floor", "target")
    w = [max(w[i], len(head[i])) for i in range(4)]
    fmt = "%%-%ds | %%-%ds | %%-%ds | %%s" % (w[0], w[1], w[2])
    lines = ["disklink benchmark%s: %s, %s, %d CPUs, load %.1f -> %.1f, dsync %s" % (
        " (QUICK)" if res["quick"] else "", res["time"], res["device"]["loop"], res["cpus"],
        res["load_before"], res.get("load_after", 0), "on" if res["dsync"] else "off"),
        fmt % head, "-" * (sum(w) + 9 + 20)]
    lines += [fmt % r for r in rows]
    return "\n".join(lines)


def main():
    if os.geteuid() != 0:
        print("SKIP: the benchmark needs root (loop devices, network namespaces)")
        return 77
    for tool in ("fio", "losetup", "ip"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            return 77
    for prog in (DISKLINKD, DISKLINK, DL_LATENCY):
        if not os.access(prog, os.X_OK):
            print("cannot measure: %s is not built (run make first)" % prog)
            return 1
    b = Bench()
    atexit.register(b.cleanup)

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        b.main()
    except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError, ValueError) as e:
        print("cannot measure: %s" % e)
        return 1
    finally:
        b.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
