#!/usr/bin/python3
"""dllab -- disklink's test lab: corosync/Pacemaker clusters on one machine.

Each lab node is a network namespace plus its own mount and UTS namespaces,
kept alive by a *holder* process.  Every command for a node enters the
holder's namespaces with ``nsenter -t HOLDER -n -m -u`` (never ``ip netns
exec``, which makes a fresh mount namespace: libqb IPC needs the daemon's
/dev/shm).  Link 0 is a bridge in its own network namespace with one veth per
node, addressed from link-local 169.254.77.0/24.  Nothing is created in the
root network namespace.

Everything the lab creates is recorded in its state directory
(/tmp/dllab.<id>/, visible from every node's mount namespace) so that a
crashed lab can be removed with ``lab cleanup``.

Python 3 standard library only; run with /usr/bin/python3.
See doc/lab.md for the manual.
"""

import atexit
import fcntl
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
LIB_PATH = os.path.abspath(__file__)
FENCE_AGENT_SRC = os.path.join(HERE, "fence_dllab")
STATE_BASE = os.environ.get("DLLAB_STATE_BASE", "/tmp")
STATE_GLOB = "dllab.*"
NETNS_PREFIX = "dllab"          # netns names: dllab<id>-n<N>, dllab<id>-br
HOST_PREFIX = "dl"              # node hostnames: dl1, dl2 ... (own UTS ns)
LINK0_NET = "169.254.77."       # link 0 addresses 169.254.77.<nodeid>/24
LOOP_NET = "127.77.0."          # per-node loopback link address 127.77.0.<id>/32
CLEAN_ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "LC_ALL": "C",
    "HOME": "/root",
}
# Directories of a node that live on its own "disk" (bind mounts).
NODE_BINDS = [
    # (mount point, owner, mode)
    ("/etc/corosync", "root:root", 0o755),
    ("/var/lib/corosync", "root:root", 0o755),
    ("/var/lib/pacemaker", "root:root", 0o755),
    ("/etc/pacemaker", "root:root", 0o755),
    ("/var/log", "root:root", 0o755),
]
PCMK_ENV = {
    "PCMK_logfile": "/var/log/pacemaker/pacemaker.log",
    "PCMK_logfacility": "none",
    "PCMK_debug": "no",
}


class LabError(Exception):
    pass


class LabTimeout(LabError):
    pass


