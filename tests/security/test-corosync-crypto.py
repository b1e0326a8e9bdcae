#!/usr/bin/python3
"""test-corosync-crypto: corosync mode without knet crypto, and nobody on
the knet end while corosync is stopped (doc/security.md).

A 2-node lab cluster (no Pacemaker) whose corosync.conf has crypto_cipher
and crypto_hash none, link 1 through disklinkd in corosync mode on the
unprivileged port 5406:
- disklinkd refuses the link: status says crypto "refused" with the reason
  in link_refused, refused_drops grows, and link 1 does not connect;
- the OCF agent's validate-all fails with OCF_ERR_CONFIGURED naming it,
  and its monitor turns the node's health attribute red;
- restarted with --allow-plaintext it relays (link 1 connects) and warns;
- corosync stopped on dl1: user nobody binds dl1's knet end
  (127.77.0.1:5406), sends 20 datagrams to dl2 and listens 3 s while dl2's
  corosync keeps sending to dl1: nothing reaches dl2 through the disk
  (dl1 counts 20 foreign_owner_drops), nobody receives nothing.
Failed first on the code before the guard and the owner check: the link
connected without crypto, and nobody's datagrams were relayed.

Exit 0 pass, 1 fail, 77 skip (1 instead of skip when CI=true).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
import dllab  # noqa: E402
import dlcluster as dc  # noqa: E402

NAME = "test-corosync-crypto"
AGENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "agent",
                     "disklink")

NOBODY = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[3])))
for k in range(20):
    s.sendto(b"NOBODY-%04d" % k + b"x" * 100, (sys.argv[2], int(sys.argv[3])))
s.settimeout(0.2)
got, end = 0, time.monotonic() + 3
while time.monotonic() < end:
    try:
        s.recvfrom(65535)
        got += 1
    except socket.timeout:
        pass
print(got)
"""


def status(nd):
    return dc.daemon_status(nd) or {}


def agent(c, nd, action):
    """The OCF agent (the source tree's) in node nd, on the running daemon."""
    env = dict(os.environ, OCF_ROOT="/usr/lib/ocf", OCF_RESOURCE_INSTANCE="dlsec",
               OCF_RESKEY_device=c.device, OCF_RESKEY_link=str(dc.DISK_LINK),
               OCF_RESKEY_control="/run/disklink/disklinkd.sock",
               OCF_RESKEY_binary=dc.disklinkd_bin(), OCF_RESKEY_tool=dc.disklink_bin(),
               HA_RSCTMP="/run/resource-agents")
    return nd.exec([AGENT, action], env=env, timeout=60)


def restart_daemon(c, nd, extra):
    nd.stop_service("disklinkd", timeout=20)
    nd.spawn(dc.daemon_argv(c.lab, nd, c.device, c.mode) + extra, name="disklinkd",
             boot=True, before="pacemaker")
    c.wait_daemon(nd)


def scenario(c, ck):
    n1, n2 = c.nodes
    if c.mode != "corosync":
        raise dllab.LabSkip("disklinkd has no corosync mode")
    for nd in c.nodes:
        nd.start_corosync()
    for nd in c.nodes:
        c.start_daemon(nd)
    c.lab.wait_quorate(timeout=60)

    # -- crypto off: refused -------------------------------------------------
    st = dllab.wait_for(lambda: status(n1) if status(n1).get("refused_drops", 0) > 0 else None,
                        30, 0.5, "dl1 refusing corosync's datagrams")
    ck.check(st.get("crypto") == "refused" and "allow_plaintext" in st.get("link_refused", ""),
             "dl1 refuses the link: crypto %r, link_refused %r" %
             (st.get("crypto"), st.get("link_refused")))
    ck.check(not dc.links_state(n2).get((n1.id, dc.DISK_LINK)),
             "link 1 from dl2 to dl1 is not connected")
    ck.check(all((p.get("dgrams_out", 0) == 0) for p in st.get("peers", [])),
             "nothing of dl1's knet was queued for the disk")
    with open(n1.host_path(dc.DAEMON_LOG)) as f:
        ck.check("refused: corosync's totem.crypto_hash is none" in f.read(),
                 "the refusal is logged in one line")
    cp = agent(c, n1, "validate-all")
    ck.check(cp.returncode == 6 and "link refused: corosync's totem.crypto_hash is none"
             in cp.stdout + cp.stderr,
             "the agent's validate-all fails (%d, OCF_ERR_CONFIGURED) naming the refusal"
             % cp.returncode)
    # The agent's monitor on a daemon it did not start (owned=0): health red.
    n1.exec(["/bin/sh", "-c", "mkdir -p /run/resource-agents/disklink-dlsec && "
             "echo owned=0 > /run/resource-agents/disklink-dlsec/state"])
    cp = agent(c, n1, "monitor")
    attrs = n1.exec(["cat", "/run/resource-agents/disklink-dlsec/attributes"]).stdout
    ck.check("#health-disklink=red" in attrs and "link refused" in cp.stdout + cp.stderr,
             "the agent's monitor (%d) sets #health-disklink red and logs the refusal"
             % cp.returncode)
    n1.exec(["rm", "-rf", "/run/resource-agents/disklink-dlsec"])

    # -- allow_plaintext: relayed, with a warning ------------------------------
    for nd in c.nodes:
        restart_daemon(c, nd, ["--allow-plaintext"])
    c.wait_links(timeout=60)
    ck.check(status(n1).get("crypto") == "plaintext" and status(n1).get("link_refused") == "",
             "with --allow-plaintext: crypto 'plaintext', nothing refused, link 1 connected")
    with open(n1.host_path(dc.DAEMON_LOG)) as f:
        ck.check("relays without knet crypto" in f.read(), "and a warning is logged")

    # -- corosync stopped on dl1: nobody on its knet end -----------------------
    n1.stop_corosync()
    before = status(n1)
    out2 = [p for p in status(n2).get("peers", []) if p["node_id"] == n1.id][0]["dgrams_in"]
    cp = n1.exec(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                  "/usr/bin/python3", "-c", NOBODY, n1.loop_addr, n2.loop_addr,
                  str(dc.DISK_PORT)], timeout=30)
    ck.check(cp.returncode == 0, "nobody bound dl1's knet end %s:%d (the premise): %s" %
             (n1.loop_addr, dc.DISK_PORT, cp.stderr.strip()))
    ck.check(cp.stdout.strip() == "0", "nobody received %s datagrams of dl2's corosync"
             % cp.stdout.strip())
    after = status(n1)
    drops = after.get("foreign_owner_drops", 0) - before.get("foreign_owner_drops", 0)
    ck.check(drops >= 20, "dl1 counted %d foreign_owner_drops (>= 20)" % drops)
    in2 = [p for p in status(n2).get("peers", []) if p["node_id"] == n1.id][0]["dgrams_in"]
    ck.check(in2 == out2, "dl2 delivered nothing from dl1 to its knet (%d -> %d)" % (out2, in2))


if __name__ == "__main__":
    sys.exit(dc.run_test(NAME, scenario, nodes=2, crypto=False))
