#!/usr/bin/python3
"""dlcts -- Pacemaker's Cluster Test Suite (CTS lab, pacemaker 2.1.5) against
a disklink cluster of namespace nodes.  See doc/cts.md.

  dlcts.py prepare WORK            get CTS from Debian's pacemaker source
                                   package and configure it into WORK
  dlcts.py run WORK [options]      build a lab, run CTS tests, print CTS's
                                   verdicts, tear everything down

The lab is tests/lab/dllab.py's (imported, not changed): nodes dl1..dlN with
their own network, mount and UTS namespaces, link 0 on a link-local bridge,
link 1 through disklinkd on a shared loop device.  On top of it each node
gets (tests/cts/node-init, its only boot service) its own PID namespace,
/dev/log with a syslog writing /var/log/messages, sshd, and the shims CTS
needs (service, iptables, cts-exec-helper, cts-support).  The exerciser runs
CTS in one more network namespace on the same bridge (169.254.77.250) and
reaches the nodes only by ssh over that bridge.

Python 3 standard library only; run as root.
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lab"))
import dllab  # noqa: E402

PCMK_VERSION = "2.1.5"
EXERCISER = "dlcts-x"
EXERCISER_ADDR = dllab.LINK0_NET + "250"
DISK_PORT = 5406               # corosync's default port of link 1
# The tests `make cts` runs (CTS names), in this order.
DEFAULT_TESTS = ["StartOnebyOne", "SimulStart", "StopOnebyOne", "Restart",
                 "ComponentFail", "Standby", "ResourceRecover", "SplitBrain"]


def log(msg):
    sys.stderr.write("[dlcts %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def run(argv, **kw):
    kw.setdefault("check", True)
    return subprocess.run(argv, **kw)


# --------------------------------------------------------------------------
# prepare: CTS from Debian's source package
# --------------------------------------------------------------------------

SOURCES = "/etc/apt/sources.list.d/dlcts-deb-src.sources"


def have_deb_src():
    for f in glob.glob("/etc/apt/sources.list.d/*.sources") + \
            glob.glob("/etc/apt/sources.list.d/*.list") + ["/etc/apt/sources.list"]:
        try:
            with open(f) as fh:
                text = fh.read()
        except OSError:
            continue
        if re.search(r"^\s*Types:.*\bdeb-src\b", text, re.M) or \
                re.search(r"^\s*deb-src\s", text, re.M):
            return True
    return False


def ensure_deb_src():
    """Add a deb-src entry with the URIs/suites of the system's deb entries."""
    if have_deb_src():
        return False
    stanzas = []
    for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(f) as fh:
            for st in fh.read().split("\n\n"):
                if re.search(r"^Types:\s*deb\s*$", st, re.M) and \
                        re.search(r"^URIs:.*debian", st, re.M):
                    stanzas.append(re.sub(r"^Types:.*$", "Types: deb-src", st.strip(), flags=re.M))
    if not stanzas:
        raise SystemExit("dlcts: no Debian deb entry in /etc/apt/sources.list.d/*.sources "
                         "to derive a deb-src entry from; add one by hand")
    with open(SOURCES, "w") as fh:
        fh.write("# added by disklink's tests/cts (make cts): Debian sources\n" +
                 "\n\n".join(stanzas) + "\n")
    return True


def ensure_packages():
    """sshd and ping for the nodes and the exerciser (Debian packages)."""
    need = [p for p, tool in (("openssh-server", "/usr/sbin/sshd"),
                              ("openssh-client", "/usr/bin/ssh"),
                              ("iputils-ping", "/usr/bin/ping"),
                              ("psmisc", "/usr/bin/killall"))
            if not os.path.exists(tool)]
    if need:
        log("installing %s" % " ".join(need))
        # policy-rc.d keeps the package from starting sshd in the root
        # namespaces (Debian's postinst asks invoke-rc.d first).
        made = False
        if not os.path.exists("/usr/sbin/policy-rc.d"):
            with open("/usr/sbin/policy-rc.d", "w") as fh:
                fh.write("#!/bin/sh\nexit 101\n")
            os.chmod("/usr/sbin/policy-rc.d", 0o755)
            made = True
        try:
            run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + need,
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        finally:
            if made:
                os.unlink("/usr/sbin/policy-rc.d")


