#!/usr/bin/python3
"""dlcluster -- lab clusters whose corosync link 1 runs through disklinkd.

Built on dllab (tests/lab/dllab.py, doc/lab.md): N nodes in namespaces share
a loop device formatted with ``disklink format``; corosync.conf has link 0
(the lab's bridge, 169.254.77.N) and link 1 (the disk, 127.77.0.N, lower
knet_link_priority); every node runs disklinkd as a boot service between
corosync and pacemaker (so the fence agent's power-on restarts it), and
Pacemaker fences through the lab's power-switch double.

    import dlcluster
    with dlcluster.Cluster(nodes=3) as c:       # LabSkip if it cannot run
        c.create()                                # lab, volume, corosync.conf
        c.start()                                 # daemons, quorum, link 1, fencing
        c.lab.node(1).cut()                       # the network goes, the disk stays
        c.ring_id(c.lab.node(2)), c.link_connected(c.lab.node(2), 1, link=1)

Everything the cluster creates belongs to its dllab.Lab and goes with
``destroy()`` (also on exit and on SIGINT/SIGTERM/SIGHUP).

Python 3 standard library only; run with /usr/bin/python3.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import dllab  # noqa: E402

# corosync's totem token (ms).  The disk link's round trip is a few ms
# (doc/corosync.md has the numbers), so the token is not sized for the
# disk's latency but for the jitter of a busy host: corosync's default
# 3000 ms (3650 ms with 3 nodes: +650 per node beyond 2) gives knet a
# 1825 ms ping timeout per link, which a loaded 2-core machine keeps with a
# wide margin; the lab's 1000 ms (825 ms ping timeout) leaves little room
# when the disk path stalls for a moment.  See doc/corosync.md.
TOKEN_MS = 3000
DISK_LINK = 1                  # knet link number of the disk link
DISK_PORT = 5406               # its mcastport (written into corosync.conf)
NET_PRIORITY = 2               # knet_link_priority of link 0 (preferred)
DISK_PRIORITY = 1              # ... of the disk link (used when link 0 is down)
LOOP_SIZE = 16 << 20
VOLUME_SLOTS_SPARE = 1         # format with nodes + this many slots
CLUSTER_NAME = "dllab"         # corosync totem.cluster_name (dllab's default)
DAEMON_LOG = "/var/log/disklink/disklinkd.log"   # node-private




class ClusterError(dllab.LabError):
    pass


def say(msg):
    """One timestamped progress line (stderr unless DLLAB_QUIET=1)."""
    dllab.log(msg)


# --------------------------------------------------------------------------
# binaries
# --------------------------------------------------------------------------

def build_dir():
    """The build tree with the binaries: $top_builddir (make check), else
    $DL_BUILD (tools/build.sh), else <source>/build."""
    for var in ("top_builddir", "DL_BUILD"):
        if os.environ.get(var):
            return os.path.abspath(os.environ[var])
    return os.path.abspath(os.path.join(HERE, "..", "..", "build"))


# DL_INSTALLED=1: the lab runs the installed daemon and tool (tests/package/
# runs it against a package); test programs still come from the build dir.
INSTALLED = {"knet-transport/disklinkd": "/usr/sbin/disklinkd",
             "knet-transport/disklink": "/usr/bin/disklink"}


def binary(rel):
    """Absolute path of a built program (rel to the build dir), or
    LabSkip if it was not built."""
    p = os.path.join(build_dir(), rel)
    if os.environ.get("DL_INSTALLED") == "1" and rel in INSTALLED:
        p = INSTALLED[rel]
    if not os.access(p, os.X_OK):
        raise dllab.LabSkip("%s not built (build dir %s; run make)" % (rel, build_dir()))
    return p


def disklinkd_bin():
    return binary("knet-transport/disklinkd")


def disklink_bin():
    return binary("knet-transport/disklink")


def cpg_client_bin():
    return binary("tests/lab/cpg_client")


# --------------------------------------------------------------------------
# How disklinkd is started: the one place that chooses
# --------------------------------------------------------------------------

def daemon_mode():
    """'corosync' (disklinkd --device DEV --link N: node id, addresses and
    port from cmap) once the built disklinkd offers --link, else 'explicit'
    (everything on the command line, computed from the lab).
    DLCLUSTER_DAEMON_MODE=explicit|corosync forces one."""
    forced = os.environ.get("DLCLUSTER_DAEMON_MODE")
    if forced in ("explicit", "corosync"):
        return forced
    cp = subprocess.run([disklinkd_bin(), "--help"], capture_output=True, text=True,
                        timeout=10)
    return "corosync" if re.search(r"^\s*--link\b", cp.stdout + cp.stderr, re.M) \
        else "explicit"


def daemon_argv(lab, node, device, mode=None):
    """disklinkd's command line for `node` (foreground: the lab tracks the
    pid; the default control socket /run/disklink/disklinkd.sock is on the
    node's own /run)."""
    argv = [disklinkd_bin(), "--device", device, "--foreground",
            "--log-file", DAEMON_LOG]
    if (mode or daemon_mode()) == "corosync":
        return argv + ["--link", str(DISK_LINK)]
    argv += ["--node-id", str(node.id), "--port", str(DISK_PORT),
             "--local-addr", node.loop_addr]
    for peer in lab.nodes:
        if peer.id != node.id:
            argv += ["--peer", "%d=%s" % (peer.id, peer.loop_addr)]
    return argv


