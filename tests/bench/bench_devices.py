"""The devices the benchmark runs on, each a loop device:

  ram      a file in /dev/shm (tmpfs), default loop settings (as before);
  disk     a file under /var/tmp on the machine's own disk, loop with
           --direct-io=on (the backing file is read and written with
           O_DIRECT: the page cache does not hide the disk);
  fuseN    a file in /dev/shm served by tests/fusedelay with N us per read
           and write (an array's latency), loop with --direct-io=on over
           the FUSE file (the FUSE file is opened direct_io as well).

BENCH_DEVICES=ram,disk,fuse200,fuse2000 (the default) picks them."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

from bench_common import CLEANUP, FUSEDELAY, log, run

SIZE = 160 << 20                 # 33 slots x 1 MiB rings and more
DEFAULT = "ram,disk,fuse200,fuse2000"


def fs_type(path):
    return run(["stat", "-f", "-c", "%T", path]).stdout.strip()


def fill(path, size):
    """An allocated file of zeros (reads hit data, as writes do)."""
    with open(path, "wb") as f:
        chunk = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


class Device:
    name = "?"
    label = "?"

    def __init__(self):
        self.loop = None
        self.info = {}
        self._undo = []

    def _later(self, label, fn):
        self._undo.append(CLEANUP.push(label, fn))

    def attach(self, path, direct_io):
        argv = ["losetup", "--find", "--show"]
        if direct_io:
            argv.append("--direct-io=on")
        self.loop = run(argv + [path]).stdout.strip()
        loop = self.loop
        self._later("loop device %s" % loop,
                    lambda: subprocess.run(["losetup", "-d", loop], stderr=subprocess.DEVNULL))
        sysd = "/sys/block/%s" % os.path.basename(loop)
        self.info.update({
            "name": self.name, "label": self.label, "loop": loop, "bytes": SIZE,
            "sector_size": int(open(sysd + "/queue/logical_block_size").read()),
            "loop_dio": open(sysd + "/loop/dio").read().strip() == "1"})
        log("device %s: %s over %s (loop direct I/O %s)" % (
            self.name, loop, path, "on" if self.info["loop_dio"] else "off"))

    def disk_ops(self):
        """(operations, bytes) completed so far, from /sys/block/X/stat."""
        with open("/sys/block/%s/stat" % os.path.basename(self.loop)) as f:
            v = [int(x) for x in f.read().split()]
        return v[0] + v[4], v[2] * 512 + v[6] * 512

    def destroy(self):
        while self._undo:
            CLEANUP.pop(self._undo.pop())


class RamDevice(Device):
    name = "ram"
    label = "RAM loop (/dev/shm)"

    def create(self):
        d = tempfile.mkdtemp(prefix="dlbench.", dir="/dev/shm")
        self._later("dir %s" % d, lambda: shutil.rmtree(d, ignore_errors=True))
        img = os.path.join(d, "volume.img")
        fill(img, SIZE)
        self.attach(img, direct_io=False)
        self.info["backing"] = "/dev/shm (tmpfs), loop buffered"


class DiskDevice(Device):
    name = "disk"
    label = "disk loop (/var/tmp, dio)"

    def create(self):
        t = fs_type("/var/tmp")
        if t in ("tmpfs", "ramfs"):
            raise RuntimeError("/var/tmp is %s, not a disk" % t)
        d = tempfile.mkdtemp(prefix="dlbench.", dir="/var/tmp")
        self._later("dir %s" % d, lambda: shutil.rmtree(d, ignore_errors=True))
        img = os.path.join(d, "volume.img")
        fill(img, SIZE)
        self.attach(img, direct_io=True)
        src = run(["df", "--output=source", "/var/tmp"]).stdout.split()[-1]
        self.info["backing"] = "/var/tmp (%s on %s), loop --direct-io=on" % (t, src)


class FuseDevice(Device):
    def __init__(self, delay_us):
        super().__init__()
        self.delay_us = delay_us
        self.name = "fuse%d" % delay_us
        self.label = "FUSE +%s" % ("%d ms" % (delay_us // 1000) if delay_us >= 1000
                                   else "%d us" % delay_us)
        self.proc = None

    def create(self):
        if not os.access(FUSEDELAY, os.X_OK):
            raise RuntimeError("%s is not built (libfuse3-dev missing at configure?)"
                               % FUSEDELAY)
        d = tempfile.mkdtemp(prefix="dlbench.", dir="/dev/shm")
        self._later("dir %s" % d, lambda: shutil.rmtree(d, ignore_errors=True))
        mnt = tempfile.mkdtemp(prefix="dlbench-fuse.")
        self._later("dir %s" % mnt, lambda: os.rmdir(mnt) if os.path.isdir(mnt) else None)
        img = os.path.join(d, "volume.img")
        fill(img, SIZE)
        logf = open(os.path.join(d, "fusedelay.log"), "ab")
        self.proc = subprocess.Popen([FUSEDELAY, "-f", "--delay-us", str(self.delay_us),
                                      "-o", "max_threads=64", img, mnt],
                                     stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        self._later("fusedelay on %s" % mnt, lambda: self.unmount(mnt))
        deadline = time.time() + 10
        while not os.path.ismount(mnt):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("fusedelay did not mount %s (exit %s)" % (
                    mnt, self.proc.poll()))
            time.sleep(0.05)
        path = os.path.join(mnt, "volume")
        try:
            self.attach(path, direct_io=True)
        except RuntimeError:
            log("losetup --direct-io=on over FUSE failed; buffered loop instead")
            self.attach(path, direct_io=False)
        self.info["backing"] = "fusedelay %d us per I/O over /dev/shm, loop dio %s" % (
            self.delay_us, "on" if self.info["loop_dio"] else "off")
        self.info["delay_us"] = self.delay_us

    def unmount(self, mnt):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)      # fusedelay unmounts itself
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.path.ismount(mnt):
            subprocess.run(["umount", "-l", mnt], stderr=subprocess.DEVNULL)


def make(name):
    if name == "ram":
        return RamDevice()
    if name == "disk":
        return DiskDevice()
    if name.startswith("fuse") and name[4:].isdigit():
        return FuseDevice(int(name[4:]))
    raise RuntimeError("unknown device %r (BENCH_DEVICES: ram, disk, fuseUS)" % name)


def selected():
    return [n.strip() for n in (os.environ.get("BENCH_DEVICES") or DEFAULT).split(",")
            if n.strip()]