def fetch_source(work):
    src = os.path.join(work, "src")
    tree = os.path.join(src, "pacemaker-" + PCMK_VERSION)
    if os.path.isdir(os.path.join(tree, "cts", "lab")):
        return tree
    os.makedirs(src, exist_ok=True)
    if ensure_deb_src() or not glob.glob("/var/lib/apt/lists/*_Sources"):
        run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
    run(["apt-get", "source", "-q", "pacemaker=" + run(
        ["dpkg-query", "-W", "-f", "${Version}", "pacemaker"],
        capture_output=True, text=True).stdout.strip()], cwd=src)
    if not os.path.isdir(os.path.join(tree, "cts", "lab")):
        raise SystemExit("dlcts: apt-get source pacemaker gave no %s/cts/lab" % tree)
    return tree


def subst(text, values):
    for k, v in values.items():
        text = text.replace("@%s@" % k, v)
    left = re.findall(r"@[A-Za-z_]+@", text)
    return text, left


def prepare(work):
    """Get CTS and configure it (what its configure step would substitute)."""
    work = os.path.abspath(work)
    if os.geteuid() != 0:
        dllab.skip_or_fail("make cts needs root (apt-get, namespaces, loop devices)")
    ensure_packages()
    tree = fetch_source(work)
    lab = os.path.join(tree, "cts", "lab")
    support = os.path.join(tree, "cts", "support")
    ctsdir = os.path.join(work, "cts")           # the python package 'cts'
    libexec = os.path.join(work, "libexec")       # CTSvars.CRM_DAEMON_DIR
    nsbin = os.path.join(work, "node-sbin")       # overlay on the nodes' /usr/sbin
    ninit = os.path.join(work, "node-init.d")     # overlay on /etc/init.d
    for d in (ctsdir, libexec, nsbin, ninit):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    values = {
        "PYTHON": "/usr/bin/python3", "BASH_PATH": "/bin/bash",
        "datadir": work, "PACKAGE": "pacemaker",
        "CRM_CONFIG_DIR": "/var/lib/pacemaker/cib",
        "CRM_LOG_DIR": "/var/log/pacemaker", "CRM_DAEMON_USER": "hacluster",
        "CRM_DAEMON_DIR": libexec, "OCF_ROOT_DIR": "/usr/lib/ocf",
        "PCMK__COROSYNC_CONF": "/etc/corosync/corosync.conf",
    }
    for f in sorted(os.listdir(lab)):
        p = os.path.join(lab, f)
        if f.endswith(".py"):
            shutil.copy(p, ctsdir)
        elif f in ("CTSvars.py.in", "CTSlab.py.in"):
            with open(p) as fh:
                text, left = subst(fh.read(), values)
            if left:
                raise SystemExit("dlcts: %s: unsubstituted %s" % (f, left))
            with open(os.path.join(ctsdir, f[:-3]), "w") as fh:
                fh.write(text)
    # CTSvars.CTS_home: where CTSlab.py is
    cv = os.path.join(ctsdir, "CTSvars.py")
    with open(cv) as fh:
        text = fh.read()
    text = re.sub(r'CTS_home=.*', 'CTS_home="%s"' % ctsdir, text)
    text = re.sub(r'Fencing_home=.*', 'Fencing_home="%s"' % ctsdir, text)
    with open(cv, "w") as fh:
        fh.write(text)
    patch_splitbrain(os.path.join(ctsdir, "CTStests.py"))
    # helpers the nodes run from CRM_DAEMON_DIR
    with open(os.path.join(lab, "cts-log-watcher.in")) as fh:
        text, _ = subst(fh.read(), values)
    write_exec(os.path.join(libexec, "cts-log-watcher"), text)
    for f in ("cts-exec-helper", "cts-support"):
        shutil.copy(os.path.join(HERE, "node", "libexec", f), libexec)
    # support files cts-support would install: fence_dummy (+ aliases) and LSBDummy
    with open(os.path.join(support, "fence_dummy.in")) as fh:
        text, _ = subst(fh.read(), values)
    write_exec(os.path.join(nsbin, "fence_dummy"), text)
    for alias in ("auto_unfence", "no_reboot", "no_on"):
        os.symlink("fence_dummy", os.path.join(nsbin, "fence_dummy_" + alias))
    with open(os.path.join(support, "LSBDummy.in")) as fh:
        text, left = subst(fh.read(), values)
    write_exec(os.path.join(ninit, "LSBDummy"), text)
    for f in ("service", "iptables", "fence_dlcts"):
        shutil.copy(os.path.join(HERE, "node", "sbin", f), nsbin)
    with open(os.path.join(work, "prepared"), "w") as fh:
        fh.write("pacemaker %s CTS from %s\n" % (PCMK_VERSION, tree))
    log("CTS configured in %s" % ctsdir)
    return work


