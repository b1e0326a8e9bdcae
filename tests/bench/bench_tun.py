"""TUN mode over dl0 (doc/vnic.md): two disklinkd --mode tun on the
device, each in a network namespace of its own (node 1 at 169.254.0.1,
node 2 at 169.254.0.2), and what IP programs see through the disk:

  - ping round trips (p50/p99 from each reply's time), 10 ms and 100 ms
    apart (the second: daemons idle between pings);
  - TCP throughput (socat, node 1 to node 2) with the default bulk rate
    limit (tun_bulk_kib 4096 KiB/s) and without one (tun_bulk_kib = 0,
    reloaded by SIGHUP), each with pings 50 ms apart during the transfer
    (knet's port and ICMP go before bulk: they keep their round trip).

Each figure is set against the device's floor measured in the same run
(bench_fio.py): a round trip against two one-hop floors, TCP against fio's
64 KiB sequential write.  BENCH_TUN=0 skips this part, BENCH_TUN=only
measures the floor and this part only."""

import os
import re
import shutil
import signal
import subprocess
import time

from bench_common import CLEANUP, DISKLINK, DISKLINKD, DSYNC, log, run
from bench_daemons import Netns

PORT = 5406
ADDR = {1: "169.254.0.1", 2: "169.254.0.2"}
TCP_PORT = 7000
# Counts and sizes: full run, then quick.
P = {
    "ping_10ms_count": (1000, 200),
    "ping_100ms_count": (150, 30),
    "tcp_default_mb": (32, 8),       # at 4 MiB/s: 8 s, 2 s
    "tcp_unlimited_mb": (256, 64),
}
QUICK = os.environ.get("BENCH_QUICK") == "1"


def par(name):
    return P[name][1 if QUICK else 0]


def selected():
    """'no', 'yes' or 'only' (BENCH_TUN=0|1|only; default yes)."""
    v = os.environ.get("BENCH_TUN", "1")
    return {"0": "no", "only": "only"}.get(v, "yes")


def missing():
    """Why TUN mode cannot be measured here, or None."""
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    for tool in ("ping", "socat", "sh"):
        if not shutil.which(tool):
            return "%s is not installed" % tool
    return None


def percentile(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100.0 * (len(v) - 1))))]


def ping_figures(text, sent=None):
    """p50/p99/mean (us), replies and loss from ping's per-reply lines."""
    times = [float(x) * 1000.0 for x in re.findall(r"time=([0-9.]+) ms", text)]
    m = re.search(r"(\d+) packets transmitted", text)
    sent = int(m.group(1)) if m else (sent or len(times))
    return {"p50_us": percentile(times, 50), "p99_us": percentile(times, 99),
            "mean_us": sum(times) / len(times) if times else None,
            "sent": sent, "replies": len(times), "lost": max(0, sent - len(times))}


