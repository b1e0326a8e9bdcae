"""What the lab tests of a disk link added to a running corosync share
(tests/init/test-link-add-lab.py, tests/vnic/test-vnic-corosync.py): the
programs, the link's port, the log lines, corosync-cfgtool's link states,
disklink status, and the nodelist edit of the reload tests."""

import json
import os
import re
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(os.environ.get("top_builddir", os.path.join(HERE, "..", "..")))
DL = os.path.join(BUILD, "knet-transport", "disklink")
DLD = os.path.join(BUILD, "knet-transport", "disklinkd")
# disklink corosync-link gives link N the privileged port 405 + N.
LINK_PORT = 406
T0 = time.monotonic()


def say(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
    say("ok: " + msg)


def links(nd):
    """corosync-cfgtool -s -> {link: {nodeid: status}}."""
    out, cur = {}, None
    for line in nd.link_status().splitlines():
        m = re.match(r"LINK ID (\d+)", line)
        if m:
            cur = out.setdefault(int(m.group(1)), {})
            continue
        m = re.match(r"\s*nodeid:\s+(\d+):\s+(\S+)", line)
        if m and cur is not None:
            cur[int(m.group(1))] = m.group(2)
    return out


def status(nd):
    """disklink status --json on node nd, or None."""
    cp = nd.exec([DL, "status", "--json"], timeout=15)
    if cp.returncode != 0:
        return None
    try:
        return json.loads(cp.stdout)
    except ValueError:
        return None


def link1_up(nodes):
    """corosync-cfgtool -s: link 1 connected from every node to every other."""
    for nd in nodes:
        l1 = links(nd).get(1, {})
        if any(l1.get(p.id) != "connected" for p in nodes if p is not nd):
            return False
    return True


def daemons_follow(nodes, addr_of, port):
    """Each disklinkd: corosync connected, link 1 on addr_of(its id) and
    port, the others its peers (at addr_of theirs), up."""
    for nd in nodes:
        st = status(nd)
        if not st or st.get("corosync") != "connected" or st.get("link") != 1:
            return False
        if st["local_addr"] != addr_of(nd.id) or st["port"] != port:
            return False
        want = sorted((p.id, addr_of(p.id)) for p in nodes if p is not nd)
        got = sorted((p["node_id"], p["addr"]) for p in st["peers"])
        if got != want or any(p["state"] != "up" for p in st["peers"]):
            return False
    return True


def drop_node3(nd):
    """Node 3 out of nd's corosync.conf (the whole file kept as
    with-node3.conf for restore_node3); the new file's text."""
    nd.sh("cp /etc/corosync/corosync.conf /etc/corosync/with-node3.conf && "
          "awk '/^\tnode \\{/ { blk = $0; getline; if ($0 ~ /name: dl3$/) skip = 1; "
          "else print blk } skip && /^\t\\}/ { skip = 0; next } !skip' "
          "/etc/corosync/with-node3.conf > /etc/corosync/corosync.conf")
    return nd.sh("cat /etc/corosync/corosync.conf")


def restore_node3(nd):
    nd.sh("mv /etc/corosync/with-node3.conf /etc/corosync/corosync.conf")
