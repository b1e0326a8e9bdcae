"""The floor of each device, measured with fio in the same run, same open
flags as the daemon (O_DIRECT; O_DSYNC only with BENCH_DSYNC=1)."""

import json

from bench_common import DSYNC, log, par, run


def fio(dev, rw, bs):
    argv = ["fio", "--name=bench", "--filename=" + dev, "--direct=1",
            "--ioengine=psync", "--iodepth=1", "--rw=" + rw, "--bs=" + bs,
            "--size=64M", "--runtime=%d" % par("fio_s"), "--time_based",
            "--output-format=json"]
    if DSYNC and "write" in rw:
        argv.append("--sync=dsync")
    j = json.loads(run(argv, timeout=180).stdout)
    side = j["jobs"][0]["write" if "write" in rw else "read"]
    pc = side["clat_ns"].get("percentile", {})
    return {"p50_us": pc.get("50.000000", 0) / 1000.0, "p99_us": pc.get("99.000000", 0) / 1000.0,
            "mean_us": side["clat_ns"]["mean"] / 1000.0, "iops": side["iops"],
            "mb_per_s": side["bw_bytes"] / 1e6}


def measure_fio(device):
    """(fio figures, floor).  The floor of one hop: one 4 KiB write and one
    4 KiB read (p50 + p50, p99 + p99); bw: 64 KiB sequential write."""
    f = {"randwrite_4k": fio(device.loop, "randwrite", "4k"),
         "randread_4k": fio(device.loop, "randread", "4k"),
         "seqwrite_64k": fio(device.loop, "write", "64k")}
    w, r = f["randwrite_4k"], f["randread_4k"]
    floor = {"p50": w["p50_us"] + r["p50_us"], "p99": w["p99_us"] + r["p99_us"],
             "bw": f["seqwrite_64k"]["mb_per_s"]}
    log("fio %s: write p50 %.1f us, read p50 %.1f us, 64k seq %.0f MB/s" %
        (device.name, w["p50_us"], r["p50_us"], f["seqwrite_64k"]["mb_per_s"]))
    return f, floor
