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
See doc/lab.md for the manual.  One module per concern:

  base      constants, LabError/LabTimeout/LabSkip, log()
  proc      run, wait_for, /proc (liveness, namespaces), kill, detached spawn
  corosync  corosync.conf text
  node      Node: namespaces + holder, disk, services, cut/restore, queries
  cluster   LabCluster (mixin of Lab): corosync/Pacemaker on the nodes
  lab       Lab: state dir, bridge, netns, loops, keys, fence agent, logs
  teardown  teardown_state_dir, leftovers, `lab cleanup`, owner-death handlers
  scenario  run_scenario, report_failure, skip_or_fail
  cli       the command line (tests/lab/lab, __main__.py)

`import dllab` gives every public name of these modules (dllab.Lab,
dllab.wait_for ...), as the single-file dllab.py did.
"""

from .base import (CLEAN_ENV, FENCE_AGENT_SRC, HERE, HOST_PREFIX, LIB_PATH,
                   LINK0_NET, LOOP_NET, NETNS_PREFIX, NODE_BINDS, PCMK_ENV,
                   STATE_BASE, STATE_GLOB, LabError, LabSkip, LabTimeout, log)
from .proc import (all_pids, daemon_pids, kill_pids, ns_inode, pids_in_ns,
                   proc_alive, proc_cmdline, proc_starttime, read_json, run,
                   spawn_detached, survivors, wait_for, write_atomic)
from .corosync import corosync_conf, loop_links
from .node import Node
from .cluster import LabCluster
from .lab import Lab, check_prereqs
from .teardown import (cleanup_labs, install_handlers, lab_dirs, lab_list,
                       leftovers, teardown_state_dir)
from .scenario import (SKIP, artifacts_dir, report_failure, run_scenario,
                       skip_or_fail)
from .cli import main

__all__ = [
    "CLEAN_ENV", "FENCE_AGENT_SRC", "HERE", "HOST_PREFIX", "LIB_PATH",
    "LINK0_NET", "LOOP_NET", "NETNS_PREFIX", "NODE_BINDS", "PCMK_ENV",
    "STATE_BASE", "STATE_GLOB", "LabError", "LabSkip", "LabTimeout", "log",
    "all_pids", "daemon_pids", "kill_pids", "ns_inode", "pids_in_ns",
    "proc_alive", "proc_cmdline", "proc_starttime", "read_json", "run",
    "spawn_detached", "survivors", "wait_for", "write_atomic",
    "corosync_conf", "loop_links", "Node", "LabCluster", "Lab",
    "check_prereqs", "cleanup_labs", "install_handlers", "lab_dirs",
    "lab_list", "leftovers", "teardown_state_dir", "SKIP", "artifacts_dir",
    "report_failure", "run_scenario", "skip_or_fail", "main",
]
