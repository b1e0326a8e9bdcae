"""dllab.node -- one lab node: a network namespace plus its own mount and UTS
namespaces, kept alive by a *holder* process (its "power"), with its own
"disk" (bind-mounted dirs of the state dir), services started at boot, link 0
cut/restore, and the cluster stack's views of it (quorum, cmap, crm_mon)."""

import json
import os
import re
import shutil
import signal
import time
import xml.etree.ElementTree as ET

from .base import (CLEAN_ENV, HOST_PREFIX, LINK0_NET, LOOP_NET, NETNS_PREFIX,
                   NODE_BINDS, PCMK_ENV, LabError)
from .proc import (_Lock, _read_int, kill_pids, ns_inode, pids_in_ns, proc_alive,
                   proc_cmdline, read_json, run, spawn_detached, wait_for,
                   write_atomic)


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

    def _off_why(self):
        """Why a node that was powered on no longer is (for the error):
        its holder's pid gone, or now another process's (not in the
        node's netns), with the end of holder.log."""
        st = self.state()
        pid = st.get("holder")
        if st.get("power") != "on" or not pid:
            return ""
        if not proc_alive(pid):
            why = "holder %d is gone" % pid
        else:
            why = "pid %d is now %r (netns %s, the node's %s)" % (
                pid, proc_cmdline(pid), ns_inode(pid, "net"),
                self.lab.netns_inode(self.netns))
        try:
            with open(os.path.join(self.dir, "holder.log")) as f:
                tail = f.read()[-300:].strip()
        except OSError:
            tail = ""
        return " (%s; powered on, boots=%s%s)" % (
            why, st.get("boots"), "; holder.log: " + tail if tail else "")

    def is_on(self):
        return self.holder is not None

    def status_line(self):
        """One line of `lab status`: netns, power, holder, cut, services."""
        st = self.state()
        return "%s netns=%s power=%s holder=%s cut=%s services=%s" % (
            self.name, self.netns, "on" if self.is_on() else "off", self.holder,
            self.is_cut(), {k: (v if proc_alive(v) else "dead")
                            for k, v in st["pids"].items()})

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

        pid = wait_for(lambda: _read_int(pidfile), timeout, 0.05, "holder of %s" % self.name)
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

    def power(self, action, services=True):
        """The power switch by hand: action off, on or reboot."""
        if action == "off":
            self.power_off()
        elif action == "on":
            self.power_on(services=services)
        elif action == "reboot":
            self.reboot(services=services)
        else:
            raise LabError("unknown power action %s" % action)

    # ---- commands -------------------------------------------------------
    def _nsenter(self, argv):
        pid = self.holder
        if not pid:
            raise LabError("%s is powered off%s" % (self.name, self._off_why()))
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

    def enter(self, argv, env=None):
        """Replace this process by argv run inside the node (the CLI's exec
        and shell): nsenter into the holder with env (default: ours)."""
        pid = self.holder
        if not pid:
            raise LabError("node is off")
        nsenter = ["nsenter", "-t", str(pid), "-n", "-m", "-u", "--"] + list(argv)
        if env is None:
            os.execvp("nsenter", nsenter)
        os.execvpe("nsenter", nsenter, env)

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

        pid = wait_for(lambda: _read_int(pidfile), timeout, 0.05, "start of %s on %s" % (name, self.name))

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

    def stop_stack(self):
        """Stop pacemaker then corosync and keep them from starting at the
        next boot (if the node is on)."""
        if not self.is_on():
            return
        self.stop_pacemaker()
        self.stop_corosync()
        self.disable_service("pacemaker")
        self.disable_service("corosync")

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