def log(msg):
    if os.environ.get("DLLAB_QUIET") != "1":
        sys.stderr.write("[dllab %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
        sys.stderr.flush()


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


# --------------------------------------------------------------------------
# corosync.conf
# --------------------------------------------------------------------------

def corosync_conf(nodes, cluster_name="dllab", links=None, token=1000,
                  crypto=True, to_stderr=False, debug=False, extra_totem=None):
    """Return corosync.conf text.

    nodes: list of node ids.  links: list of dicts, one per link, index =
    link number.  Link 0 defaults to the bridge addresses.  A link dict may
    have 'addrs' ({nodeid: address}), 'priority' (knet_link_priority),
    'mcastport', and any other totem.interface option in 'options'.
    Example for a disk link: links=[{}, {"addrs": {i: "127.77.0.%d" % i
    for i in ids}, "priority": 1}].
    """
    links = [dict(l) for l in (links or [{}])]
    if not links[0].get("addrs"):
        links[0]["addrs"] = {i: LINK0_NET + str(i) for i in nodes}
    t = ["totem {", "\tversion: 2", "\tcluster_name: %s" % cluster_name,
         "\ttransport: knet", "\ttoken: %d" % token, "\tlink_mode: passive"]
    if crypto:
        t += ["\tcrypto_cipher: aes256", "\tcrypto_hash: sha256",
              "\tcrypto_model: nss"]
    else:
        t += ["\tcrypto_cipher: none", "\tcrypto_hash: none"]
    for k, v in (extra_totem or {}).items():
        t.append("\t%s: %s" % (k, v))
    for n, l in enumerate(links):
        t.append("\tinterface {")
        t.append("\t\tlinknumber: %d" % n)
        if "priority" in l:
            t.append("\t\tknet_link_priority: %d" % l["priority"])
        if "mcastport" in l:
            t.append("\t\tmcastport: %d" % l["mcastport"])
        for k, v in l.get("options", {}).items():
            t.append("\t\t%s: %s" % (k, v))
        t.append("\t}")
    t.append("}")
    t += ["", "logging {", "\tfileline: off", "\ttimestamp: on",
          "\tto_stderr: %s" % ("yes" if to_stderr else "no"),
          "\tto_logfile: yes", "\tlogfile: /var/log/corosync/corosync.log",
          "\tto_syslog: no", "\tdebug: %s" % ("on" if debug else "off"), "}"]
    t += ["", "quorum {", "\tprovider: corosync_votequorum", "}", "", "nodelist {"]
    for i in nodes:
        t += ["\tnode {", "\t\tname: %s%d" % (HOST_PREFIX, i), "\t\tnodeid: %d" % i]
        for n, l in enumerate(links):
            if i in l["addrs"] or str(i) in l["addrs"]:
                a = l["addrs"].get(i, l["addrs"].get(str(i)))
                t.append("\t\tring%d_addr: %s" % (n, a))
        t.append("\t}")
    t.append("}")
    return "\n".join(t) + "\n"


# --------------------------------------------------------------------------
# Node
# --------------------------------------------------------------------------

class Node:
    def __init__(self, lab, nodeid):
        self.lab = lab
        self.id = nodeid
        self.name = "%s%d" % (HOST_PREFIX, nodeid)
        self.netns = "%s%s-n%d" % (NETNS_PREFIX, lab.id, nodeid)
        self.dir = os.path.join(lab.dir, "nodes", str(nodeid))
        self.root = os.path.join(self.dir, "root")
        self.statefile = os.path.join(self.dir, "state.json")
        self.lockfile = os.path.join(self.dir, "lock")
        self.addr0 = LINK0_NET + str(nodeid)
        self.loop_addr = LOOP_NET + str(nodeid)
        self.ifname = "eth0"

    def __repr__(self):
        return "<Node %s>" % self.name

    # ---- persistent per-node state ------------------------------------
    def state(self):
        return read_json(self.statefile, {"power": "off", "holder": None,
                                          "services": [], "pids": {}})

    def _update(self, fn):
        with _Lock(self.lockfile):
            st = self.state()
            fn(st)
            write_atomic(self.statefile, json.dumps(st, indent=1))
            return st

    def host_path(self, path):
        """Path on the host of the node-private file `path` (e.g.
        /etc/corosync/corosync.conf) -- only for the bind-mounted dirs."""
        for mp, _, _ in NODE_BINDS:
            if path == mp or path.startswith(mp + "/"):
                return os.path.join(self.root, mp.strip("/").replace("/", "-"),
                                    path[len(mp) + 1:])
        if path == "/etc/hosts":
            return os.path.join(self.root, "hosts")
        raise LabError("%s is not node-private" % path)

    def write_file(self, path, text, mode=0o644, owner=None):
        hp = self.host_path(path)
        os.makedirs(os.path.dirname(hp), exist_ok=True)
        write_atomic(hp, text, mode)
        if owner:
            shutil.chown(hp, *owner.split(":"))

    @property
    def holder(self):
        pid = self.state().get("holder")
        if pid and proc_alive(pid) and ns_inode(pid, "net") == self.lab.netns_inode(self.netns):
            return pid
        return None

    def is_on(self):
        return self.holder is not None

    # ---- filesystem and holder -----------------------------------------
    def prepare_fs(self):
        os.makedirs(self.root, exist_ok=True)
        for mp, owner, mode in NODE_BINDS:
            d = self.host_path(mp)
            if not os.path.isdir(d):
                os.makedirs(d)
                # start from the host's contents (e.g. uidgid.d), like an
                # installed system would have them
                if os.path.isdir(mp) and mp != "/var/log":
                    for e in os.listdir(mp):
                        s = os.path.join(mp, e)
                        if os.path.isdir(s) and not os.path.islink(s):
                            shutil.copytree(s, os.path.join(d, e), symlinks=True)
                os.chmod(d, mode)
        for sub in ("cib", "pengine", "blackbox", "cores"):
            p = self.host_path("/var/lib/pacemaker/" + sub)
            os.makedirs(p, exist_ok=True)
            shutil.chown(p, "hacluster", "haclient")
            os.chmod(p, 0o750)
        for sub, own in (("corosync", "root:root"), ("pacemaker", "hacluster:haclient"),
                         ("cluster", "root:root")):
            p = self.host_path("/var/log/" + sub)
            os.makedirs(p, exist_ok=True)
            shutil.chown(p, *own.split(":"))
            os.chmod(p, 0o770 if sub == "pacemaker" else 0o755)

    def _holder_script(self, pidfile):
        binds = []
        for mp, _, _ in NODE_BINDS:
            binds.append("mount --bind %s %s" % (self.host_path(mp), mp))
        binds.append("mount --bind %s /etc/hosts" % self.host_path("/etc/hosts"))
        return "\n".join([
            "set -e",
            "hostname %s" % self.name,
            "mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run",
            "mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm",
        ] + binds + [
            "mkdir -p /run/crm /run/resource-agents /run/lock /run/corosync /run/pacemaker",
            "chown hacluster:haclient /run/crm /run/pacemaker",
            "ip link set lo up",
            "ip addr replace %s/32 dev lo" % self.loop_addr,
            "echo $$ > %s.tmp && mv %s.tmp %s" % (pidfile, pidfile, pidfile),
            "exec -a dllab-holder-%s-%d sleep infinity" % (self.lab.id, self.id),
        ])

    def power_on(self, services=True, timeout=20):
        """Start the holder (the node "boots") and, if services, the node's
        enabled services in order (corosync, pacemaker, extras)."""
        if self.is_on():
            return self.holder
        pidfile = os.path.join(self.dir, "holder.pid")
        try:
            os.unlink(pidfile)
        except FileNotFoundError:
            pass
        script = self._holder_script(pidfile)
        spawn_detached(["ip", "netns", "exec", self.netns, "unshare", "-m", "-u",
                        "--propagation", "private", "/bin/bash", "-c", script],
                       os.path.join(self.dir, "holder.log"))

        def got():
            try:
                with open(pidfile) as f:
                    return int(f.read().strip())
            except (FileNotFoundError, ValueError):
                return None
        pid = wait_for(got, timeout, 0.05, "holder of %s" % self.name)
        mnt = ns_inode(pid, "mnt")

        def up(st):
            st["holder"] = pid
            st["holder_mnt"] = mnt
            st["power"] = "on"
            st["pids"] = {}
            st["boots"] = st.get("boots", 0) + 1
        self._update(up)
        if services:
            for svc in self.state()["services"]:
                self._start_service(svc)
        return pid

    def processes(self):
        """Live processes of this node: members of its netns or of its
        holder's mount ns (excluding the holder itself is NOT done)."""
        inode = self.lab.netns_inode(self.netns)
        pids = set(pids_in_ns("net", inode))
        # the mount ns inode is only trusted while the holder pins it (nsfs
        # inode numbers are reused once a namespace is gone)
        mnt = self.state().get("holder_mnt")
        if mnt and self.holder:
            pids |= set(pids_in_ns("mnt", mnt))
        return sorted(pids)

    def power_off(self, timeout=15):
        """Pull the plug: SIGKILL every process in the node's namespaces."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.processes()
            if not pids:
                break
            if time.monotonic() > deadline:
                raise LabError("%s: processes survive power-off: %s" % (
                    self.name, [(p, proc_cmdline(p)) for p in pids]))
            kill_pids(pids)
            time.sleep(0.05)

        def down(st):
            st["holder"] = None
            st["power"] = "off"
            st["pids"] = {}
        self._update(down)

    def reboot(self, services=True):
        self.power_off()
        return self.power_on(services=services)

    # ---- commands -------------------------------------------------------
    def _nsenter(self, argv):
        pid = self.holder
        if not pid:
            raise LabError("%s is powered off" % self.name)
        return ["nsenter", "-t", str(pid), "-n", "-m", "-u", "--"] + list(argv)

    def exec(self, argv, check=False, timeout=60, input=None, env=None):
        """Run argv (list, or a string for /bin/sh -c) inside the node; return
        CompletedProcess (stdout/stderr text, returncode)."""
        if isinstance(argv, str):
            argv = ["/bin/sh", "-c", argv]
        e = dict(CLEAN_ENV)
        e.update(env or {})
        return run(self._nsenter(argv), check=check, timeout=timeout,
                   input=input, env=e)

    def sh(self, cmd, timeout=60):
        """Run a shell command in the node, raise on failure, return stdout."""
        return self.exec(cmd, check=True, timeout=timeout).stdout

    def spawn(self, argv, name=None, env=None, boot=False, before=None):
        """Start a long-running process inside the node, detached, output to
        <node dir>/<name>.out; returns its pid.  It is killed at power-off and
        teardown (all processes of the node's namespaces are).  boot=True
        also records it as a service started at every power-on, in list order
        (before= names a service to insert it in front of)."""
        name = name or os.path.basename(argv[0])
        svc = {"name": name, "argv": list(argv), "env": dict(env or {})}
        if boot:
            def add(st):
                st["services"] = [s for s in st["services"] if s["name"] != name]
                idx = len(st["services"])
                if before:
                    for n, s in enumerate(st["services"]):
                        if s["name"] == before:
                            idx = n
                            break
                st["services"].insert(idx, svc)
            self._update(add)
        return self._start_service(svc)

    def _start_service(self, svc, timeout=10):
        name = svc["name"]
        pidfile = os.path.join(self.dir, "%s.pid" % name)
        try:
            os.unlink(pidfile)
        except FileNotFoundError:
            pass
        env = dict(CLEAN_ENV)
        env.update(svc.get("env", {}))
        wrapper = 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"'
        spawn_detached(self._nsenter(["/bin/sh", "-c", wrapper, pidfile] + svc["argv"]),
                       os.path.join(self.dir, "%s.out" % name), env=env)

        def got():
            try:
                with open(pidfile) as f:
                    return int(f.read().strip())
            except (FileNotFoundError, ValueError):
                return None
        pid = wait_for(got, timeout, 0.05, "start of %s on %s" % (name, self.name))

        def rec(st):
            st["pids"][name] = pid
        self._update(rec)
        return pid

    def pid_of(self, name):
        pid = self.state()["pids"].get(name)
        return pid if pid and proc_alive(pid) else None

    def stop_service(self, name, sig=signal.SIGTERM, timeout=60):
        pid = self.pid_of(name)
        if not pid:
            return
        kill_pids([pid], sig)
        wait_for(lambda: not proc_alive(pid), timeout, 0.2, "stop of %s" % name)

    def disable_service(self, name):
        def rm(st):
            st["services"] = [s for s in st["services"] if s["name"] != name]
        self._update(rm)

    # ---- cluster stack ---------------------------------------------------
    def start_corosync(self):
        return self.spawn(["corosync", "-f"], name="corosync", boot=True)

    def start_pacemaker(self):
        return self.spawn(["pacemakerd"], name="pacemaker", env=PCMK_ENV, boot=True)

    def stop_pacemaker(self, timeout=120):
        self.stop_service("pacemaker", timeout=timeout)

    def stop_corosync(self, timeout=30):
        self.stop_service("corosync", timeout=timeout)

    # ---- network ---------------------------------------------------------
    CUT_METHODS = ("switch", "nft", "link", "carrier")

    def cut(self, method="switch"):
        """Cut the node's link 0 (its only network link).
        switch:  the switch drops the node's port (nftables in the bridge
                 netns): the node's NIC stays up, its sends succeed, nothing
                 arrives -- a partition as the node sees it (default);
        nft:     nftables drop in the node's own netns on eth0 (local sends
                 fail with EPERM);
        link:    ip link set eth0 down in the node;
        carrier: the bridge-side veth goes down (the node sees NO-CARRIER)."""
        self.restore()
        br = self.lab.bridge_ns
        port = "v%d" % self.id
        if method == "switch":
            rules = ("table bridge dllab_cut_%d {\n"
                     " chain cutfw { type filter hook forward priority -300; policy accept;"
                     " iifname \"%s\" drop; oifname \"%s\" drop; }\n}\n") % (self.id, port, port)
            run(["ip", "netns", "exec", br, "nft", "-f", "-"], input=rules)
        elif method == "nft":
            rules = ("table inet dllab_cut {\n"
                     " chain in { type filter hook input priority -300; policy accept;"
                     " iifname \"%s\" drop; }\n"
                     " chain out { type filter hook output priority -300; policy accept;"
                     " oifname \"%s\" drop; }\n}\n") % (self.ifname, self.ifname)
            run(["ip", "netns", "exec", self.netns, "nft", "-f", "-"], input=rules)
        elif method == "link":
            run(["ip", "-n", self.netns, "link", "set", "dev", self.ifname, "down"])
        elif method == "carrier":
            run(["ip", "-n", br, "link", "set", "dev", port, "down"])
        else:
            raise LabError("unknown cut method %s" % method)

    def restore(self):
        """Undo any cut of link 0 (all methods)."""
        br = self.lab.bridge_ns
        run(["ip", "netns", "exec", br, "nft", "delete", "table", "bridge",
             "dllab_cut_%d" % self.id], check=False)
        run(["ip", "netns", "exec", self.netns, "nft", "delete", "table", "inet",
             "dllab_cut"], check=False)
        run(["ip", "-n", br, "link", "set", "dev", "v%d" % self.id, "up"])
        run(["ip", "-n", self.netns, "link", "set", "dev", self.ifname, "up"])

    def is_cut(self):
        br = self.lab.bridge_ns
        cp = run(["ip", "netns", "exec", br, "nft", "list", "tables"], check=False)
        if "dllab_cut_%d" % self.id in cp.stdout.split():
            return True
        cp = run(["ip", "netns", "exec", self.netns, "nft", "list", "tables"], check=False)
        if "dllab_cut" in cp.stdout.split():
            return True
        for ns, dev in ((self.netns, self.ifname), (br, "v%d" % self.id)):
            cp = run(["ip", "-n", ns, "-o", "link", "show", "dev", dev])
            flags = cp.stdout.split("<", 1)[1].split(">", 1)[0].split(",")
            if "UP" not in flags:
                return True
        return False

    # ---- queries ---------------------------------------------------------
    def quorum(self):
        """Parse `corosync-quorumtool -s` -> dict(quorate, total_votes,
        expected, ring_id (text, e.g. '1.10'), members=[nodeid...], text);
        None if corosync is not answering."""
        cp = self.exec(["corosync-quorumtool", "-s"], timeout=15)
        if "Quorate:" not in cp.stdout:
            return None
        q = {"members": [], "text": cp.stdout}
        for line in cp.stdout.splitlines():
            m = re.match(r"\s*Ring ID:\s+(\S+)", line)
            if m:
                q["ring_id"] = m.group(1)
            m = re.match(r"\s*Quorate:\s+(\w+)", line)
            if m:
                q["quorate"] = m.group(1) == "Yes"
            m = re.match(r"\s*Total votes:\s+(\d+)", line)
            if m:
                q["total_votes"] = int(m.group(1))
            m = re.match(r"\s*Expected votes:\s+(\d+)", line)
            if m:
                q["expected"] = int(m.group(1))
            m = re.match(r"\s*(\d+)\s+\d+\s+(\S+)", line)
            if m and "Nodeid" not in line:
                q["members"].append(int(m.group(1)))
        q["members"].sort()
        return q

    def cmap_members(self):
        """Node ids that corosync's cmap reports as joined members."""
        cp = self.exec(["corosync-cmapctl", "-b", "runtime.members"], timeout=15)
        ids = set()
        for line in cp.stdout.splitlines():
            m = re.match(r"runtime\.members\.(\d+)\.status \(str\) = joined", line)
            if m:
                ids.add(int(m.group(1)))
        return sorted(ids)

    def link_status(self):
        """`corosync-cfgtool -s` raw text."""
        return self.exec(["corosync-cfgtool", "-s"], timeout=15).stdout

    def crm_mon(self):
        """crm_mon XML as an ElementTree root, or None."""
        cp = self.exec(["crm_mon", "-1", "--output-as=xml"], timeout=30)
        if cp.returncode != 0 or "<pacemaker-result" not in cp.stdout:
            return None
        try:
            return ET.fromstring(cp.stdout)
        except ET.ParseError:
            return None

    def pcmk_nodes(self):
        """{node name: {'online': bool, 'unclean': bool, ...}} from crm_mon."""
        x = self.crm_mon()
        if x is None:
            return None
        out = {}
        for n in x.iter("node"):
            if n.get("name") and n.get("online") is not None:
                out[n.get("name")] = {k: n.get(k) == "true" for k in
                                      ("online", "unclean", "standby", "pending",
                                       "expected_up", "is_dc")}
        return out

    def resource_nodes(self, rsc):
        """Names of nodes where resource `rsc` is active (crm_mon XML)."""
        x = self.crm_mon()
        if x is None:
            return None
        out = []
        for r in x.iter("resource"):
            if r.get("id") == rsc and r.get("active") == "true" \
                    and r.get("failed") != "true":
                out += [n.get("name") for n in r.findall("node")]
        return sorted(out)

    def locate(self, rsc):
        """crm_resource --locate: names of nodes running rsc."""
        cp = self.exec(["crm_resource", "--locate", "-r", rsc], timeout=30)
        return sorted(re.findall(r"is running on: (\S+)", cp.stdout))