# --------------------------------------------------------------------------
# queries (corosync's own tools, run inside a node)
# --------------------------------------------------------------------------

def cmap_get(node, prefix, stats=False):
    """{key: value} of `corosync-cmapctl [-m stats] -b prefix` in node."""
    argv = ["corosync-cmapctl"] + (["-m", "stats"] if stats else []) + ["-b", prefix]
    cp = node.exec(argv, timeout=15)
    out = {}
    for line in cp.stdout.splitlines():
        m = re.match(r"(\S+) \((\w+)\) = (.*)$", line)
        if m:
            v = m.group(3)
            if m.group(2) not in ("str",):
                try:
                    v = int(v)
                except ValueError:
                    pass
            out[m.group(1)] = v
    return out


def link_stats(node, peer, link):
    """cmap stats of node's link `link` to `peer` (node id), e.g.
    {'connected': 1, 'latency_ave': 150, ...}; {} if unknown."""
    pre = "stats.knet.node%d.link%d." % (peer, link)
    return {k[len(pre):]: v for k, v in cmap_get(node, pre, stats=True).items()}


def link_connected(node, peer, link):
    return link_stats(node, peer, link).get("connected") == 1


def links_state(node):
    """{(peer, link): connected} from cmap for every peer and link."""
    st = cmap_get(node, "stats.knet.node", stats=True)
    out = {}
    for k, v in st.items():
        m = re.match(r"stats\.knet\.node(\d+)\.link(\d+)\.connected$", k)
        if m:
            out[(int(m.group(1)), int(m.group(2)))] = v == 1
    return out


def cfgtool_links(node):
    """`corosync-cfgtool -s` parsed: {link: {peer: 'connected'|...}} and the
    raw text (for the demo)."""
    text = node.link_status()
    out = {}
    link = None
    for line in text.splitlines():
        m = re.match(r"LINK ID (\d+)", line.strip())
        if m:
            link = int(m.group(1))
            out.setdefault(link, {})
            continue
        m = re.match(r"\s*nodeid:\s+(\d+):\s+(.*)$", line)
        if m and link is not None:
            out[link][int(m.group(1))] = m.group(2).strip()
    return out, text


def quorum_full(node):
    """corosync-quorumtool -s: Node.quorum() (members, quorate, ring_id, text)."""
    return node.quorum()


def ring_id(node):
    """The totem ring id as corosync-quorumtool shows it, or None."""
    q = quorum_full(node)
    return q and q.get("ring_id")


def daemon_status(node):
    """`disklink status --json` inside node, parsed; None if no answer."""
    cp = node.exec([disklink_bin(), "status", "--json"], timeout=15)
    if cp.returncode != 0:
        return None
    try:
        return json.loads(cp.stdout)
    except json.JSONDecodeError:
        return None


def peer_status(status, peer):
    for p in (status or {}).get("peers", []):
        if p.get("node_id") == peer:
            return p
    return None


# --------------------------------------------------------------------------
# the cluster
# --------------------------------------------------------------------------

