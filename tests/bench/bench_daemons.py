"""disklinkd instances on one device, in explicit mode, inside one network
namespace the benchmark creates: node n's view of the link uses the
address set 127.79.n.0/24 (its knet end 127.79.n.n, peer m at
127.79.n.m), so 32 nodes share one namespace without two of them binding
the same address."""

import json
import os
import signal
import subprocess
import time

from bench_common import CLEANUP, CLK_TCK, DISKLINK, DISKLINKD, DSYNC, run

PORT = 5406
NET = "127.79."
SLOTS = 32


def addr(view, node):
    return "%s%d.%d" % (NET, view, node)


class Netns:
    def __init__(self, suffix=""):
        self.name = "dlbench%d%s" % (os.getpid(), suffix)
        run(["ip", "netns", "add", self.name])
        self.undo = CLEANUP.push("netns %s" % self.name, lambda: subprocess.run(
            ["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL))
        self.run(["ip", "link", "set", "lo", "up"])

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name] + [str(a) for a in argv]

    def run(self, argv, timeout=300):
        return run(self.argv(argv), timeout=timeout)


class Daemons:
    """The daemons of one device; stop() is on the cleanup stack while
    any runs."""

    def __init__(self, netns, device, work):
        self.netns = netns
        self.device = device
        self.work = work
        self.procs = {}              # node id -> Popen
        self._undo = None

    def format(self):
        run([DISKLINK, "format", self.device.loop, "--cluster", "bench", "--slots", SLOTS,
             "--force"])

    def ctl(self, n):
        return os.path.join(self.work, "ctl%d.sock" % n)

    def start(self, ids, tun=None, timeout=None):
        if self._undo is None:
            self._undo = CLEANUP.push("daemons", self.stop)
        for n in ids:
            conf = os.path.join(self.work, "node%d.conf" % n)
            with open(conf, "w") as f:
                f.write("cluster = bench\n")
                if DSYNC:
                    f.write("dsync = yes\n")
                if os.environ.get("BENCH_IO_ENGINE"):
                    f.write("io_engine = %s\n" % os.environ["BENCH_IO_ENGINE"])
                for k, v in (tun or {}).items():
                    f.write("%s = %s\n" % (k, v))
            argv = [DISKLINKD, "--device", self.device.loop, "--node-id", n, "--port", PORT,
                    "--local-addr", addr(n, n), "--foreground", "--control", self.ctl(n),
                    "--config", conf, "--node-name", "bench%d" % n]
            for m in ids:
                if m != n:
                    argv += ["--peer", "%d=%s" % (m, addr(n, m))]
            out = open(os.path.join(self.work, "disklinkd%d.log" % n), "ab")
            self.procs[n] = subprocess.Popen(self.netns.argv(argv), stdout=out,
                                             stderr=subprocess.STDOUT)
            out.close()
        self.wait_up(ids, timeout or (30 + 2 * len(ids)))

    def wait_up(self, ids, timeout):
        deadline = time.time() + timeout
        while True:
            ok = True
            for n in ids:
                if self.procs[n].poll() is not None:
                    raise RuntimeError("disklinkd %d exited with %d: %s" % (
                        n, self.procs[n].returncode, self.tail(n)))
                s = self.status(n)
                if not s or s["device_state"] != "ok" or any(
                        p["state"] != "up" or p["slot"] < 0 for p in s["peers"]):
                    ok = False
                    break
            if ok:
                return
            if time.time() > deadline:
                raise RuntimeError("disklinkd %s did not see every peer up in %d s"
                                   % (ids, timeout))
            time.sleep(0.3)

    def tail(self, n):
        try:
            with open(os.path.join(self.work, "disklinkd%d.log" % n)) as f:
                return " | ".join(f.read().splitlines()[-5:])
        except OSError:
            return ""

    def status(self, n):
        cp = subprocess.run([DISKLINK, "status", "--json", "--socket", self.ctl(n)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            universal_newlines=True, timeout=10)
        if cp.returncode != 0:
            return None
        try:
            return json.loads(cp.stdout)
        except ValueError:
            return None

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

    def reload(self, n, tun):
        conf = os.path.join(self.work, "node%d.conf" % n)
        with open(conf, "a") as f:
            for k, v in tun.items():
                f.write("%s = %s\n" % (k, v))
        self.procs[n].send_signal(signal.SIGHUP)
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


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])      # utime, stime
    except (OSError, IndexError, ValueError):
        return 0


def mem_kb(pid):
    """(VmRSS, Pss) of pid in kB; Pss shares the shared queue out."""
    rss = pss = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


def cpu_ns(pid):
    """Time on a CPU in ns (/proc/PID/schedstat: no tick rounding), else
    utime + stime from /proc/PID/stat."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return cpu_ticks(pid) * 1000000000 // CLK_TCK


def cpu_seconds(pids):
    return sum(cpu_ns(p) for p in pids) / 1e9
