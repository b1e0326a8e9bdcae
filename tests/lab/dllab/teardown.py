"""dllab.teardown -- removing labs: everything a lab created is found again
from its state dir (and from names tagged with its id), so that destroy(),
`lab destroy` and `lab cleanup` also remove a crashed lab; what a lab left
behind (leftovers); the atexit/signal handlers that tear down a lab whose
owner dies.  Nothing is ever killed by name."""

import atexit
import glob
import os
import re
import shutil
import signal
import time

from .base import NETNS_PREFIX, STATE_BASE, STATE_GLOB, log
from .proc import (all_pids, kill_pids, ns_inode, proc_alive, proc_cmdline,
                   proc_starttime, read_json, run)


def _lab_netns(lab_id, st):
    """{netns name: inode}: the recorded ones and any a crash left
    unrecorded (names dllab<id>-*)."""
    netns = list(st.get("netns", []))
    for p in glob.glob("/run/netns/%s%s-*" % (NETNS_PREFIX, lab_id)):
        if os.path.basename(p) not in netns:
            netns.append(os.path.basename(p))
    inodes = {}
    for name in netns:
        try:
            inodes[name] = os.stat("/run/netns/" + name).st_ino
        except OSError:
            pass
    return netns, inodes


def _holder_mnts(state_dir, lab_id):
    """Mount namespace inodes of the lab's live holders (only trusted while
    the holder pins them)."""
    mnts = set()
    for sf in glob.glob(os.path.join(state_dir, "nodes", "*", "state.json")):
        s = read_json(sf, {}) or {}
        h = s.get("holder")
        if s.get("holder_mnt") and h and proc_alive(h) and \
                proc_cmdline(h).startswith("dllab-holder-%s-" % lab_id):
            mnts.add(s["holder_mnt"])
    return mnts


def _kill_lab_processes(lab_id, inodes, mnts, problems):
    """SIGKILL, until none is left (20 s at most), every process in the lab's
    network namespaces or holders' mount namespaces, and its holders and
    anchor (tagged with the lab id)."""
    tag = "dllab-holder-%s-" % lab_id
    anchor_tag = "dllab-anchor-%s" % lab_id
    deadline = time.monotonic() + 20
    while True:
        victims = set()
        for pid in all_pids():
            if pid == os.getpid() or not proc_alive(pid):
                continue
            if ns_inode(pid, "net") in inodes.values() or ns_inode(pid, "mnt") in mnts:
                victims.add(pid)
                continue
            cl = proc_cmdline(pid)
            if cl.startswith(tag) or cl.startswith(anchor_tag):
                victims.add(pid)
        if not victims:
            break
        if time.monotonic() > deadline:
            problems.append("processes: %s" % [(p, proc_cmdline(p)) for p in victims])
            break
        kill_pids(victims)
        time.sleep(0.1)


def _remove_loops(lab_id, problems):
    """Detach the loop devices backed by the lab's files (recorded or not)
    and remove the files."""
    shm = os.path.join("/dev/shm", "dllab." + lab_id)
    cp = run(["losetup", "-a"], check=False)
    for line in cp.stdout.splitlines():
        if "(%s/" % shm in line:
            dev = line.split(":", 1)[0]
            r = run(["losetup", "-d", dev], check=False)
            if r.returncode != 0:
                problems.append("loop %s: %s" % (dev, r.stderr.strip()))
    if os.path.isdir(shm):
        shutil.rmtree(shm, ignore_errors=True)


def _remove_fence_agent(state_dir, lab_id, st, problems):
    """The lab's fence agent, only if it is the lab's own copy."""
    fa = st.get("fence_agent") or "/usr/sbin/fence_dllab_" + lab_id
    if fa and os.path.exists(fa):
        try:
            with open(fa) as f:
                ours = repr(state_dir) in f.read()
        except OSError:
            ours = False
        if ours:
            os.unlink(fa)
        else:
            problems.append("fence agent %s is not ours; left alone" % fa)


def teardown_state_dir(state_dir, st=None):
    """Tear down the lab recorded in state_dir (also after a crash).
    Returns a list of problems (empty = all clean)."""
    st = st or read_json(os.path.join(state_dir, "lab.json"), {}) or {}
    lab_id = st.get("id") or os.path.basename(state_dir).split(".", 1)[-1]
    problems = []
    netns, inodes = _lab_netns(lab_id, st)
    mnts = _holder_mnts(state_dir, lab_id)
    _kill_lab_processes(lab_id, inodes, mnts, problems)
    for name in netns:
        if os.path.exists("/run/netns/" + name):
            cp = run(["ip", "netns", "del", name], check=False)
            if cp.returncode != 0:
                problems.append("netns %s: %s" % (name, cp.stderr.strip()))
    _remove_loops(lab_id, problems)
    _remove_fence_agent(state_dir, lab_id, st, problems)
    if os.path.isdir(state_dir) and os.environ.get("DLLAB_KEEP_STATE") != "1":
        shutil.rmtree(state_dir, ignore_errors=True)
    return problems