class TunPair:
    """Nodes 1 and 2 in TUN mode, one namespace each; stop() is on the
    cleanup stack while they run."""

    def __init__(self, device, work):
        self.device = device
        self.work = work
        self.ns = {n: Netns("t%d" % n) for n in (1, 2)}
        self.procs = {}
        self._undo = None

    def conf(self, n):
        return os.path.join(self.work, "tun%d.conf" % n)

    def ctl(self, n):
        return os.path.join(self.work, "tunctl%d.sock" % n)

    def start(self):
        self._undo = CLEANUP.push("tun daemons", self.stop)
        for n in (1, 2):
            with open(self.conf(n), "w") as f:
                f.write("cluster = bench\n")
                if DSYNC:
                    f.write("dsync = yes\n")
            m = 3 - n
            argv = [DISKLINKD, "--device", self.device.loop, "--mode", "tun", "--node-id", n,
                    "--port", PORT, "--peer", "%d=%s" % (m, ADDR[m]), "--foreground",
                    "--control", self.ctl(n), "--config", self.conf(n),
                    "--node-name", "bench%d" % n]
            out = open(os.path.join(self.work, "tun-disklinkd%d.log" % n), "ab")
            self.procs[n] = subprocess.Popen(self.ns[n].argv(argv), stdout=out,
                                             stderr=subprocess.STDOUT)
            out.close()
        deadline = time.time() + 40
        while True:
            for n, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError("TUN mode disklinkd %d exited with %d" % (n, p.returncode))
            cp = subprocess.run(self.ns[1].argv(["ping", "-c", 1, "-W", 1, ADDR[2]]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if cp.returncode == 0:
                return
            if time.time() > deadline:
                raise RuntimeError("no ping over dl0 from node 1 to node 2 within 40 s")
            time.sleep(0.3)

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = {}

    def reload(self, key, value):
        for n in (1, 2):
            with open(self.conf(n), "a") as f:
                f.write("%s = %s\n" % (key, value))
            self.procs[n].send_signal(signal.SIGHUP)
        time.sleep(0.5)

    def interface(self, n):
        cp = run(self.ns[n].argv([DISKLINK, "status", "--shell", "--socket", self.ctl(n)]),
                 timeout=10, check=False)
        return {k[len("status_interface_"):]: int(v) for k, v in
                re.findall(r"^(status_interface_[a-z_]+)='(\d+)'$", cp.stdout, re.M)}

    def ping(self, count, interval):
        cp = self.ns[2].run(["ping", "-c", count, "-i", interval, "-W", 2, ADDR[1]],
                            timeout=count * interval + 60)
        return ping_figures(cp.stdout)

    def tcp(self, mb):
        """mb MiB from node 1 to node 2 over TCP, pings 50 ms apart from
        node 2 meanwhile: MB/s and the pings' figures."""
        got = os.path.join(self.work, "tcp-got")
        recv = subprocess.Popen(self.ns[2].argv(
            ["timeout", 300, "socat", "-u", "TCP-LISTEN:%d,bind=%s,reuseaddr" % (TCP_PORT, ADDR[2]),
             "OPEN:%s,creat,trunc" % got]), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        pinger = subprocess.Popen(self.ns[2].argv(["ping", "-i", "0.05", "-W", 2, ADDR[1]]),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  universal_newlines=True)
        before = self.interface(1)
        t0 = time.monotonic()
        self.ns[1].run(["sh", "-c", "head -c %d /dev/zero | timeout 300 socat -u STDIN TCP:%s:%d"
                        % (mb << 20, ADDR[2], TCP_PORT)], timeout=320)
        recv.wait(timeout=60)
        sec = time.monotonic() - t0
        pinger.send_signal(signal.SIGINT)
        text = pinger.communicate(timeout=10)[0]
        after = self.interface(1)
        size = os.path.getsize(got)
        os.unlink(got)
        if size != mb << 20:
            raise RuntimeError("TCP over dl0: %d bytes arrived of %d" % (size, mb << 20))
        return {"bytes": size, "seconds": round(sec, 3), "mb_per_s": size / sec / 1e6,
                "ping_during": ping_figures(text),
                "bulk_drops": after.get("bulk_drops", 0) - before.get("bulk_drops", 0),
                "queue_drops": after.get("queue_drops", 0) - before.get("queue_drops", 0)}


def measure_tun(device, work):
    why = missing()
    if why:
        return {"skipped": why}
    pair = TunPair(device, work)
    r = {}
    try:
        pair.start()
        time.sleep(1)
        log("TUN: ping over dl0, 10 ms apart")
        r["ping_10ms"] = pair.ping(par("ping_10ms_count"), 0.01)
        log("TUN: ping over dl0, 100 ms apart")
        r["ping_100ms"] = pair.ping(par("ping_100ms_count"), 0.1)
        log("TUN: TCP over dl0, %d MiB, default bulk rate (4096 KiB/s)" % par("tcp_default_mb"))
        r["tcp_default"] = pair.tcp(par("tcp_default_mb"))
        r["tcp_default"]["tun_bulk_kib"] = 4096
        pair.reload("tun_bulk_kib", 0)
        log("TUN: TCP over dl0, %d MiB, no bulk rate limit" % par("tcp_unlimited_mb"))
        r["tcp_unlimited"] = pair.tcp(par("tcp_unlimited_mb"))
        r["tcp_unlimited"]["tun_bulk_kib"] = 0
        r["interface"] = pair.interface(1)
    finally:
        if pair._undo:
            CLEANUP.pop(pair._undo)
        for ns in pair.ns.values():
            CLEANUP.pop(ns.undo)
    return r
