"""dllab.corosync -- the lab's corosync.conf text."""

from .base import HOST_PREFIX, LINK0_NET, LOOP_NET


def loop_links(nodes):
    """links= for corosync_conf(): link 0 on the bridge, link 1 (priority 1)
    on each node's loopback address 127.77.0.<id> (the disk link's end)."""
    return [{}, {"addrs": {i: LOOP_NET + str(i) for i in nodes}, "priority": 1}]


def _totem(cluster_name, links, token, crypto, extra_totem):
    t = ["totem {", "\tversion: 2", "\tcluster_name: %s" % cluster_name,
         "\ttransport: knet", "\ttoken: %d" % token, "\tlink_mode: passive"]
    if crypto:
        t += ["\tcrypto_cipher: aes256", "\tcrypto_hash: sha256",
              "\tcrypto_model: nss"]
    else:
        t += ["\tcrypto_cipher: none", "\tcrypto_hash: none"]
    for k, v in (extra_totem or {}).items():
        t.append("\t%s: %s" % (k, v))
    for n, l in enumerate(links):
        t.append("\tinterface {")
        t.append("\t\tlinknumber: %d" % n)
        if "priority" in l:
            t.append("\t\tknet_link_priority: %d" % l["priority"])
        if "mcastport" in l:
            t.append("\t\tmcastport: %d" % l["mcastport"])
        for k, v in l.get("options", {}).items():
            t.append("\t\t%s: %s" % (k, v))
        t.append("\t}")
    t.append("}")
    return t


def _nodelist(nodes, links):
    t = ["nodelist {"]
    for i in nodes:
        t += ["\tnode {", "\t\tname: %s%d" % (HOST_PREFIX, i), "\t\tnodeid: %d" % i]
        for n, l in enumerate(links):
            if i in l["addrs"] or str(i) in l["addrs"]:
                a = l["addrs"].get(i, l["addrs"].get(str(i)))
                t.append("\t\tring%d_addr: %s" % (n, a))
        t.append("\t}")
    t.append("}")
    return t


def corosync_conf(nodes, cluster_name="dllab", links=None, token=1000,
                  crypto=True, to_stderr=False, debug=False, extra_totem=None):
    """Return corosync.conf text.

    nodes: list of node ids.  links: list of dicts, one per link, index =
    link number.  Link 0 defaults to the bridge addresses.  A link dict may
    have 'addrs' ({nodeid: address}), 'priority' (knet_link_priority),
    'mcastport', and any other totem.interface option in 'options'.
    Example for a disk link: links=[{}, {"addrs": {i: "127.77.0.%d" % i
    for i in ids}, "priority": 1}] (= loop_links(ids)).
    """
    links = [dict(l) for l in (links or [{}])]
    if not links[0].get("addrs"):
        links[0]["addrs"] = {i: LINK0_NET + str(i) for i in nodes}
    t = _totem(cluster_name, links, token, crypto, extra_totem)
    t += ["", "logging {", "\tfileline: off", "\ttimestamp: on",
          "\tto_stderr: %s" % ("yes" if to_stderr else "no"),
          "\tto_logfile: yes", "\tlogfile: /var/log/corosync/corosync.log",
          "\tto_syslog: no", "\tdebug: %s" % ("on" if debug else "off"), "}"]
    t += ["", "quorum {", "\tprovider: corosync_votequorum", "}", ""]
    t += _nodelist(nodes, links)
    return "\n".join(t) + "\n"