class Cluster:
    """A dllab.Lab with a disklink volume and link 1 through disklinkd."""

    def __init__(self, nodes=3, sector_size=512, token=TOKEN_MS, crypto=True,
                 lab_id=None):
        self.lab = dllab.Lab(nodes=nodes, lab_id=lab_id)
        self.sector_size = sector_size
        self.token = token
        self.crypto = crypto
        self.device = None
        self.mode = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False

    @property
    def nodes(self):
        return self.lab.nodes

    def node(self, i):
        return self.lab.node(i)

    # ---- setup -----------------------------------------------------------
    def create(self):
        """Lab with one shared loop device, formatted; corosync.conf with
        the disk link on every node.  LabSkip if this machine cannot."""
        disklinkd_bin(), disklink_bin(), cpg_client_bin()   # LabSkip if not built
        self.mode = daemon_mode()
        self.lab.create(loops=[(LOOP_SIZE, self.sector_size)])
        self.device = self.lab.loops[0]
        cp = dllab.run([disklink_bin(), "format", self.device, "--cluster", CLUSTER_NAME,
                        "--slots", str(len(self.nodes) + VOLUME_SLOTS_SPARE)],
                       check=False)
        if cp.returncode != 0:
            raise ClusterError("disklink format %s failed: %s" % (
                self.device, (cp.stderr or cp.stdout).strip()))
        self.lab.write_corosync_conf(links=self.links(), token=self.token,
                                     crypto=self.crypto, cluster_name=CLUSTER_NAME)
        for nd in self.nodes:
            os.makedirs(nd.host_path(os.path.dirname(DAEMON_LOG)), exist_ok=True)
        say("cluster: %d nodes, volume %s (%d-byte sectors), disklinkd %s mode, "
            "token %d ms" % (len(self.nodes), self.device, self.sector_size,
                             self.mode, self.token))
        return self

    def links(self):
        """corosync.conf links: 0 = the lab's network, 1 = the disk."""
        return [{"priority": NET_PRIORITY},
                {"addrs": {nd.id: nd.loop_addr for nd in self.nodes},
                 "priority": DISK_PRIORITY, "mcastport": DISK_PORT}]

    def start_daemon(self, nd):
        """Start disklinkd in node nd as a boot service (between corosync
        and pacemaker: the fence agent's power-on restarts it); wait until
        it answers `disklink status` with a claimed slot."""
        pid = nd.spawn(daemon_argv(self.lab, nd, self.device, self.mode),
                       name="disklinkd", boot=True, before="pacemaker")
        self.wait_daemon(nd)
        return pid

    def wait_daemon(self, nd, timeout=30):
        def ok():
            st = daemon_status(nd)
            return st if st and st.get("slot", -1) >= 0 and \
                st.get("device_state") == "ok" else None
        return dllab.wait_for(ok, timeout, 0.2, "disklinkd serving on %s" % nd.name)

    def start(self, fencing=True, stonith_action="reboot", timeout=120):
        """corosync, disklinkd, pacemaker on every node (in that order, also
        at every later power-on); wait for quorum, link 1 connected
        everywhere, Pacemaker online; then fencing."""
        for nd in self.nodes:
            nd.start_corosync()
        for nd in self.nodes:
            self.start_daemon(nd)
        for nd in self.nodes:
            nd.start_pacemaker()
        self.lab.wait_quorate(timeout=timeout)
        self.wait_links(timeout=timeout)
        self.lab.wait_online(timeout=timeout)
        if fencing:
            self.lab.configure_pacemaker(stonith_action=stonith_action)
            self.lab.wait_resource("fence-lab", timeout=timeout)
        say("cluster: quorate, link %d connected everywhere, Pacemaker online%s"
            % (DISK_LINK, ", fencing on" if fencing else ""))

    def wait_links(self, link=DISK_LINK, nodes=None, timeout=60):
        """Wait until `link` is connected from every node of `nodes`
        (default all powered-on) to every other node (cmap stats)."""
        nodes = nodes or [nd for nd in self.nodes if nd.is_on()]

        def ok():
            for nd in nodes:
                st = links_state(nd)
                for peer in self.nodes:
                    if peer.id != nd.id and not st.get((peer.id, link)):
                        return False
            return True
        return dllab.wait_for(ok, timeout, 0.5, "link %d connected on %s" % (
            link, [n.name for n in nodes]))

    # ---- CPG traffic -------------------------------------------------------
    def cpg_paths(self, nd):
        return ("/var/log/cpg_client.json", "/var/log/cpg_client.status.json")

    def start_cpg(self, nodes=None, rate=20, max_size=20000, group="dllab-cpg"):
        """Start the CPG client on every node; they send once all joined."""
        nodes = nodes or self.nodes
        for nd in nodes:
            out, status = self.cpg_paths(nd)
            for p in (out, status):
                try:
                    os.unlink(nd.host_path(p))
                except FileNotFoundError:
                    pass
            nd.spawn([cpg_client_bin(), "--group", group, "--rate", str(rate),
                      "--max-size", str(max_size), "--wait-members", str(len(nodes)),
                      "--out", out, "--status", status], name="cpg_client")

        def sending():
            for nd in nodes:
                r = self.cpg_report(nd, final=False)
                if not r or r["sent"] < 2 or len(r["senders"]) < len(nodes):
                    return False
            return True
        dllab.wait_for(sending, 30, 0.5, "CPG clients exchanging messages")

    def cpg_report(self, nd, final=True):
        out, status = self.cpg_paths(nd)
        return dllab.read_json(nd.host_path(out if final else status))

    def stop_cpg(self, nodes=None, timeout=20):
        """SIGTERM the CPG clients; {node name: final report (or the last
        status report if the node lost its client)}."""
        nodes = nodes or self.nodes
        res = {}
        for nd in nodes:
            pid = nd.pid_of("cpg_client")
            if pid:
                dllab.kill_pids([pid], signal.SIGTERM)
        for nd in nodes:
            pid = nd.state()["pids"].get("cpg_client")
            if pid:
                dllab.wait_for(lambda: not dllab.proc_alive(pid), timeout, 0.1,
                               "exit of cpg_client on %s" % nd.name)
            res[nd.name] = self.cpg_report(nd) or self.cpg_report(nd, final=False)
        return res

    # ---- teardown ----------------------------------------------------------
    def destroy(self):
        self.lab.destroy()


