"""dllab.base -- the lab's constants, errors and log line.

Every other module of the package imports from here; this module imports
nothing of the package.
"""

import os
import sys
import time

PKG_DIR = os.path.dirname(os.path.abspath(__file__))
HERE = os.path.dirname(PKG_DIR)         # tests/lab: fence_dllab, the CLI wrapper
# What the fence agent runs (`/usr/bin/python3 <lib> --lab DIR power ...`,
# recorded as "lib" in lab.json): the package's command line.
LIB_PATH = os.path.join(PKG_DIR, "__main__.py")
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


class LabSkip(LabError):
    pass


def log(msg):
    if os.environ.get("DLLAB_QUIET") != "1":
        sys.stderr.write("[dllab %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
        sys.stderr.flush()