def patch_splitbrain(path):
    """CTS 2.1.5's SplitBrain waits for the partitions in a loop that never
    counts down (`count` is not decremented), so a cluster that does not
    split keeps it waiting forever instead of reporting "Expected partitions
    were not created".  Count down as the loops after it do (30 x 10 s)."""
    with open(path) as fh:
        text = fh.read()
    old = ("        count = 30\n        while count > 0:\n"
           "            if len(self.CM.find_partitions()) != p_max:\n"
           "                time.sleep(10)\n            else:\n")
    new = ("        count = 30\n        while count > 0:\n"
           "            if len(self.CM.find_partitions()) != p_max:\n"
           "                time.sleep(10)\n"
           "                count -= 1  # dlcts: the upstream loop never counted down\n"
           "            else:\n")
    if old not in text:
        raise SystemExit("dlcts: SplitBrain loop not found in %s (another CTS version?)" % path)
    with open(path, "w") as fh:
        fh.write(text.replace(old, new, 1))


def write_exec(path, text):
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o755)


# --------------------------------------------------------------------------
# the lab
# --------------------------------------------------------------------------

class CtsLab(dllab.Lab):
    """A dllab lab whose nodes are CTS nodes (node-init), plus the exerciser
    network namespace on the lab's bridge."""

    def __init__(self, work, builddir, nodes=3, disk=True, agent=True, **kw):
        super().__init__(nodes=nodes, **kw)
        self.work = os.path.abspath(work)
        self.builddir = os.path.abspath(builddir) if builddir else None
        self.disk = disk
        self.agent = agent and disk
        self.cdir = os.path.join(self.dir, "cts")   # lab-private CTS files
        self.xns = "%s%s-x" % (dllab.NETNS_PREFIX, self.id)
        self.isolate_flag = os.path.join(self.dir, "ISOLATE_DISK")
        self.power_sock = os.path.join(self.cdir, "power.sock")

    def prog(self, name):
        p = os.path.join(self.builddir or "", "knet-transport", name)
        if not os.path.exists(p):
            raise dllab.LabError("%s not built (%s); run make first" % (name, p))
        return p

    def setup(self):
        loops = [(64 << 20, 4096)] if self.disk else []
        self.create(loops=loops)
        os.makedirs(self.cdir)
        links = [{"priority": 2}]
        if self.disk:
            links.append({"addrs": {n.id: n.loop_addr for n in self.nodes},
                          "priority": 1, "mcastport": DISK_PORT})
            run([self.prog("disklink"), "format", self.loops[0], "--cluster", "dllab",
                 "--slots", "4"], stdout=subprocess.DEVNULL)
        text = dllab.corosync_conf([n.id for n in self.nodes], links=links, token=1000)
        text = text.replace("\tto_syslog: no", "\tto_syslog: yes\n\tsyslog_facility: daemon")
        hosts = ["127.0.0.1 localhost"] + ["%s %s" % (n.addr0, n.name) for n in self.nodes] + \
                ["%s %s" % (EXERCISER_ADDR, EXERCISER)]
        peers = ["#flag %s" % self.isolate_flag, "#power %s" % self.power_sock] + \
                ["%s %s %s" % (n.name, n.addr0, n.loop_addr) for n in self.nodes]
        self._ssh_keys()
        PowerServer(self).start()
        for n in self.nodes:
            n.write_file("/etc/corosync/corosync.conf", text)
            n.write_file("/etc/hosts", "\n".join(hosts) + "\n")
            n.write_file("/etc/corosync/dlcts-peers", "\n".join(peers) + "\n")
            cfg = self._node_config(n)
            # node-init is the node's only boot service: started now, and at
            # every power-on (a fence agent's reboot) from then on
            n.spawn([os.path.join(HERE, "node-init"), cfg], name="node-init", boot=True)
        self._exerciser()
        for n in self.nodes:
            dllab.wait_for(lambda: self.ssh(n.name, "true", timeout=10).returncode == 0,
                           60, 1, "sshd on %s" % n.name)
        log("lab %s: %d CTS nodes up (%s), exerciser %s" % (
            self.id, self.n, self.dir, EXERCISER_ADDR))

    def _ssh_keys(self):
        d = os.path.join(self.cdir, "root", ".ssh")
        os.makedirs(d, mode=0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dlcts-exerciser",
             "-f", os.path.join(d, "id_ed25519")])
        shutil.copy(os.path.join(d, "id_ed25519.pub"), os.path.join(self.cdir, "authorized_keys"))
        with open(os.path.join(d, "config"), "w") as fh:
            fh.write("Host *\n\tStrictHostKeyChecking no\n\tUserKnownHostsFile /dev/null\n"
                     "\tLogLevel ERROR\n\tBatchMode yes\n\tIdentityFile ~/.ssh/id_ed25519\n"
                     "\tControlMaster auto\n\tControlPath /run/dlcts-ssh-%r@%h\n"
                     "\tControlPersist 600\n")
        with open(os.path.join(self.cdir, "hosts"), "w") as fh:
            fh.write("127.0.0.1 localhost\n%s %s\n" % (EXERCISER_ADDR, EXERCISER) +
                     "".join("%s %s\n" % (n.addr0, n.name) for n in self.nodes))

    def _node_config(self, n):
        nd = os.path.join(self.cdir, n.name)
        os.makedirs(nd)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@" + n.name,
             "-f", os.path.join(nd, "ssh_host_ed25519_key")])
        sshd = os.path.join(nd, "sshd_config")
        with open(sshd, "w") as fh:
            fh.write("\n".join([
                "ListenAddress %s" % n.addr0, "Port 22",
                "HostKey %s/ssh_host_ed25519_key" % nd,
                "PermitRootLogin prohibit-password", "PubkeyAuthentication yes",
                "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", "PrintMotd no", "UseDNS no",
                "AuthorizedKeysFile %s/authorized_keys" % self.cdir,
                "PidFile /run/sshd-dlcts.pid", "MaxStartups 200", "MaxSessions 200",
                "LogLevel INFO", "SyslogFacility AUTH", ""]))
        overlays = {"/usr/sbin": os.path.join(self.work, "node-sbin"),
                    "/etc/init.d": os.path.join(self.work, "node-init.d")}
        cfg = {"name": n.name, "sshd_config": sshd, "overlays": overlays}
        if self.disk:
            # explicit mode: the node's link-1 address and port, its peers'
            # (the corosync mode, --link 1, is not used here yet)
            cfg["disklinkd"] = [self.prog("disklinkd"), "--device", self.loops[0],
                                "--node-id", str(n.id), "--node-name", n.name,
                                "--port", str(DISK_PORT), "--local-addr", n.loop_addr,
                                "--foreground"]
            for m in self.nodes:
                if m is not n:
                    cfg["disklinkd"] += ["--peer", "%d=%s" % (m.id, m.loop_addr)]
        if self.agent:
            ocf = os.path.join(nd, "ocf")
            os.makedirs(os.path.join(ocf, "disklink"))
            with open(os.path.join(os.path.dirname(HERE), "..", "agent", "disklink")) as fh:
                text = fh.read()
            text = text.replace('DL_EXTRA_PATH=""', 'DL_EXTRA_PATH="%s"' %
                                os.path.join(self.builddir, "knet-transport"), 1)
            write_exec(os.path.join(ocf, "disklink", "disklink"), text)
            overlays["/usr/lib/ocf/resource.d"] = ocf
        path = os.path.join(nd, "node.json")
        with open(path, "w") as fh:
            json.dump(cfg, fh, indent=1)
        return path

    def _exerciser(self):
        """Network namespace dllab<id>-x with a port on the lab's bridge."""
        self._add_netns(self.xns)
        br = ["ip", "-n", self.bridge_ns]
        dllab.run(br + ["link", "add", "vx", "type", "veth", "peer", "name", "eth0",
                        "netns", self.xns])
        dllab.run(br + ["link", "set", "vx", "master", "br0", "up"])
        dllab.run(["ip", "-n", self.xns, "addr", "add", EXERCISER_ADDR + "/24", "dev", "eth0"])
        dllab.run(["ip", "-n", self.xns, "link", "set", "eth0", "up"])
        dllab.run(["ip", "-n", self.xns, "link", "set", "lo", "up"])

    def exerciser_argv(self, argv):
        """argv run in the exerciser: its netns, a private mount namespace
        with the lab's /etc/hosts and a /root holding the ssh key, and its
        own hostname."""
        script = ("set -e; mount --bind %s /etc/hosts; mount --bind %s /root; "
                  "mount -t tmpfs tmpfs /run; hostname %s; cd /root; exec \"$@\""
                  % (os.path.join(self.cdir, "hosts"), os.path.join(self.cdir, "root"),
                     EXERCISER))
        return ["ip", "netns", "exec", self.xns, "unshare", "-m", "-u", "--propagation",
                "private", "--", "/bin/bash", "-c", script, "dlcts-x"] + list(argv)

    def ssh(self, node, cmd, timeout=60):
        return subprocess.run(self.exerciser_argv(
            ["ssh", "-l", "root", "-n", "-x", "-o", "ControlMaster=no", node, cmd]),
            capture_output=True, text=True, timeout=timeout)

    def set_disk_isolation(self, on):
        if on:
            open(self.isolate_flag, "w").close()
        elif os.path.exists(self.isolate_flag):
            os.unlink(self.isolate_flag)