def check_cpg_reports(reports, senders, allow_resync=False):
    """Problems (list of strings; [] = fine) in CPG client reports:
    every receiver heard from every node in `senders` (ids), with no gap,
    duplicate or corrupt message; resyncs only if allow_resync."""
    probs = []
    for name, r in sorted(reports.items()):
        if not r:
            probs.append("%s: no report" % name)
            continue
        if r["send_errors"]:
            probs.append("%s: %d send errors" % (name, r["send_errors"]))
        heard = {s["nodeid"] for s in r["senders"] if s["received"]}
        for sid in senders:
            if sid not in heard:
                probs.append("%s: nothing received from node %d" % (name, sid))
        for s in r["senders"]:
            for k in ("gaps", "dups", "corrupt"):
                if s[k]:
                    probs.append("%s: from node %d: %s=%d" % (name, s["nodeid"], k, s[k]))
            if s["resyncs"] and not allow_resync:
                probs.append("%s: from node %d: resyncs=%d (a membership change)"
                             % (name, s["nodeid"], s["resyncs"]))
        if r.get("unknown_senders"):
            probs.append("%s: unknown_senders=%d" % (name, r["unknown_senders"]))
    return probs



# --------------------------------------------------------------------------
# test harness
# --------------------------------------------------------------------------

class Checker:
    """say()/check() with times relative to the test's start."""

    def __init__(self):
        self.t0 = time.monotonic()

    def say(self, msg):
        print("[%6.1fs] %s" % (time.monotonic() - self.t0, msg), flush=True)

    def check(self, cond, msg):
        if not cond:
            raise AssertionError(msg)
        self.say("ok: " + msg)


def run_test(name, scenario, **cluster_kw):
    """Create a cluster, run scenario(cluster, checker), collect logs on
    failure, destroy it and assert nothing is left.  Returns the exit code
    (0 pass, 1 fail, 77 skip; 1 for a skip under CI=true)."""
    ck = Checker()
    c = Cluster(**cluster_kw)
    try:
        c.create()
    except dllab.LabSkip as e:
        dllab.skip_or_fail(str(e))
    except dllab.LabError as e:
        ck.say("FAIL: setup: %s" % e)
        c.destroy()
        return 1
    ok = False
    snap = {}
    try:
        scenario(c, ck)
        ok = True
    except (AssertionError, dllab.LabError) as e:
        ck.say("FAIL: %s" % e)
    finally:
        snap = c.lab.process_snapshot()
        if not ok:
            try:
                dllab.report_failure(c.lab, name)
            except Exception as e:  # noqa
                ck.say("log collection failed: %s" % e)
        try:
            c.destroy()
        except dllab.LabError as e:
            ck.say("FAIL: %s" % e)
            ok = False
    left = dllab.leftovers(c.lab.id)
    alive = dllab.survivors(snap)
    if left or alive:
        ck.say("FAIL: left behind: %s %s" % (left, alive))
        return 1
    ck.say("ok: no namespace, loop device, process or file left behind")
    ck.say("%s %s (%.0f s)" % ("PASS" if ok else "FAIL", name, time.monotonic() - ck.t0))
    return 0 if ok else 1


def totem_timeouts(node):
    """(token, consensus) in ms as corosync runs them (cmap runtime.config)."""
    cm = cmap_get(node, "runtime.config.totem.")
    return cm["runtime.config.totem.token"], cm["runtime.config.totem.consensus"]


def sample_cluster(c, nodes):
    """One sample of what the tests watch: {node name: {'ring_id',
    'quorate', 'members'}} from corosync-quorumtool."""
    out = {}
    for nd in nodes:
        q = quorum_full(nd)
        out[nd.name] = None if q is None else {
            "ring_id": q.get("ring_id"), "quorate": q.get("quorate"),
            "members": q.get("members")}
    return out