# --------------------------------------------------------------------------
# Lab
# --------------------------------------------------------------------------

class Lab:
    """A lab of n nodes.  Use as a context manager (destroys on exit), or
    Lab.load(state_dir) to attach to an existing one (e.g. from the CLI)."""

    def __init__(self, nodes=3, lab_id=None, state_dir=None, _load=False):
        if _load:
            st = read_json(os.path.join(state_dir, "lab.json"))
            if st is None:
                raise LabError("no lab state in %s" % state_dir)
            self.id = st["id"]
            self.dir = state_dir
            self.st = st
        else:
            self.id = lab_id or secrets.token_hex(2)
            if not re.match(r"^[a-z0-9]{1,6}$", self.id):
                raise LabError("lab id must be 1-6 chars [a-z0-9]")
            self.dir = state_dir or os.path.join(STATE_BASE, "dllab." + self.id)
            self.st = {"id": self.id, "n": nodes, "netns": [], "loops": [],
                       "anchor": None, "fence_agent": None, "lib": LIB_PATH,
                       "netns_inodes": {}, "created": time.time()}
        self.n = self.st["n"]
        self.bridge_ns = "%s%s-br" % (NETNS_PREFIX, self.id)
        self.nodes = [Node(self, i) for i in range(1, self.n + 1)]
        self.fence_agent_name = "fence_dllab_" + self.id
        self.fence_log = os.path.join(self.dir, "fence.log")
        self._destroyed = False
        self._owner = False

    @classmethod
    def load(cls, state_dir):
        return cls(state_dir=state_dir, _load=True)

    def node(self, i):
        if isinstance(i, str) and not i.isdigit():
            i = int(i.lstrip(HOST_PREFIX))
        return self.nodes[int(i) - 1]

    def _save(self):
        write_atomic(os.path.join(self.dir, "lab.json"), json.dumps(self.st, indent=1))

    def netns_inode(self, name):
        return self.st["netns_inodes"].get(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False

    # ---- creation --------------------------------------------------------
    def create(self, loops=(), link0=True, install_fence_agent=True):
        """Build the lab: state dir, anchor, bridge netns, node netns with
        veths, holders (nodes powered on), loop devices, keys, fence agent.
        loops: sizes in bytes (or (size, sector_size) tuples) of shared loop
        devices.  On error, everything made so far is removed."""
        check_prereqs()
        if os.path.exists(self.dir):
            raise LabError("%s exists" % self.dir)
        os.makedirs(os.path.join(self.dir, "nodes"), mode=0o755)
        self._owner = True
        self.st["owner"] = [os.getpid(), proc_starttime(os.getpid())]
        install_handlers(self)
        try:
            self._save()
            self._create(loops, install_fence_agent)
        except BaseException:
            log("create failed; tearing down")
            self.destroy()
            raise
        return self

    def _create(self, loops, install_fence_agent):
        # anchor: a process in the root namespaces; the fence agent (which
        # runs inside a node) enters it to power nodes on/off from outside.
        pidfile = os.path.join(self.dir, "anchor.pid")
        spawn_detached(["/bin/bash", "-c", "echo $$ > %s.tmp && mv %s.tmp %s && "
                        "exec -a dllab-anchor-%s sleep infinity"
                        % (pidfile, pidfile, pidfile, self.id)],
                       os.path.join(self.dir, "anchor.log"))
        self.st["anchor"] = wait_for(lambda: _read_int(pidfile), 10, 0.05, "anchor")
        self._save()
        # bridge
        self._add_netns(self.bridge_ns)
        br = ["ip", "-n", self.bridge_ns]
        run(br + ["link", "add", "br0", "type", "bridge", "forward_delay", "0",
                  "stp_state", "0"])
        run(br + ["link", "set", "br0", "up"])
        run(br + ["link", "set", "lo", "up"])
        hosts = ["127.0.0.1 localhost"]
        for nd in self.nodes:
            hosts.append("%s %s" % (nd.addr0, nd.name))
        for nd in self.nodes:
            self._add_netns(nd.netns)
            run(br + ["link", "add", "v%d" % nd.id, "type", "veth", "peer", "name",
                      nd.ifname, "netns", nd.netns])
            run(br + ["link", "set", "v%d" % nd.id, "master", "br0", "up"])
            run(["ip", "-n", nd.netns, "addr", "add", nd.addr0 + "/24", "dev", nd.ifname])
            run(["ip", "-n", nd.netns, "link", "set", nd.ifname, "up"])
            os.makedirs(nd.dir, exist_ok=True)
            nd.prepare_fs()
            write_atomic(nd.host_path("/etc/hosts"), "\n".join(hosts) + "\n")
        # loop devices
        for spec in loops:
            size, ssz = (spec if isinstance(spec, (tuple, list)) else (spec, 512))
            self.add_loop(size, ssz)
        # keys
        self.write_keys()
        self.seed_cib()
        if install_fence_agent:
            self.install_fence_agent()
        for nd in self.nodes:
            nd.power_on(services=False)
        log("lab %s created in %s (%d nodes)" % (self.id, self.dir, self.n))

    def _add_netns(self, name):
        run(["ip", "netns", "add", name])
        self.st["netns"].append(name)
        self.st["netns_inodes"][name] = os.stat("/run/netns/" + name).st_ino
        self._save()

    def add_loop(self, size, sector_size=512):
        """Create a backing file (on /dev/shm) and a loop device over it.
        Returns the device path (the same path in every node)."""
        shm = os.path.join("/dev/shm", "dllab." + self.id)
        os.makedirs(shm, exist_ok=True)
        backing = os.path.join(shm, "disk%d.img" % len(self.st["loops"]))
        with open(backing, "wb") as f:
            f.truncate(size)
        self.st["loops"].append({"file": backing, "dev": None, "size": size})
        self._save()
        dev = run(["losetup", "--find", "--show", "--sector-size", str(sector_size),
                   backing]).stdout.strip()
        self.st["loops"][-1]["dev"] = dev
        self._save()
        return dev

    @property
    def loops(self):
        return [l["dev"] for l in self.st["loops"]]

    def write_keys(self):
        ckey = secrets.token_bytes(256)
        pkey = secrets.token_bytes(256)
        for nd in self.nodes:
            hp = nd.host_path("/etc/corosync/authkey")
            with open(hp, "wb") as f:
                f.write(ckey)
            os.chmod(hp, 0o400)
            hp = nd.host_path("/etc/pacemaker/authkey")
            with open(hp, "wb") as f:
                f.write(pkey)
            shutil.chown(hp, "hacluster", "haclient")
            os.chmod(hp, 0o440)

    def write_corosync_conf(self, **kw):
        """Write the same corosync.conf on every node (see corosync_conf())."""
        text = corosync_conf([nd.id for nd in self.nodes], **kw)
        for nd in self.nodes:
            nd.write_file("/etc/corosync/corosync.conf", text)
        return text

    def seed_cib(self, props=None):
        """Write an initial CIB (crm_config properties only) on every node's
        disk before Pacemaker first starts -- as a provisioning tool would.
        The default shortens dc-deadtime (20 s) so a new cluster elects its DC
        in seconds.  Fencing is configured later, once all nodes are online
        (configure_pacemaker), so that startup fencing has nobody to shoot."""
        p = {"dc-deadtime": "5s", "cluster-recheck-interval": "30s",
             "no-quorum-policy": "stop"}
        p.update(props or {})
        # start from this Pacemaker's own empty CIB (right feature set/schema)
        cib = ET.fromstring(run(["cibadmin", "--empty"]).stdout)
        cc = cib.find("configuration/crm_config")
        ps = ET.SubElement(cc, "cluster_property_set", id="cib-bootstrap-options")
        for k, v in p.items():
            ET.SubElement(ps, "nvpair", id="opt-" + k, name=k, value=v)
        xml = ET.tostring(cib, encoding="unicode") + "\n"
        for nd in self.nodes:
            nd.write_file("/var/lib/pacemaker/cib/cib.xml", xml, 0o600,
                          owner="hacluster:haclient")

    def install_fence_agent(self):
        dst = os.path.join("/usr/sbin", self.fence_agent_name)
        with open(FENCE_AGENT_SRC) as f:
            text = f.read()
        text = text.replace('STATE_DIR = None  # set at install',
                            'STATE_DIR = %r  # set at install' % self.dir)
        self.st["fence_agent"] = dst
        self._save()
        write_atomic(dst, text, 0o755)

    # ---- cluster helpers -------------------------------------------------
    def start_cluster(self, pacemaker=True, nodes=None):
        nodes = nodes or self.nodes
        for nd in nodes:
            nd.start_corosync()
        if pacemaker:
            for nd in nodes:
                nd.start_pacemaker()

    def wait_quorate(self, members=None, nodes=None, timeout=60):
        """Wait until each given node is quorate and sees exactly `members`
        (list of ids; default all) in corosync-quorumtool."""
        nodes = nodes or self.nodes
        want = sorted(members or [nd.id for nd in self.nodes])

        def ok():
            for nd in nodes:
                q = nd.quorum()
                if not q or not q.get("quorate") or q["members"] != want:
                    return False
            return True
        return wait_for(ok, timeout, 0.5, "quorum with members %s on %s" %
                        (want, [n.name for n in nodes]))

    def wait_online(self, online=None, nodes=None, timeout=120):
        """Wait until crm_mon on each of `nodes` shows exactly the `online`
        names (default all) online, none unclean, and a DC."""
        nodes = nodes or [nd for nd in self.nodes if nd.is_on()]
        want = sorted(online or [nd.name for nd in self.nodes])

        def ok():
            for nd in nodes:
                x = nd.crm_mon()
                if x is None:
                    return False
                st = nd.pcmk_nodes()
                on = sorted(n for n, v in st.items() if v["online"])
                if on != want or any(st[n]["unclean"] for n in want):
                    return False
                dc = x.find(".//current_dc")
                if dc is None or dc.get("present") != "true":
                    return False
            return True
        return wait_for(ok, timeout, 1, "pacemaker online %s" % want)

    def wait_resource(self, rsc, on=None, via=None, timeout=90):
        """Wait until resource rsc is active on exactly node `on` (a name),
        or on any one node if on is None; returns the node name."""
        via = via or next(nd for nd in self.nodes if nd.is_on())

        def ok():
            where = via.resource_nodes(rsc)
            if not where or len(where) != 1:
                return None
            if on and where[0] != on:
                return None
            return where[0]
        return wait_for(ok, timeout, 1, "resource %s on %s" % (rsc, on or "a node"))

    def cib(self, via=None):
        return (via or self.nodes[0])

    def configure_pacemaker(self, via=None, fencing=True, stonith_action="reboot",
                            recheck="30s", stonith_timeout="30s"):
        """Cluster properties and the lab's stonith device (through cibadmin
        and crm_attribute on a live node; no pcsd needed)."""
        nd = via or next(n for n in self.nodes if n.is_on())
        props = {"stonith-enabled": "true" if fencing else "false",
                 "stonith-action": stonith_action,
                 "stonith-timeout": stonith_timeout,
                 "cluster-recheck-interval": recheck,
                 "no-quorum-policy": "stop",
                 "symmetric-cluster": "true"}
        for k, v in props.items():
            nd.exec(["crm_attribute", "--type", "crm_config", "--name", k,
                     "--update", v], check=True)
        if fencing:
            hosts = " ".join(n.name for n in self.nodes)
            xml = ('<primitive id="fence-lab" class="stonith" type="%s">'
                   '<instance_attributes id="fence-lab-ia">'
                   '<nvpair id="fence-lab-hl" name="pcmk_host_list" value="%s"/>'
                   '<nvpair id="fence-lab-hc" name="pcmk_host_check" value="static-list"/>'
                   '<nvpair id="fence-lab-rt" name="pcmk_reboot_timeout" value="30s"/>'
                   '<nvpair id="fence-lab-ot" name="pcmk_off_timeout" value="30s"/>'
                   '</instance_attributes><operations>'
                   '<op id="fence-lab-mon" name="monitor" interval="60s" timeout="20s"/>'
                   '</operations></primitive>') % (self.fence_agent_name, hosts)
            nd.exec(["cibadmin", "--create", "--scope", "resources", "--xml-text", xml],
                    check=True)

    def add_dummy(self, rsc="dummy", prefer=None, score=100, via=None,
                  provider="pacemaker"):
        """An ocf:<provider>:Dummy resource, optionally preferring a node."""
        nd = via or next(n for n in self.nodes if n.is_on())
        xml = ('<primitive id="%s" class="ocf" provider="%s" type="Dummy">'
               '<operations><op id="%s-mon" name="monitor" interval="5s" timeout="20s"/>'
               '</operations></primitive>') % (rsc, provider, rsc)
        nd.exec(["cibadmin", "--create", "--scope", "resources", "--xml-text", xml],
                check=True)
        if prefer:
            self.prefer(rsc, prefer, score, via=nd)

    def prefer(self, rsc, node, score=100, via=None):
        nd = via or next(n for n in self.nodes if n.is_on())
        name = node.name if isinstance(node, Node) else node
        xml = '<rsc_location id="loc-%s-%s" rsc="%s" node="%s" score="%s"/>' % (
            rsc, name, rsc, name, score)
        nd.exec(["cibadmin", "--create", "--scope", "constraints", "--xml-text", xml],
                check=True)

    # ---- fence log -------------------------------------------------------
    def fence_events(self):
        """Parsed fence agent log: list of dicts (time, action, target, by...)."""
        out = []
        try:
            with open(self.fence_log) as f:
                for line in f:
                    d = {}
                    parts = line.split()
                    if parts:
                        d["time"] = parts[0]
                    for p in parts[1:]:
                        if "=" in p:
                            k, v = p.split("=", 1)
                            d[k] = v
                    out.append(d)
        except FileNotFoundError:
            pass
        return out

    def fencings(self, target=None):
        """Power-cutting requests (off/reboot) from the fence agent's log."""
        return [e for e in self.fence_events() if e.get("action") in ("off", "reboot")
                and (target is None or e.get("target") == target)]

    # ---- logs ------------------------------------------------------------
    def collect_logs(self, dest):
        """Copy every node's /var/log, service outputs, the fence log and a
        live status snapshot into dest (for CI failure diagnosis)."""
        os.makedirs(dest, exist_ok=True)
        for f in glob.glob(os.path.join(self.dir, "*.log")) + \
                [os.path.join(self.dir, "lab.json")]:
            if os.path.isfile(f):
                shutil.copy(f, dest)
        for nd in self.nodes:
            d = os.path.join(dest, nd.name)
            os.makedirs(d, exist_ok=True)
            for f in glob.glob(os.path.join(nd.dir, "*")):
                if os.path.isfile(f):
                    shutil.copy(f, d)
            vl = nd.host_path("/var/log")
            if os.path.isdir(vl):
                shutil.copytree(vl, os.path.join(d, "var-log"), dirs_exist_ok=True)
            if nd.is_on():
                with open(os.path.join(d, "status.txt"), "w") as f:
                    for cmd in (["corosync-quorumtool", "-s"], ["corosync-cfgtool", "-s"],
                                ["corosync-cmapctl", "-b", "runtime.members"],
                                ["crm_mon", "-1", "-r", "-f", "-t"],
                                ["stonith_admin", "--history", "*"],
                                ["ip", "-s", "addr"], ["nft", "list", "ruleset"],
                                ["ps", "-eo", "pid,ppid,stat,cmd"]):
                        try:
                            cp = nd.exec(cmd, timeout=15)
                            f.write("### %s (rc=%d)\n%s%s\n" % (
                                " ".join(cmd), cp.returncode, cp.stdout, cp.stderr))
                        except LabError as e:
                            f.write("### %s: %s\n" % (" ".join(cmd), e))
        return dest

    def process_snapshot(self):
        """{pid: start time} of every live process of the lab (all nodes'
        namespaces, holders, anchor) -- take it before destroy() and check
        survivors(snapshot) afterwards."""
        pids = set()
        for nd in self.nodes:
            pids |= set(nd.processes())
            if nd.holder:
                pids.add(nd.holder)
        if self.st.get("anchor") and proc_alive(self.st["anchor"]):
            pids.add(self.st["anchor"])
        return {p: proc_starttime(p) for p in pids if proc_starttime(p)}

    # ---- teardown --------------------------------------------------------
    def destroy(self):
        """Remove everything the lab created (idempotent, best effort, and
        loud about what it could not remove)."""
        if self._destroyed:
            return
        self._destroyed = True
        errors = teardown_state_dir(self.dir, self.st)
        if errors:
            raise LabError("teardown left things behind: %s" % errors)


def _read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return None


def teardown_state_dir(state_dir, st=None):
    """Tear down the lab recorded in state_dir (also after a crash).
    Returns a list of problems (empty = all clean)."""
    st = st or read_json(os.path.join(state_dir, "lab.json"), {}) or {}
    lab_id = st.get("id") or os.path.basename(state_dir).split(".", 1)[-1]
    problems = []
    netns = list(st.get("netns", []))
    # also netns that a crash left unrecorded
    for p in glob.glob("/run/netns/%s%s-*" % (NETNS_PREFIX, lab_id)):
        if os.path.basename(p) not in netns:
            netns.append(os.path.basename(p))
    inodes = {}
    for name in netns:
        try:
            inodes[name] = os.stat("/run/netns/" + name).st_ino
        except OSError:
            pass
    mnts = set()
    for sf in glob.glob(os.path.join(state_dir, "nodes", "*", "state.json")):
        s = read_json(sf, {}) or {}
        h = s.get("holder")
        if s.get("holder_mnt") and h and proc_alive(h) and \
                proc_cmdline(h).startswith("dllab-holder-%s-" % lab_id):
            mnts.add(s["holder_mnt"])
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
    for name in netns:
        if os.path.exists("/run/netns/" + name):
            cp = run(["ip", "netns", "del", name], check=False)
            if cp.returncode != 0:
                problems.append("netns %s: %s" % (name, cp.stderr.strip()))
    shm = os.path.join("/dev/shm", "dllab." + lab_id)
    # loop devices backed by the lab's files (recorded or not)
    cp = run(["losetup", "-a"], check=False)
    for line in cp.stdout.splitlines():
        if "(%s/" % shm in line:
            dev = line.split(":", 1)[0]
            r = run(["losetup", "-d", dev], check=False)
            if r.returncode != 0:
                problems.append("loop %s: %s" % (dev, r.stderr.strip()))
    if os.path.isdir(shm):
        shutil.rmtree(shm, ignore_errors=True)
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
    if os.path.isdir(state_dir) and os.environ.get("DLLAB_KEEP_STATE") != "1":
        shutil.rmtree(state_dir, ignore_errors=True)
    return problems


def lab_dirs():
    return sorted(glob.glob(os.path.join(STATE_BASE, STATE_GLOB)))


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


def check_prereqs():
    """Raise LabSkip with a reason if this machine cannot run a lab."""
    if os.geteuid() != 0:
        raise LabSkip("not root")
    for tool in ("ip", "nsenter", "unshare", "losetup", "nft", "setsid",
                 "corosync", "pacemakerd", "crm_mon", "cibadmin"):
        if not shutil.which(tool, path=CLEAN_ENV["PATH"]):
            raise LabSkip("missing tool %s" % tool)
    try:
        import pwd
        pwd.getpwnam("hacluster")
    except KeyError:
        raise LabSkip("no hacluster user (pacemaker not installed)")
    name = "dllabprobe%d" % os.getpid()
    cp = run(["ip", "netns", "add", name], check=False)
    if cp.returncode != 0:
        raise LabSkip("cannot create network namespaces: %s" % cp.stderr.strip())
    run(["ip", "netns", "del", name], check=False)


class LabSkip(LabError):
    pass


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


# --------------------------------------------------------------------------
# test helpers
# --------------------------------------------------------------------------

SKIP = 77


def skip_or_fail(reason):
    """Exit 77 (skip), or 1 when CI=true (a skip in CI is a failure)."""
    if os.environ.get("CI") == "true":
        print("FAIL (CI=true, would skip): %s" % reason)
        sys.exit(1)
    print("SKIP: %s" % reason)
    sys.exit(SKIP)


def artifacts_dir(name):
    base = os.environ.get("DLLAB_ARTIFACTS", "/tmp/dllab-artifacts")
    return os.path.join(base, "%s-%s" % (name, time.strftime("%Y%m%d-%H%M%S")))


def run_scenario(name, scenario, say, nodes=3, loops=()):
    """The frame of a lab test: create a lab of `nodes` nodes (skip, or
    fail under CI=true, when this machine cannot), run scenario(lab),
    collect the logs if it failed, destroy the lab, and check that nothing
    was left behind.  Returns the test's exit status (0 pass, 1 fail)."""
    lab = Lab(nodes=nodes)
    try:
        lab.create(loops=loops)
    except LabSkip as e:
        skip_or_fail(str(e))
    ok = False
    try:
        scenario(lab)
        ok = True
    except (AssertionError, LabError) as e:
        say("FAIL: %s" % e)
    finally:
        snap = lab.process_snapshot()
        if not ok:
            try:
                report_failure(lab, name)
            except Exception as e:  # noqa
                say("log collection failed: %s" % e)
        lab.destroy()
    left = leftovers(lab.id)
    alive = survivors(snap)
    if left or alive:
        say("FAIL: left behind: %s %s" % (left, alive))
        return 1
    say("ok: no namespace, loop device, process or file left behind")
    say("PASS" if ok else "FAIL")
    return 0 if ok else 1


def report_failure(lab, name, tail=40):
    """Collect the lab's logs into an artifacts dir and print the essentials
    (fence log, per-node status, log tails) to stdout, so that a CI log
    (test-suite.log) alone explains a failure.  Returns the artifacts dir."""
    dest = lab.collect_logs(artifacts_dir(name))
    print("==== lab logs collected in %s" % dest)
    for path in sorted(glob.glob(os.path.join(dest, "*.log"))) + \
            sorted(glob.glob(os.path.join(dest, "*", "status.txt"))) + \
            sorted(glob.glob(os.path.join(dest, "*", "var-log", "*", "*.log"))):
        try:
            with open(path, errors="replace") as f:
                lines = f.readlines()
        except OSError:
            continue
        print("==== %s (last %d of %d lines)" % (os.path.relpath(path, dest),
                                                min(tail, len(lines)), len(lines)))
        sys.stdout.write("".join(l[:300] + ("\n" if len(l) > 300 else "")
                                 for l in lines[-tail:]))
    sys.stdout.flush()
    return dest


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


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def _find_lab(args):
    if args.lab:
        d = args.lab if "/" in args.lab else os.path.join(STATE_BASE, "dllab." + args.lab)
        return Lab.load(d)
    if os.environ.get("DLLAB"):
        return Lab.load(os.environ["DLLAB"])
    ds = [d for d in lab_dirs() if os.path.exists(os.path.join(d, "lab.json"))]
    if len(ds) != 1:
        raise LabError("%d labs found (%s); say which with --lab ID" % (len(ds), ds))
    return Lab.load(ds[0])


def _nodes(lab, spec):
    if spec in ("all", None):
        return lab.nodes
    return [lab.node(s) for s in spec.split(",")]


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(prog="lab", description="disklink test lab (see doc/lab.md)")
    p.add_argument("--lab", help="lab id or state dir (default: the only lab, or $DLLAB)")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create", help="create a lab (nodes powered on, no cluster yet)")
    c.add_argument("--nodes", type=int, default=3)
    c.add_argument("--id")
    c.add_argument("--loop", action="append", default=[],
                   help="SIZE[:SECTOR] shared loop device, e.g. 64M or 64M:4096")
    c.add_argument("--start", action="store_true",
                   help="also write corosync.conf, start corosync+pacemaker and configure fencing")
    c.add_argument("--no-crypto", action="store_true")
    c.add_argument("--token", type=int, default=1000)
    sub.add_parser("status", help="nodes, power, pids, link state")
    e = sub.add_parser("exec", help="run a command in a node")
    e.add_argument("node")
    e.add_argument("argv", nargs=argparse.REMAINDER)
    s = sub.add_parser("shell", help="interactive shell in a node")
    s.add_argument("node")
    for name in ("cut", "restore"):
        x = sub.add_parser(name, help="%s node's link 0" % name)
        x.add_argument("node")
        if name == "cut":
            x.add_argument("--method", choices=Node.CUT_METHODS, default="switch")
    pw = sub.add_parser("power", help="power off/on/reboot a node (like the fence agent)")
    pw.add_argument("action", choices=("off", "on", "reboot", "status"))
    pw.add_argument("node")
    pw.add_argument("--no-services", action="store_true")
    cc = sub.add_parser("conf", help="write corosync.conf on all nodes")
    cc.add_argument("--no-crypto", action="store_true")
    cc.add_argument("--token", type=int, default=1000)
    cc.add_argument("--loop-link", action="store_true",
                    help="add link 1 with 127.77.0.<id> addresses (disk link)")
    st = sub.add_parser("start", help="start corosync (+pacemaker) on nodes")
    st.add_argument("nodes", nargs="?", default="all")
    st.add_argument("--corosync-only", action="store_true")
    sp = sub.add_parser("stop", help="stop pacemaker and corosync on nodes")
    sp.add_argument("nodes", nargs="?", default="all")
    sub.add_parser("configure", help="cluster properties + stonith device")
    w = sub.add_parser("wait", help="wait until quorate + all online")
    w.add_argument("--timeout", type=int, default=120)
    sub.add_parser("fence-log", help="print the fence agent's log")
    lg = sub.add_parser("logs", help="collect logs into DIR")
    lg.add_argument("dir")
    sub.add_parser("destroy", help="tear the lab down")
    cl = sub.add_parser("cleanup", help="remove leftovers of crashed labs")
    cl.add_argument("ids", nargs="*", help="lab ids (default: all labs in %s whose "
                    "owning test process is gone, and by-hand labs)" % STATE_BASE)
    cl.add_argument("--force", action="store_true", help="also labs of live tests")
    sub.add_parser("list", help="list labs")
    a = p.parse_args(argv)

    try:
        if a.cmd == "create":
            loops = []
            for spec in a.loop:
                size, _, ssz = spec.partition(":")
                mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1:].upper(), 1)
                loops.append((int(size.rstrip("KMGkmg")) * mult, int(ssz or 512)))
            lab = Lab(nodes=a.nodes, lab_id=a.id)
            lab.create(loops=loops)
            lab._owner = False       # the CLI leaves it running
            lab.st["owner"] = None
            lab._save()
            lab.write_corosync_conf(crypto=not a.no_crypto, token=a.token)
            if a.start:
                lab.start_cluster()
                lab.wait_quorate()
                lab.wait_online()
                lab.configure_pacemaker()
            print(lab.dir)
            for l in lab.loops:
                print(l)
            return 0
        if a.cmd == "list":
            for d in lab_dirs():
                st = read_json(os.path.join(d, "lab.json"), {})
                print(d, "nodes=%s" % (st or {}).get("n"))
            return 0
        if a.cmd == "cleanup":
            dirs = [os.path.join(STATE_BASE, "dllab." + i) for i in a.ids] or lab_dirs()
            rc = 0
            for d in dirs:
                own = (read_json(os.path.join(d, "lab.json"), {}) or {}).get("owner")
                if not a.ids and not a.force and own and proc_alive(own[0]) \
                        and proc_starttime(own[0]) == own[1]:
                    print("%s: owner pid %d is alive (a running test); skipped "
                          "(--force to remove anyway)" % (d, own[0]))
                    continue
                probs = teardown_state_dir(d)
                print("%s: %s" % (d, "; ".join(probs) if probs else "removed"))
                rc |= bool(probs)
            if not a.ids:
                # leftovers of labs whose state dir is gone
                live = [os.path.basename(d).split(".", 1)[1] for d in lab_dirs()]
                orphans = set()
                for l in leftovers():
                    m = re.search(r"dllab(?:-holder-|-anchor-|[._]|)([a-z0-9]{1,6})(?![a-z0-9])", l)
                    if m and m.group(1) not in live:
                        orphans.add(m.group(1))
                for i in sorted(orphans):
                    d = os.path.join(STATE_BASE, "dllab." + i)
                    probs = teardown_state_dir(d, {"id": i})
                    print("%s (no state dir): %s" % (i, "; ".join(probs) if probs else "removed"))
                    rc |= bool(probs)
            return rc
        lab = _find_lab(a)
        if a.cmd == "status":
            print("lab %s  %s" % (lab.id, lab.dir))
            for nd in lab.nodes:
                st = nd.state()
                print("%s netns=%s power=%s holder=%s cut=%s services=%s" % (
                    nd.name, nd.netns, "on" if nd.is_on() else "off", nd.holder,
                    nd.is_cut(), {k: (v if proc_alive(v) else "dead")
                                  for k, v in st["pids"].items()}))
            for l in lab.st["loops"]:
                print("loop %s %s" % (l["dev"], l["file"]))
            return 0
        if a.cmd == "exec":
            argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
            pid = lab.node(a.node).holder
            if not pid:
                raise LabError("node is off")
            os.execvpe("nsenter", ["nsenter", "-t", str(pid), "-n", "-m", "-u", "--"] + argv,
                       dict(os.environ, **CLEAN_ENV))
        if a.cmd == "shell":
            pid = lab.node(a.node).holder
            os.execvp("nsenter", ["nsenter", "-t", str(pid), "-n", "-m", "-u", "--",
                                  "/bin/bash", "-i"])
        if a.cmd == "cut":
            lab.node(a.node).cut(a.method)
            return 0
        if a.cmd == "restore":
            lab.node(a.node).restore()
            return 0
        if a.cmd == "power":
            nd = lab.node(a.node)
            if a.action == "status":
                on = nd.is_on()
                print("on" if on else "off")
                return 0 if on else 2
            if a.action == "off":
                nd.power_off()
            elif a.action == "on":
                nd.power_on(services=not a.no_services)
            else:
                nd.reboot(services=not a.no_services)
            return 0
        if a.cmd == "conf":
            links = None
            if a.loop_link:
                links = [{}, {"addrs": {nd.id: nd.loop_addr for nd in lab.nodes},
                              "priority": 1}]
            sys.stdout.write(lab.write_corosync_conf(crypto=not a.no_crypto,
                                                     token=a.token, links=links))
            return 0
        if a.cmd == "start":
            nodes = _nodes(lab, a.nodes)
            lab.start_cluster(pacemaker=not a.corosync_only, nodes=nodes)
            return 0
        if a.cmd == "stop":
            for nd in _nodes(lab, a.nodes):
                if nd.is_on():
                    nd.stop_pacemaker()
                    nd.stop_corosync()
                    nd.disable_service("pacemaker")
                    nd.disable_service("corosync")
            return 0
        if a.cmd == "configure":
            lab.configure_pacemaker()
            return 0
        if a.cmd == "wait":
            lab.wait_quorate(timeout=a.timeout)
            lab.wait_online(timeout=a.timeout)
            return 0
        if a.cmd == "fence-log":
            try:
                with open(lab.fence_log) as f:
                    sys.stdout.write(f.read())
            except FileNotFoundError:
                pass
            return 0
        if a.cmd == "logs":
            print(lab.collect_logs(a.dir))
            return 0
        if a.cmd == "destroy":
            probs = teardown_state_dir(lab.dir, lab.st)
            for pr in probs:
                print("left behind: " + pr)
            return 1 if probs else 0
    except LabSkip as e:
        print("lab: cannot run here: %s" % e, file=sys.stderr)
        return 77
    except LabError as e:
        print("lab: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
