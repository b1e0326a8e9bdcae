#!/usr/bin/python3
"""disklink benchmark suite (`make bench`; not part of `make check`).

What the link costs an array.  Every figure is measured on each device
(bench_devices.py: a RAM-backed loop device, a disk-backed loop device
with direct I/O, and loop devices over tests/fusedelay with 200 us and
2 ms per I/O), each as a ratio to that device's own fio floor taken in the
same run (bench_fio.py):

  - one-way latency (idle with a random gap, 1,000/s, 10,000/s), round
    trips (back to back, 100 ms apart, at knet's ping interval) and the
    throughput of 64 KiB and 200-byte datagrams through two daemons
    (bench_measure.py, dl_latency.c);
  - idle I/O per node from the daemons' counters and /sys/block/X/stat,
    CPU and RSS per node, at 2, 3, 4, 8, 16 and 32 nodes;
  - knet's view (bench_knet.py): latency_ave of the disk and the network
    link in 3- and 16-node corosync clusters of the lab, default timers;
  - TUN mode (bench_tun.py): ping round trips and TCP throughput over
    dl0 between two daemons in namespaces of their own.

It prints ONE table (bench_report.py) and writes the figures as JSON
(BENCH_OUT, default ./bench-results.json).

Environment: top_builddir, top_srcdir (set by make), BENCH_QUICK=1 (a few
minutes per device), BENCH_DEVICES=ram,disk,fuse200,fuse2000 (the
default), BENCH_OUT, BENCH_DSYNC=1 (daemon and fio with O_DSYNC),
BENCH_LAB=0 (no cluster), BENCH_TUN=0 (no TUN mode) or BENCH_TUN=only (the
floor and TUN mode only).  Exit status: 0 measured (targets are
reported, never enforced), 1 could not measure, 77 cannot run here (not
root, tool missing).  Everything created (loop devices, FUSE mounts,
daemons, the namespace, the lab, temp files) is removed on exit, also on
SIGINT/SIGTERM/SIGHUP.  See doc/performance.md.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_devices  # noqa: E402
from bench_common import (CLEANUP, DISKLINK, DISKLINKD, DL_LATENCY, DSYNC,  # noqa: E402
                          IDLE_SIZES, LAB_SIZES, QUICK, log, sizes)
from bench_daemons import Daemons, Netns  # noqa: E402
from bench_fio import measure_fio  # noqa: E402
from bench_knet import measure_lab  # noqa: E402
from bench_measure import measure_idle, measure_link, measure_tuned  # noqa: E402
from bench_report import report  # noqa: E402
from bench_tun import measure_tun  # noqa: E402
import bench_tun  # noqa: E402

OUT = os.environ.get("BENCH_OUT") or os.path.abspath("bench-results.json")


def busiest():
    """The processes using the most CPU now (what else ran)."""
    cp = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
                        stdout=subprocess.PIPE, universal_newlines=True)
    return [" ".join(x.split()) for x in cp.stdout.splitlines()[:8]]


def tun_part(dev, work):
    """TUN mode's figures; a failure there leaves the others measured."""
    try:
        return measure_tun(dev, work)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError, ValueError) as e:
        log("%s: TUN mode: cannot measure: %s" % (dev.name, e))
        return {"error": str(e)}


def measure_device(name, netns, work):
    dev = bench_devices.make(name)
    r = {"device": {"name": dev.name, "label": dev.label}, "load_before": os.getloadavg()[0]}
    t0 = time.time()
    try:
        dev.create()
        r["device"] = dict(dev.info)
        r["fio"], r["floor"] = measure_fio(dev)
        d = Daemons(netns, dev, work)
        d.format()
        tun = bench_tun.selected()
        if tun != "only":
            r["link"] = measure_link(d)
        if tun != "no":
            r["tun"] = tun_part(dev, work)
        if tun != "only":
            if not QUICK:
                r["tuned"] = measure_tuned(d)
            r["idle"] = [measure_idle(d, n) for n in sizes(IDLE_SIZES)]
            r["lab"] = [measure_lab(dev, n) for n in sizes(LAB_SIZES)]
    except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError, ValueError) as e:
        r["error"] = str(e)
        log("%s: cannot measure: %s" % (name, e))
    finally:
        dev.destroy()
    r["load_after"] = os.getloadavg()[0]
    r["seconds"] = round(time.time() - t0, 1)
    log("device %s done in %.0f s (load %.1f -> %.1f)" % (
        name, r["seconds"], r["load_before"], r["load_after"]))
    return r


def bench():
    t0 = time.time()
    res = {"quick": QUICK, "dsync": DSYNC, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "host": os.uname().nodename, "cpus": os.cpu_count(),
           "load_before": os.getloadavg()[0], "busiest_before": busiest(),
           "nice": os.nice(0), "devices": []}
    work = tempfile.mkdtemp(prefix="dlbench.")
    CLEANUP.push("dir %s" % work, lambda: shutil.rmtree(work, ignore_errors=True))
    netns = Netns()
    for name in bench_devices.selected():
        res["devices"].append(measure_device(name, netns, work))
    res["seconds"] = round(time.time() - t0, 1)
    res["load_after"] = os.getloadavg()[0]
    res["busiest_after"] = busiest()
    table = report(res)
    with open(OUT, "w") as f:
        json.dump(res, f, indent=1)
    print(table)
    print("JSON: %s (%.0f s)" % (OUT, res["seconds"]))
    failed = [r["device"]["name"] for r in res["devices"]
              if r.get("error") or (r.get("tun") or {}).get("error")]
    if failed:
        print("cannot measure: %s" % ", ".join(failed))
        return 1
    return 0


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

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        return bench()
    except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError, ValueError) as e:
        print("cannot measure: %s" % e)
        return 1
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)       # finish the cleanup
        CLEANUP.run_all()


if __name__ == "__main__":
    sys.exit(main())
