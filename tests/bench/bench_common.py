"""Shared pieces of the benchmark (tests/bench/run-bench.py): paths,
durations, logging, running a command, and the cleanup stack."""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("top_srcdir") or os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("top_builddir") or SRC
DISKLINKD = os.path.join(BUILD, "knet-transport", "disklinkd")
DISKLINK = os.path.join(BUILD, "knet-transport", "disklink")
DL_LATENCY = os.path.join(BUILD, "tests", "bench", "dl_latency")
FUSEDELAY = os.path.join(BUILD, "tests", "fusedelay", "fusedelay")
QUICK = os.environ.get("BENCH_QUICK") == "1"
DSYNC = os.environ.get("BENCH_DSYNC") == "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MSG_SIZE = 128                  # datagram size of the latency runs (a knet ping is ~70-100)

# Durations (seconds / counts): full run, then quick.
P = {
    "fio_s": (8, 3),
    "idle_count": (40, 8),           # one datagram per second
    "r1k_count": (10000, 3000),
    "r10k_count": (50000, 20000),
    "rtt_count": (2000, 300),
    "rtt_spaced_count": (150, 30),   # 100 ms apart: both daemons idle
    "rtt_knet_count": (40, 8),       # at knet's ping interval
    "tput_s": (8, 3),
    "idle_cost_s": (12, 4),
    # before it: the I/O child leaves the idle grid for polling ahead
    # once every peer is learned or has been quiet for 10 s (design.md)
    "idle_settle_s": (12, 12),
    "bcast_rounds": (300, 100),
    "lab_settle_s": (30, 12),
}

# The idle scan and the lab sizes.
IDLE_SIZES = ((2, 3, 4, 8, 16, 32), (2, 3, 8, 32))
LAB_SIZES = ((3, 16), (3,))


def par(name):
    return P[name][1 if QUICK else 0]


def sizes(pair):
    """A size list of the run; BENCH_NODES / BENCH_LAB_NODES=2,3 override
    IDLE_SIZES / LAB_SIZES (a shorter run while developing)."""
    env = os.environ.get("BENCH_LAB_NODES" if pair is LAB_SIZES else "BENCH_NODES")
    if env:
        return tuple(int(x) for x in env.split(",") if x.strip())
    return pair[1 if QUICK else 0]


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def run(argv, timeout=300, check=True):
    argv = [str(a) for a in argv]
    cp = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        universal_newlines=True, timeout=timeout)
    if check and cp.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv[:6]), cp.returncode,
                                                cp.stderr.strip()[-500:]))
    return cp


class Cleanup:
    """What the run created, undone in reverse order (at exit, on error
    and on a signal).  Each entry is (label, callable)."""

    def __init__(self):
        self.stack = []

    def push(self, label, fn):
        self.stack.append((label, fn))
        return fn

    def pop(self, fn):
        """Run fn now and forget it."""
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][1] is fn:
                del self.stack[i]
                break
        fn()

    def run_all(self):
        while self.stack:
            label, fn = self.stack.pop()
            try:
                fn()
            except Exception as e:          # keep undoing the rest
                log("cleanup %s: %s" % (label, e))


CLEANUP = Cleanup()
