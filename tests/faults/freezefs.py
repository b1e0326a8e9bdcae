#!/usr/bin/python3
"""A small FUSE filesystem whose I/O can be frozen (the hung-device test).

freezefs.py MOUNTPOINT BACKING_DIR FLAG_FILE PID_FILE

Passes MOUNTPOINT/NAME through to BACKING_DIR/NAME.  While FLAG_FILE
exists, read and write requests wait (polling the flag every 20 ms): a
loop device over one of its files (losetup --direct-io=on) then really
hangs, its requesters in uninterruptible sleep, until the flag is removed.
While FLAG_FILE.writes exists, only writes wait (a write caught in a stall).
Writes its PID to PID_FILE once mounted; runs in the foreground.
"""
import errno
import os
import sys
import time

try:
    import fusepy as fuse          # Debian's python3-fusepy
except ImportError:
    import fuse


class FreezeFS(fuse.Operations):
    def __init__(self, root, flag, pidfile):
        self.root = root
        self.flag = flag
        self.pidfile = pidfile

    def _path(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _wait(self, also=None):
        while os.path.exists(self.flag) or (also and os.path.exists(also)):
            time.sleep(0.02)

    def init(self, path):
        with open(self.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())

    def getattr(self, path, fh=None):
        st = os.lstat(self._path(path))
        return {k: getattr(st, k) for k in ("st_atime", "st_ctime", "st_gid", "st_mode",
                                             "st_mtime", "st_nlink", "st_size", "st_uid")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._path(path))

    def open(self, path, flags):
        return os.open(self._path(path), flags & ~os.O_DIRECT)

    def create(self, path, mode, fi=None):
        return os.open(self._path(path), os.O_WRONLY | os.O_CREAT, mode)

    def truncate(self, path, length, fh=None):
        os.truncate(self._path(path), length)

    def read(self, path, size, offset, fh):
        self._wait()
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self._wait(self.flag + ".writes")
        return os.pwrite(fh, data, offset)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        self._wait()
        os.fsync(fh)
        return 0

    def release(self, path, fh):
        os.close(fh)
        return 0

    def statfs(self, path):
        sv = os.statvfs(self.root)
        return {k: getattr(sv, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize",
                                             "f_favail", "f_ffree", "f_files", "f_flag",
                                             "f_frsize", "f_namemax")}


def main():
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    mnt, root, flag, pidfile = sys.argv[1:]
    fuse.FUSE(FreezeFS(root, flag, pidfile), mnt, foreground=True, nothreads=False,
              allow_other=False, direct_io=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
