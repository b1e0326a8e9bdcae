"""dllab.lab -- a lab of N nodes: its state dir, the anchor process, the
bridge (link 0) and node namespaces, shared loop devices, keys, the fence
agent (power switch double) and its log, log collection, and destroy().
The cluster-stack helpers are in dllab.cluster (LabCluster, a mixin)."""

import glob
import json
import os
import re
import secrets
import shutil
import time

from .base import (CLEAN_ENV, FENCE_AGENT_SRC, HOST_PREFIX, LIB_PATH,
                   NETNS_PREFIX, STATE_BASE, LabError, LabSkip, log)
from .cluster import LabCluster
from .node import Node
from .proc import (_read_int, proc_alive, proc_starttime, read_json, run,
                   spawn_detached, wait_for, write_atomic)
from .teardown import install_handlers, lab_dirs, teardown_state_dir


class Lab(LabCluster):
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

    @classmethod
    def find(cls, spec=None):
        """The lab the CLI means: spec (a lab id or a state dir), else
        $DLLAB (a state dir), else the only lab in STATE_BASE."""
        if spec:
            d = spec if "/" in spec else os.path.join(STATE_BASE, "dllab." + spec)
            return cls.load(d)
        if os.environ.get("DLLAB"):
            return cls.load(os.environ["DLLAB"])
        ds = [d for d in lab_dirs() if os.path.exists(os.path.join(d, "lab.json"))]
        if len(ds) != 1:
            raise LabError("%d labs found (%s); say which with --lab ID" % (len(ds), ds))
        return cls.load(ds[0])

    def node(self, i):
        if isinstance(i, str) and not i.isdigit():
            i = int(i.lstrip(HOST_PREFIX))
        return self.nodes[int(i) - 1]

    def select(self, spec):
        """Nodes named by spec: "all" (or None), or "1,3" / "dl1,dl3"."""
        if spec in ("all", None):
            return self.nodes
        return [self.node(x) for x in spec.split(",")]

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

    def create_unowned(self, loops=(), crypto=True, token=1000, start=False):
        """create() a lab that outlives this process (the CLI's): nobody owns
        it, `lab destroy` or `lab cleanup` removes it.  Writes corosync.conf
        and, if start, brings the cluster up with fencing configured."""
        self.create(loops=loops)
        self.disown()
        self.write_corosync_conf(crypto=crypto, token=token)
        if start:
            self.start_up()
        return self

    def disown(self):
        """This process no longer tears the lab down when it exits."""
        self._owner = False
        self.st["owner"] = None
        self._save()

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
        # The kernel keeps a read-only flag (blockdev --setro) across
        # losetup -d: clear what an earlier user may have left.
        run(["blockdev", "--setrw", dev])
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

    def install_fence_agent(self):
        dst = os.path.join("/usr/sbin", self.fence_agent_name)
        with open(FENCE_AGENT_SRC) as f:
            text = f.read()
        text = text.replace('STATE_DIR = None  # set at install',
                            'STATE_DIR = %r  # set at install' % self.dir)
        self.st["fence_agent"] = dst
        self._save()
        write_atomic(dst, text, 0o755)

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

    def fence_log_text(self):
        """The fence agent's log as it is ("" before the first request)."""
        try:
            with open(self.fence_log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

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

    def status_text(self):
        """What `lab status` prints: the lab, one line per node (netns,
        power, holder, cut, service pids), one per loop device."""
        out = ["lab %s  %s" % (self.id, self.dir)]
        out += [nd.status_line() for nd in self.nodes]
        out += ["loop %s %s" % (l["dev"], l["file"]) for l in self.st["loops"]]
        return "\n".join(out) + "\n"

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

    def teardown(self):
        """Remove everything the lab created, like destroy(), but return the
        list of what could not be removed instead of raising."""
        return teardown_state_dir(self.dir, self.st)


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