def lab_dirs():
    return sorted(glob.glob(os.path.join(STATE_BASE, STATE_GLOB)))


def lab_list():
    """`lab list`: one line per state dir, with its number of nodes."""
    out = []
    for d in lab_dirs():
        st = read_json(os.path.join(d, "lab.json"), {})
        out.append("%s nodes=%s" % (d, (st or {}).get("n")))
    return out


def leftovers(lab_id=None):
    """What a lab (or any lab) left behind: list of strings; [] when clean."""
    pat = lab_id or ""
    out = []
    for n in os.listdir("/run/netns") if os.path.isdir("/run/netns") else []:
        if n.startswith(NETNS_PREFIX + pat) and (lab_id is None or
                                                  n.startswith("%s%s-" % (NETNS_PREFIX, lab_id))):
            out.append("netns " + n)
    cp = run(["losetup", "-a"], check=False)
    for line in cp.stdout.splitlines():
        if "/dev/shm/dllab." + pat in line:
            out.append("loop " + line)
    for pid in all_pids():
        if not proc_alive(pid):
            continue
        cl = proc_cmdline(pid)
        if cl.startswith("dllab-holder-" + pat) or cl.startswith("dllab-anchor-" + pat):
            out.append("process %d %s" % (pid, cl))
    for f in glob.glob("/usr/sbin/fence_dllab_" + (lab_id or "*")):
        out.append("file " + f)
    if lab_id and os.path.exists(os.path.join(STATE_BASE, "dllab." + lab_id)):
        out.append("dir " + os.path.join(STATE_BASE, "dllab." + lab_id))
    return out


def _owner_alive(state_dir):
    own = (read_json(os.path.join(state_dir, "lab.json"), {}) or {}).get("owner")
    if own and proc_alive(own[0]) and proc_starttime(own[0]) == own[1]:
        return own[0]
    return None


def _cleanup_orphans(say):
    """Leftovers of labs whose state dir is gone; returns 1 if any stayed."""
    rc = 0
    live = [os.path.basename(d).split(".", 1)[1] for d in lab_dirs()]
    orphans = set()
    for l in leftovers():
        m = re.search(r"dllab(?:-holder-|-anchor-|[._]|)([a-z0-9]{1,6})(?![a-z0-9])", l)
        if m and m.group(1) not in live:
            orphans.add(m.group(1))
    for i in sorted(orphans):
        d = os.path.join(STATE_BASE, "dllab." + i)
        probs = teardown_state_dir(d, {"id": i})
        say("%s (no state dir): %s" % (i, "; ".join(probs) if probs else "removed"))
        rc |= bool(probs)
    return rc


def cleanup_labs(ids=(), force=False, say=print):
    """`lab cleanup`: tear down the labs `ids`, or every lab in STATE_BASE
    whose owning test process is gone (all of them with force) and the
    leftovers of labs whose state dir is gone.  say() gets one line per lab;
    returns 0 when everything was removed, 1 otherwise."""
    dirs = [os.path.join(STATE_BASE, "dllab." + i) for i in ids] or lab_dirs()
    rc = 0
    for d in dirs:
        owner = None if ids or force else _owner_alive(d)
        if owner:
            say("%s: owner pid %d is alive (a running test); skipped "
                "(--force to remove anyway)" % (d, owner))
            continue
        probs = teardown_state_dir(d)
        say("%s: %s" % (d, "; ".join(probs) if probs else "removed"))
        rc |= bool(probs)
    if not ids:
        rc |= _cleanup_orphans(say)
    return int(rc)


_handled = []


def install_handlers(lab):
    """atexit + SIGINT/SIGTERM/SIGHUP: tear the lab down if the owner dies."""
    _handled.append(lab)
    if len(_handled) > 1:
        return

    def at_exit():
        for l in _handled:
            if l._owner and not l._destroyed:
                try:
                    l.destroy()
                except Exception as e:  # noqa
                    log("teardown at exit: %s" % e)
    atexit.register(at_exit)

    def on_signal(signum, frame):
        log("signal %d: tearing down" % signum)
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(s, on_signal)
        except ValueError:
            pass
