"""dllab.proc -- processes and files: run a command, wait for a condition,
look at /proc (liveness, namespaces), kill, start detached, lock and write
state files atomically.  Nothing here knows about nodes or labs."""

import fcntl
import json
import os
import signal
import subprocess
import time

from .base import CLEAN_ENV, LabError, LabTimeout


def run(argv, check=True, timeout=60, input=None, env=None):
    """Run a command in the caller's namespaces; return CompletedProcess."""
    try:
        cp = subprocess.run(argv, input=input, capture_output=True, text=True,
                            timeout=timeout, env=env or CLEAN_ENV)
    except subprocess.TimeoutExpired as e:
        raise LabTimeout("timeout after %ss: %s" % (timeout, " ".join(argv))) from e
    if check and cp.returncode != 0:
        raise LabError("command failed (%d): %s\n%s%s" % (
            cp.returncode, " ".join(argv), cp.stdout, cp.stderr))
    return cp


def wait_for(fn, timeout, interval=0.5, what="condition"):
    """Call fn() until it returns a true value; return it.  LabTimeout after
    timeout seconds (the message carries fn's last result/exception)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            r = fn()
            if r:
                return r
            last = r
        except LabError as e:
            last = e
        if time.monotonic() >= deadline:
            raise LabTimeout("timed out after %ss waiting for %s (last: %r)"
                             % (timeout, what, last))
        time.sleep(interval)


def write_atomic(path, text, mode=0o644):
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return default


def _read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return None


def proc_alive(pid):
    """True if pid exists and is not a zombie (pid 1 here does not reap)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except (FileNotFoundError, ProcessLookupError, OSError):
        return False
    state = st[st.rindex(")") + 2:].split()[0]
    return state not in ("Z", "X")


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def proc_starttime(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return int(st[st.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def survivors(snapshot):
    """Processes of a process_snapshot() that are still alive (same pid and
    start time, not a zombie)."""
    return sorted((p, proc_cmdline(p)) for p, t in snapshot.items()
                  if proc_alive(p) and proc_starttime(p) == t)


def ns_inode(pid, kind):
    try:
        return os.stat("/proc/%d/ns/%s" % (pid, kind)).st_ino
    except OSError:
        return None


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def pids_in_ns(kind, inode):
    """Live processes whose namespace `kind` (net, mnt, uts) has `inode`."""
    me = os.getpid()
    out = []
    if not inode:
        return out
    for pid in all_pids():
        if pid == me:
            continue
        if ns_inode(pid, kind) == inode and proc_alive(pid):
            out.append(pid)
    return out


def kill_pids(pids, sig=signal.SIGKILL):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def daemon_pids():
    """Live corosync/pacemaker processes (for leak checks around a test)."""
    out = set()
    for pid in all_pids():
        try:
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if (comm.startswith("corosync") or comm.startswith("pacemaker")) \
                and proc_alive(pid):
            out.add(pid)
    return out


def spawn_detached(argv, out_path, env=None):
    """Start argv in its own session, detached from our stdio, so it outlives
    us (and a fence agent that started it).  Returns the pid of `setsid -f`'s
    child indirectly: callers use pid files written by the command itself."""
    with open(out_path, "ab") as out:
        subprocess.run(["setsid", "-f"] + argv, stdin=subprocess.DEVNULL,
                       stdout=out, stderr=out, close_fds=True,
                       env=env or CLEAN_ENV, check=True, timeout=30)


class _Lock:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.f = open(self.path, "a")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()
