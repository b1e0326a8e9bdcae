"""dllab.cli -- the lab's command line (`tests/lab/lab`, doc/lab.md):
argument parsing, then one call into Lab / Node / dllab.teardown per
command.  Exit 0 ok, 1 error, 77 cannot run here (power status: 2 = off)."""

import argparse
import os
import sys

from .base import CLEAN_ENV, STATE_BASE, LabError, LabSkip
from .corosync import loop_links
from .lab import Lab
from .node import Node
from .teardown import cleanup_labs, lab_list


def _parser():
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
    return p


def parse_loop(spec):
    """SIZE[:SECTOR] (64M, 1G:4096, 1048576) -> (bytes, sector size)."""
    size, _, ssz = spec.partition(":")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1:].upper(), 1)
    return (int(size.rstrip("KMGkmg")) * mult, int(ssz or 512))


def _create(a):
    lab = Lab(nodes=a.nodes, lab_id=a.id)
    lab.create_unowned(loops=[parse_loop(s) for s in a.loop],
                       crypto=not a.no_crypto, token=a.token, start=a.start)
    print(lab.dir)
    for l in lab.loops:
        print(l)
    return 0


def _power(lab, a):
    nd = lab.node(a.node)
    if a.action == "status":
        on = nd.is_on()
        print("on" if on else "off")
        return 0 if on else 2
    nd.power(a.action, services=not a.no_services)
    return 0


def _conf(lab, a):
    links = loop_links([nd.id for nd in lab.nodes]) if a.loop_link else None
    sys.stdout.write(lab.write_corosync_conf(crypto=not a.no_crypto,
                                             token=a.token, links=links))
    return 0


def _destroy(lab, a):
    probs = lab.teardown()
    for pr in probs:
        print("left behind: " + pr)
    return 1 if probs else 0


def _out(text):
    sys.stdout.write(text)
    return 0


def _exec(lab, a):
    argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
    lab.node(a.node).enter(argv, env=dict(os.environ, **CLEAN_ENV))


# Commands on an existing lab: (lab, parsed args) -> exit status.
ON_LAB = {
    "status": lambda lab, a: _out(lab.status_text()),
    "exec": _exec,
    "shell": lambda lab, a: lab.node(a.node).enter(["/bin/bash", "-i"]),
    "cut": lambda lab, a: lab.node(a.node).cut(a.method),
    "restore": lambda lab, a: lab.node(a.node).restore(),
    "power": _power,
    "conf": _conf,
    "start": lambda lab, a: lab.start_cluster(pacemaker=not a.corosync_only,
                                              nodes=lab.select(a.nodes)),
    "stop": lambda lab, a: lab.stop_cluster(lab.select(a.nodes)),
    "configure": lambda lab, a: lab.configure_pacemaker(),
    "wait": lambda lab, a: lab.wait_cluster(timeout=a.timeout),
    "fence-log": lambda lab, a: _out(lab.fence_log_text()),
    "logs": lambda lab, a: print(lab.collect_logs(a.dir)),
    "destroy": _destroy,
}


def main(argv=None):
    a = _parser().parse_args(argv)
    try:
        if a.cmd == "create":
            return _create(a)
        if a.cmd == "list":
            for line in lab_list():
                print(line)
            return 0
        if a.cmd == "cleanup":
            return cleanup_labs(a.ids, a.force)
        return ON_LAB[a.cmd](Lab.find(a.lab), a) or 0
    except LabSkip as e:
        print("lab: cannot run here: %s" % e, file=sys.stderr)
        return 77
    except LabError as e:
        print("lab: %s" % e, file=sys.stderr)
        return 1