class PowerServer(threading.Thread):
    """The lab's power switch as seen from nodes with their own PID namespace:
    fence_dlcts (on a node) sends its request here; we run the lab's
    fence_dllab_<id> with the same arguments and stdin in the calling node's
    network, mount and UTS namespaces (nsenter into its holder), i.e. in the
    root PID namespace, and send back its exit status and output."""

    def __init__(self, lab):
        super().__init__(daemon=True)
        self.lab = lab
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(lab.power_sock)
        os.chmod(lab.power_sock, 0o600)
        self.sock.listen(16)

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        rep = {"rc": 1, "stdout": "", "stderr": ""}
        try:
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buf += chunk
            req = json.loads(buf.decode())
            node = self.lab.node(req["node"])
            holder = node.holder
            if not holder:
                raise dllab.LabError("%s is powered off" % node.name)
            agent = "/usr/sbin/" + self.lab.fence_agent_name
            cp = subprocess.run(["nsenter", "-t", str(holder), "-n", "-m", "-u", "--", agent] +
                                [str(a) for a in req.get("args", [])],
                                input=req.get("stdin", ""), capture_output=True, text=True,
                                timeout=120, env=dllab.CLEAN_ENV)
            rep = {"rc": cp.returncode, "stdout": cp.stdout, "stderr": cp.stderr}
        except Exception as e:  # noqa: anything goes back to the agent as an error
            rep["stderr"] = "fence_dlcts power server: %s\n" % e
        try:
            conn.sendall(json.dumps(rep).encode())
        except OSError:
            pass
        conn.close()


