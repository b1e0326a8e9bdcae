#!/usr/bin/python3
"""dlagents -- what the lab tests of the resource agents share (tests/agent,
tests/replica): the source tree's agents made Pacemaker's ocf:disklink:*
for a `with` block, a node's transient attributes, the skip checks, a
cluster started with a volume.

    import dlagents
    dlagents.need_corosync_mode(DISKLINKD, DISKLINK)   # exit 77 otherwise
    with dlagents.OcfAgents({"disklink": AGENT}):
        ... dlagents.node_attr(node, "#health-disklink") ...

Python 3 standard library only; run with /usr/bin/python3.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import dllab  # noqa: E402

OCF_PROVIDER_DIR = "/usr/lib/ocf/resource.d/disklink"
OCF_LOCK = "/run/lock/disklink-test-ocf.lock"


def source_dir():
    """The source tree: $top_srcdir (make check), else this file's."""
    return os.path.abspath(os.environ.get("top_srcdir") or os.path.join(HERE, "..", ".."))


class OcfAgents:
    """Make agents of the source tree what Pacemaker runs as
    ocf:disklink:NAME ({name: path}), for the duration of a `with` block:
    a link where nothing is installed, a bind mount over an installed copy;
    undone on exit.  The agents' modules and shared helpers (agent/dl-*) go
    beside the copies, where the agents find them.  Tests that do this
    hold an exclusive lock for the whole block, so two of them running at
    once (make check -j) never pull the agent from under each other."""

    def __init__(self, agents, lock_timeout=900):
        self.agents = agents
        self.lock_timeout = lock_timeout
        self.done = []
        self.lock_fd = None
        self.copies = None

    def __enter__(self):
        import fcntl
        os.makedirs(os.path.dirname(OCF_LOCK), exist_ok=True)
        self.lock_fd = os.open(OCF_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise dllab.LabError("another test held %s for %d s" %
                                       (OCF_LOCK, self.lock_timeout))
                time.sleep(0.5)
        try:
            # Pacemaker runs agents (meta-data) as hacluster too: link a
            # copy every user can reach, whatever the checkout's modes.
            self.copies = tempfile.mkdtemp(prefix="dl-ocf-", dir="/var/tmp")
            os.chmod(self.copies, 0o755)
            for mod in glob.glob(os.path.join(source_dir(), "agent", "dl-*")):
                shutil.copyfile(mod, os.path.join(self.copies, os.path.basename(mod)))
            for name, src in self.agents.items():
                copy = os.path.join(self.copies, name)
                shutil.copyfile(src, copy)
                os.chmod(copy, 0o755)
                src = copy
                dst = os.path.join(OCF_PROVIDER_DIR, name)
                if os.path.islink(dst):
                    # a test's link left by a crash: a bind mount would
                    # follow it onto that test's source tree
                    os.unlink(dst)
                if os.path.lexists(dst):
                    subprocess.run(["mount", "--bind", src, dst], check=True)
                    self.done.append(("bind", dst))
                else:
                    os.makedirs(OCF_PROVIDER_DIR, exist_ok=True)
                    os.symlink(src, dst)
                    self.done.append(("link", dst))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for how, dst in reversed(self.done):
            if how == "bind":
                subprocess.run(["umount", dst])
            else:
                os.unlink(dst)
        self.done = []
        if self.copies:
            shutil.rmtree(self.copies, ignore_errors=True)
            self.copies = None
        try:
            os.rmdir(OCF_PROVIDER_DIR)
        except OSError:
            pass
        if self.lock_fd is not None:
            os.close(self.lock_fd)      # releases the lock
            self.lock_fd = None


def node_attr(node, name):
    """A transient attribute of node, as its attrd has it (None: unset)."""
    r = node.exec(["attrd_updater", "-Q", "-n", name, "-N", node.name])
    if r.returncode != 0:
        return None
    # name="disklink-dl2" host="dl1" value="up"
    for part in r.stdout.split():
        if part.startswith("value="):
            return part[len("value="):].strip('"') or None
    return None


def need_corosync_mode(disklinkd, disklink):
    """Skip (exit 77; fail under CI=true) unless root, disklinkd and
    disklink are built and disklinkd has the corosync mode (--link)."""
    if os.geteuid() != 0:
        dllab.skip_or_fail("needs root")
    for p in (disklinkd, disklink):
        if not os.access(p, os.X_OK):
            dllab.skip_or_fail("%s is not built" % p)
    h = subprocess.run([disklinkd, "--help"], capture_output=True, text=True)
    if "--link" not in h.stdout + h.stderr:
        dllab.skip_or_fail("disklinkd has no corosync mode (--link) yet")


def start_with_volume(lab, disklink, token, check):
    """The lab's cluster started with link 1 on the nodes' loopback
    addresses (where the agent's disklinkd carries it), quorate, online,
    Pacemaker configured; lab.loops[0] formatted for cluster dllab (4 slots)
    by disklink, which check(cond, msg) asserts."""
    links = [{}, {"addrs": {n.id: n.loop_addr for n in lab.nodes}, "priority": 1}]
    lab.write_corosync_conf(links=links, token=token)
    lab.seed_cib()
    lab.start_cluster()
    lab.wait_quorate(members=[n.id for n in lab.nodes], timeout=60)
    lab.wait_online(timeout=120)
    lab.configure_pacemaker()
    dev = lab.loops[0]
    out = lab.nodes[0].exec([disklink, "format", dev, "--cluster", "dllab", "--slots", "4"])
    check(out.returncode == 0, "disklink format %s for cluster dllab" % dev)
