#!/usr/bin/python3
"""test-disklink-nodedeath: a node that really dies is still declared dead.

The disk link must not keep a dead node in the membership.  In a 3-node
cluster (crypto on, fencing on, link 1 through disklinkd), dl1's network
link is cut (the disk carries it: ring id unchanged), then its disklinkd is
killed with SIGKILL by pid inside the node: dl1 has no path left.  dl2 and
dl3 must form the membership {2, 3} within token + consensus (as corosync
runs them, from cmap) plus a generous margin -- and not before the token
expired -- and dl1 must be fenced exactly once.  The fence agent's reboot
powers dl1 on again; its boot services (corosync, disklinkd, pacemaker)
bring it back into the membership through the disk alone, its network still
cut; nobody is fenced again.

Exit 0 pass, 1 fail, 77 skip (1 instead of skip when CI=true).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dllab  # noqa: E402
import dlcluster as dc  # noqa: E402

NAME = "test-disklink-nodedeath"
MARGIN_S = 10.0     # scheduling on a busy 2-core host, not a performance bound


def scenario(c, ck):
    lab = c.lab
    n1, n2, n3 = c.nodes
    c.start()
    token, consensus = dc.totem_timeouts(n2)
    ck.say("corosync runs token %d ms, consensus %d ms (cmap runtime.config.totem)"
           % (token, consensus))
    ring = dc.ring_id(n2)

    n1.cut()
    ck.say("cut dl1's link 0")
    dllab.wait_for(lambda: all(not dc.links_state(nd).get((1, 0)) for nd in (n2, n3)),
                      30, 0.5, "link 0 to dl1 down on dl2 and dl3")
    ck.check(all(dc.links_state(nd).get((1, 1)) for nd in (n2, n3)),
             "link 0 to dl1 down, link 1 up on dl2 and dl3 (cmap)")
    ck.check(all(dc.ring_id(nd) == ring for nd in c.nodes) and lab.fencings() == [],
             "ring id still %s, nobody fenced: the disk carries dl1" % ring)

    pid = n1.pid_of("disklinkd")
    ck.check(pid is not None, "dl1's disklinkd runs (pid %s)" % pid)
    boots = n1.state().get("boots", 0)
    t_kill = time.monotonic()
    n1.exec(["kill", "-KILL", str(pid)], check=True)
    ck.say("SIGKILL to dl1's disklinkd (pid %d, inside dl1): no path left to dl1" % pid)

    def left():
        for nd in (n2, n3):
            q = dc.quorum_full(nd)
            if not q or q["members"] != [2, 3] or not q["quorate"]:
                return None
        return time.monotonic()
    t_left = dllab.wait_for(left, (token + consensus) / 1000.0 + MARGIN_S + 20, 0.2,
                            "membership {2,3} on dl2 and dl3")
    dt = t_left - t_kill
    limit = (token + consensus) / 1000.0 + MARGIN_S
    ck.check(dt <= limit, "dl2 and dl3 formed the quorate membership {2,3} %.1f s after "
             "the kill (token + consensus = %.1f s, limit %.1f s)"
             % (dt, (token + consensus) / 1000.0, limit))
    ck.check(dt >= token / 1000.0 * 0.8, "... and not before the token (%d ms) could "
             "expire" % token)
    new_ring = dc.ring_id(n2)
    ck.check(new_ring != ring and dc.ring_id(n3) == new_ring,
             "dl2 and dl3 share a new ring id %s (was %s)" % (new_ring, ring))
    for nd in (n2, n3):
        ck.check(nd.cmap_members() == [2, 3], "%s: cmap runtime.members = 2 3" % nd.name)

    f = dllab.wait_for(lambda: lab.fencings("dl1"), 60, 0.5, "fencing of dl1")
    ck.say("dl1 fenced %.1f s after the kill: %s by %s"
           % (time.monotonic() - t_kill, f[0]["action"], f[0]["by"]))

    # the reboot starts dl1's boot services: corosync, disklinkd, pacemaker;
    # with its network still cut it rejoins through the disk
    dllab.wait_for(lambda: n1.is_on() and n1.state().get("boots", 0) > boots, 60, 0.5,
                   "dl1 powered on again")
    # The fence agent's process starts the boot services after the
    # holder is up (boots counts the holder): wait for the new daemon.
    try:
        new = dllab.wait_for(lambda: n1.pid_of("disklinkd") not in (None, pid), 60, 0.2,
                             "a new disklinkd on dl1")
    except dllab.LabError:
        new = False
    ck.check(new, "the power-on started a new disklinkd on dl1 (a boot service)")
    lab.wait_quorate(members=[1, 2, 3], timeout=90)
    ck.check(all(dc.quorum_full(nd)["members"] == [1, 2, 3] for nd in c.nodes),
             "dl1 rejoined through the disk alone: all nodes quorate with 1 2 3")
    ck.check(n1.is_cut(), "dl1's network is still cut")
    lab.wait_online(timeout=90)
    ck.say("Pacemaker: all nodes online")
    n1.restore()
    c.wait_links(link=0, timeout=60)
    ck.say("restored dl1's link 0: connected everywhere")
    time.sleep(3)   # a late second fencing would show up here
    ck.check(len(lab.fencings("dl1")) == 1, "dl1 fenced exactly once")
    ck.check(len(lab.fencings()) == 1, "nobody else fenced")


if __name__ == "__main__":
    sys.exit(dc.run_test(NAME, scenario))
