"""ctslab -- the CTS lab of tests/cts/dlcts.py: a dllab lab whose nodes are
CTS nodes (tests/cts/node-init), the exerciser namespace CTS runs in, the
power server the nodes' fence agent calls, and running CTSlab.py there.
See doc/cts.md ("The lab", "The disk as a node's only path")."""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import ctscommon  # noqa: F401  (puts tests/lab on sys.path)
import dllab  # noqa: E402
from ctscommon import HERE, log, run, write_exec

EXERCISER = "dlcts-x"
EXERCISER_ADDR = dllab.LINK0_NET + "250"
DISK_PORT = 5406               # corosync's default port of link 1



class CtsLab(dllab.Lab):
    """A dllab lab whose nodes are CTS nodes (node-init), plus the exerciser
    network namespace on the lab's bridge.  only_path: the id of a node
    whose link 0 is cut at the lab's switch for the whole run (the disk is
    its only path to the cluster); the exerciser reaches it by ssh through a
    ProxyCommand that enters the node's network namespace, not the bridge."""

    def __init__(self, work, builddir, nodes=3, disk=True, agent=True, only_path=None, **kw):
        super().__init__(nodes=nodes, **kw)
        self.only_path = only_path if disk else None
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
        if self.only_path:
            # the switch drops the node's port: its sends succeed, nothing
            # arrives, from before corosync first starts until the end
            self.node(self.only_path).cut("switch")
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
        peers = ["#flag %s" % self.isolate_flag, "#power %s" % self.power_sock,
                 "#agent /usr/sbin/%s" % self.fence_agent_name] + \
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
            if self.only_path:
                # not the cluster network: socat in the node's own netns
                # (bound at /root/.netns by exerciser_argv) to its sshd
                n = self.node(self.only_path)
                fh.write("Host %s %s\n\tProxyCommand nsenter --net=/root/.netns/%s "
                         "socat STDIO TCP:%s:22\n" % (n.name, n.addr0, n.netns, n.addr0))
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
            # with a /dev/shm of its own: its libqb blackbox (qb-disklinkd-*)
            # there would be, to CTS's FileAudit, a stale IPC file of a
            # stopped cluster stack (it runs while the stack is down)
            cfg["disklinkd"] = ["unshare", "-m", "--propagation", "private", "--",
                                "/bin/sh", "-ec", 'mount -t tmpfs -o size=16m,mode=1777 '
                                'dlshm /dev/shm; exec "$@"', "disklinkd",
                                self.prog("disklinkd"), "--device", self.loops[0],
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
            # its modules and shared helpers (agent/dl-*), found beside it
            for mod in glob.glob(os.path.join(os.path.dirname(HERE), "..", "agent", "dl-*")):
                shutil.copy(mod, os.path.join(ocf, "disklink"))
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
        os.makedirs(os.path.join(self.cdir, "root", ".netns"), exist_ok=True)
        script = ("set -e; mount --bind %s /etc/hosts; mount --bind %s /root; "
                  "mount --rbind /run/netns /root/.netns; "
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



WRAPPER = r'''
import os, runpy, sys
sys.path.insert(0, %(work)r)
import cts.CIB
from cts.cib_xml import Resource, Clone, Group
_orig = cts.CIB.CIB12.add_resources


def add_resources_only_path(self):
    # CTS 2.1.5's add_resources (CIB.py) without what needs the network a
    # node has lost: the IPaddr2 resources become Dummy ones (an address on
    # a cut link is up but unreachable), no ping clone (it pings the
    # exerciser over the cut link) and so no "connected" rule on the
    # promotable clone.
    self.CM.Env["IPagent"] = "Dummy"
    for node in self.CM.Env["nodes"]:
        r = self.NewIP("rsc_" + node)
        r.prefer(node, "100")
        r.commit()
    m = Resource(self.Factory, "migrator", "Dummy", "ocf", "pacemaker")
    m["passwd"] = "whatever"
    m.add_meta("resource-stickiness", "1")
    m.add_meta("allow-migrate", "1")
    m.add_op("monitor", "P10S")
    m.commit()
    s = Resource(self.Factory, "stateful-1", "Stateful", "ocf", "pacemaker")
    s.add_op("monitor", "15s", timeout="60s")
    s.add_op("monitor", "16s", timeout="60s", role="Promoted")
    ms = Clone(self.Factory, "promotable-1", s)
    ms["promotable"] = "true"
    ms["clone-max"] = self.num_nodes
    ms["clone-node-max"] = 1
    ms["promoted-max"] = 1
    ms["promoted-node-max"] = 1
    ms.commit()
    g = Group(self.Factory, "group-1")
    for _ in range(3):
        g.add_child(self.NewIP())
    g.after("promotable-1", first="promote", then="start")
    g.colocate("promotable-1", "INFINITY", withrole="Promoted")
    g.commit()
    lsb = Resource(self.Factory, "lsb-dummy", "LSBDummy", "lsb")
    lsb.add_op("monitor", "5s")
    lsb.after("group-1")
    lsb.colocate("group-1")
    lsb.commit()


if %(only_path)r:
    # CTS deems a node booted when it answers a ping from the exerciser;
    # the only-path node's network is cut, so its own network stack answers
    # (the same address, pinged inside its netns).  Its sshd is checked too.
    import cts.CTS
    from cts.remote import RemoteFactory
    _booted = cts.CTS.NodeStatus.IsNodeBooted

    def is_node_booted(self, node):
        if node not in %(only_path_nodes)r:
            return _booted(self, node)
        return RemoteFactory().getInstance()(
            "localhost", "nsenter --net=/root/.netns/%%s ping -nq -c1 -w1 %%s"
            %% %(only_path_nodes)r[node], silent=True) == 0
    cts.CTS.NodeStatus.IsNodeBooted = is_node_booted


def add_resources(self):
    if %(only_path)r:
        add_resources_only_path(self)
    else:
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


def run_cts(lab, tests, outfile, timeout, seed, splitbrain_wait=300, extra=()):
    """CTS (CTSlab.py through WRAPPER) in the exerciser, bounded by timeout;
    CTS's own log is outfile, its stdout/stderr outfile.stderr."""
    wrapper = os.path.join(lab.cdir, "cts-run.py")
    with open(wrapper, "w") as fh:
        fh.write(WRAPPER % {
            "work": lab.work, "agent": lab.agent, "only_path": bool(lab.only_path),
            "only_path_nodes": {n.name: (n.netns, n.addr0) for n in lab.nodes
                                if n.id == lab.only_path},
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
    env = dict(os.environ, DLCTS_SPLITBRAIN_COUNT=str(max(1, splitbrain_wait // 10)))
    with open(outfile + ".stderr", "w") as err:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                             start_new_session=True, env=env)
    try:
        rc = _wait_cts(p, timeout)
    except BaseException:  # interrupted (SIGTERM, ^C): CTS must not outlive us
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise
    log("CTS exited with %d after %.0f s" % (rc, time.monotonic() - t0))
    return rc




def _wait_cts(p, timeout):
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log("CTS did not finish in %d s: stopping it (SIGTERM: CTS summarizes)" % timeout)
        os.killpg(p.pid, signal.SIGTERM)
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            rc = p.wait()
        return rc if rc else 124