# --------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------

WRAPPER = r'''
import os, runpy, sys
sys.path.insert(0, %(work)r)
import cts.CIB
from cts.cib_xml import Resource, Clone
_orig = cts.CIB.CIB12.add_resources

def add_resources(self):
    _orig(self)
    if %(agent)r:
        # disklink's own resource: the disk link under Pacemaker, one per node
        r = Resource(self.Factory, "disklink", "disklink", "ocf", "disklink")
        r["device"] = %(device)r
        r["link"] = "1"
        r["binary"] = %(disklinkd)r
        r["tool"] = %(tool)r
        r.add_op("monitor", "10s", timeout="30s")
        c = Clone(self.Factory, "disklink-clone", r)
        c["interleave"] = "true"
        c.commit()
cts.CIB.CIB12.add_resources = add_resources
sys.argv = [os.path.join(%(work)r, "cts", "CTSlab.py")] + sys.argv[1:]
sys.path[0] = os.path.join(%(work)r, "cts")
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def run_cts(lab, tests, outfile, timeout, seed, extra=()):
    wrapper = os.path.join(lab.cdir, "cts-run.py")
    with open(wrapper, "w") as fh:
        fh.write(WRAPPER % {
            "work": lab.work, "agent": lab.agent,
            "device": lab.loops[0] if lab.disk else "",
            "disklinkd": lab.prog("disklinkd") if lab.disk else "",
            "tool": lab.prog("disklink") if lab.disk else ""})
    nodes = " ".join(n.name for n in lab.nodes)
    args = ["--nodes", nodes, "--stack", "corosync", "--logfile", "/var/log/messages",
            "--outputfile", outfile, "--clobber-cib", "--populate-resources",
            "--test-ip-base", dllab.LINK0_NET + "200",
            "--stonith-type", "fence_dlcts",
            "--stonith-args", "pcmk_host_list=%s,pcmk_host_check=static-list" % nodes,
            "--at-boot", "0", "--yes", "--seed", str(seed), "--no-loop-tests"]
    if "SplitBrain" in tests:
        args.append("--experimental-tests")
    for t in tests:
        args += ["--choose", t]
    args += list(extra) + [str(len(tests))]
    argv = lab.exerciser_argv(["/usr/bin/python3", wrapper] + args)
    log("CTS: %s" % " ".join(args))
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log("CTS did not finish in %d s: stopping it (SIGTERM: CTS summarizes)" % timeout)
        os.killpg(p.pid, signal.SIGTERM)
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            rc = p.wait()
        rc = rc if rc else 124
    log("CTS exited with %d after %.0f s" % (rc, time.monotonic() - t0))
    return rc


VERDICT_RE = re.compile(r"(Running test |Test \S+ +FAILED|Overall Results|Test Summary|"
                        r"^.*Test \S+:\s+\{|BadNews:|Audit .* FAILED|TESTS COMPLETED|"
                        r"BEGINNING|Random Seed|Expected partitions|Cluster did not|"
                        r"Interrupted|Exception|Traceback|Warn: |ERROR)")


def verdicts(outfile):
    out = []
    try:
        with open(outfile, errors="replace") as fh:
            for line in fh:
                if " debug: " in line:
                    continue
                if VERDICT_RE.search(line):
                    out.append(line.rstrip()[:400])
    except FileNotFoundError:
        out.append("(no CTS output file %s)" % outfile)
    return out


def summary(outfile):
    """{'success': n, 'failure': n, ...} from CTS's 'Overall Results' line."""
    with open(outfile, errors="replace") as fh:
        for line in fh:
            m = re.search(r"Overall Results:(\{.*\})", line)
            if m:
                return eval(m.group(1), {"__builtins__": {}})  # CTS prints a dict repr
    return None


def cmd_run(a):
    if not os.path.exists(os.path.join(a.work, "prepared")):
        prepare(a.work)
    try:
        dllab.check_prereqs()
    except dllab.LabSkip as e:
        dllab.skip_or_fail(str(e))
    out_dir = os.path.abspath(a.output)
    os.makedirs(out_dir, exist_ok=True)
    results = []
    deadline = time.monotonic() + a.timeout
    phases = []
    if a.splitbrain_disk:
        phases.append(("splitbrain-disk-cut", ["SplitBrain"], True))
    if a.tests:
        phases.append(("main", a.tests, a.isolate_disk))
    for name, tests, isolate in phases:
        left = deadline - time.monotonic()
        if left < 120:
            log("no time left for phase %s" % name)
            results.append((name, None, ["(not run: total time bound reached)"]))
            continue
        lab = CtsLab(a.work, a.builddir, nodes=a.nodes, disk=not a.no_disk,
                     agent=not a.no_agent)
        outfile = os.path.join(out_dir, "cts-%s.log" % name)
        if os.path.exists(outfile):
            os.unlink(outfile)
        try:
            lab.setup()
            lab.set_disk_isolation(isolate)
            run_cts(lab, tests, outfile, int(left) - 60, a.seed)
        except dllab.LabError as e:
            log("lab error: %s" % e)
            dllab.report_failure(lab, "cts-" + name)
        finally:
            try:
                lab.collect_logs(os.path.join(out_dir, "lab-" + name))
            except Exception as e:  # noqa
                log("log collection: %s" % e)
            lab.destroy()
        results.append((name, outfile, verdicts(outfile)))
    rc = 0
    for name, outfile, lines in results:
        print("==== CTS phase %s (disk link %s)%s" % (
            name, "cut with the network" if name.endswith("disk-cut") or a.isolate_disk
            else "kept", "" if outfile is None else ": " + outfile))
        for l in lines:
            print(l)
        s = summary(outfile) if outfile and os.path.exists(outfile) else None
        print("==== %s: CTS Overall Results: %s" % (name, s))
        if s is None:
            rc = 1
    return rc


def main(argv=None):
    p = argparse.ArgumentParser(prog="dlcts", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare", help="get and configure CTS into WORK")
    pp.add_argument("work")
    r = sub.add_parser("run", help="build a lab and run CTS tests")
    r.add_argument("work")
    r.add_argument("--builddir", default=os.environ.get("top_builddir", "."),
                   help="build tree with knet-transport/disklinkd and disklink")
    r.add_argument("--nodes", type=int, default=3)
    r.add_argument("--tests", default=",".join(DEFAULT_TESTS),
                   help="comma-separated CTS test names ('' for none)")
    r.add_argument("--splitbrain-disk", action="store_true",
                   help="then SplitBrain again on a fresh lab, disk link cut too")
    r.add_argument("--isolate-disk", action="store_true",
                   help="cut the disk link with the network in the main phase")
    r.add_argument("--no-disk", action="store_true", help="no disk link (plain cluster)")
    r.add_argument("--no-agent", action="store_true", help="no ocf:disklink:disklink clone")
    r.add_argument("--timeout", type=int, default=3600, help="total time bound (s)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--output", default="cts-results")
    a = p.parse_args(argv)
    if a.cmd == "prepare":
        prepare(a.work)
        return 0
    a.tests = [t for t in a.tests.split(",") if t]
    return cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
