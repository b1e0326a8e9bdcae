"""dllab.cluster -- the cluster stack on a lab's nodes: corosync.conf and the
seed CIB on every node's disk, start/stop corosync and Pacemaker, wait for
quorum / online nodes / a resource, cluster properties, the stonith device
and test resources.  A mixin of dllab.lab.Lab (it uses self.nodes)."""

import xml.etree.ElementTree as ET

from .corosync import corosync_conf
from .node import Node
from .proc import run, wait_for


class LabCluster:
    """The cluster-stack half of a Lab."""

    def write_corosync_conf(self, **kw):
        """Write the same corosync.conf on every node (see corosync_conf())."""
        text = corosync_conf([nd.id for nd in self.nodes], **kw)
        for nd in self.nodes:
            nd.write_file("/etc/corosync/corosync.conf", text)
        return text

    def seed_cib(self, props=None):
        """Write an initial CIB (crm_config properties only) on every node's
        disk before Pacemaker first starts -- as a provisioning tool would.
        The default shortens dc-deadtime (20 s) so a new cluster elects its DC
        in seconds.  Fencing is configured later, once all nodes are online
        (configure_pacemaker), so that startup fencing has nobody to shoot."""
        p = {"dc-deadtime": "5s", "cluster-recheck-interval": "30s",
             "no-quorum-policy": "stop"}
        p.update(props or {})
        # start from this Pacemaker's own empty CIB (right feature set/schema)
        cib = ET.fromstring(run(["cibadmin", "--empty"]).stdout)
        cc = cib.find("configuration/crm_config")
        ps = ET.SubElement(cc, "cluster_property_set", id="cib-bootstrap-options")
        for k, v in p.items():
            ET.SubElement(ps, "nvpair", id="opt-" + k, name=k, value=v)
        xml = ET.tostring(cib, encoding="unicode") + "\n"
        for nd in self.nodes:
            nd.write_file("/var/lib/pacemaker/cib/cib.xml", xml, 0o600,
                          owner="hacluster:haclient")

    # ---- cluster helpers -------------------------------------------------
    def start_cluster(self, pacemaker=True, nodes=None):
        nodes = nodes or self.nodes
        for nd in nodes:
            nd.start_corosync()
        if pacemaker:
            for nd in nodes:
                nd.start_pacemaker()

    def wait_quorate(self, members=None, nodes=None, timeout=60):
        """Wait until each given node is quorate and sees exactly `members`
        (list of ids; default all) in corosync-quorumtool."""
        nodes = nodes or self.nodes
        want = sorted(members or [nd.id for nd in self.nodes])

        def ok():
            for nd in nodes:
                q = nd.quorum()
                if not q or not q.get("quorate") or q["members"] != want:
                    return False
            return True
        return wait_for(ok, timeout, 0.5, "quorum with members %s on %s" %
                        (want, [n.name for n in nodes]))

    def wait_online(self, online=None, nodes=None, timeout=120):
        """Wait until crm_mon on each of `nodes` shows exactly the `online`
        names (default all) online, none unclean, and a DC."""
        nodes = nodes or [nd for nd in self.nodes if nd.is_on()]
        want = sorted(online or [nd.name for nd in self.nodes])

        def ok():
            for nd in nodes:
                x = nd.crm_mon()
                if x is None:
                    return False
                st = nd.pcmk_nodes()
                on = sorted(n for n, v in st.items() if v["online"])
                if on != want or any(st[n]["unclean"] for n in want):
                    return False
                dc = x.find(".//current_dc")
                if dc is None or dc.get("present") != "true":
                    return False
            return True
        return wait_for(ok, timeout, 1, "pacemaker online %s" % want)

    def wait_resource(self, rsc, on=None, via=None, timeout=90):
        """Wait until resource rsc is active on exactly node `on` (a name),
        or on any one node if on is None; returns the node name."""
        via = via or next(nd for nd in self.nodes if nd.is_on())

        def ok():
            where = via.resource_nodes(rsc)
            if not where or len(where) != 1:
                return None
            if on and where[0] != on:
                return None
            return where[0]
        return wait_for(ok, timeout, 1, "resource %s on %s" % (rsc, on or "a node"))

    def cib(self, via=None):
        return (via or self.nodes[0])

    def configure_pacemaker(self, via=None, fencing=True, stonith_action="reboot",
                            recheck="30s", stonith_timeout="30s"):
        """Cluster properties and the lab's stonith device (through cibadmin
        and crm_attribute on a live node; no pcsd needed)."""
        nd = via or next(n for n in self.nodes if n.is_on())
        props = {"stonith-enabled": "true" if fencing else "false",
                 "stonith-action": stonith_action,
                 "stonith-timeout": stonith_timeout,
                 "cluster-recheck-interval": recheck,
                 "no-quorum-policy": "stop",
                 "symmetric-cluster": "true"}
        for k, v in props.items():
            nd.exec(["crm_attribute", "--type", "crm_config", "--name", k,
                     "--update", v], check=True)
        if fencing:
            hosts = " ".join(n.name for n in self.nodes)
            xml = ('<primitive id="fence-lab" class="stonith" type="%s">'
                   '<instance_attributes id="fence-lab-ia">'
                   '<nvpair id="fence-lab-hl" name="pcmk_host_list" value="%s"/>'
                   '<nvpair id="fence-lab-hc" name="pcmk_host_check" value="static-list"/>'
                   '<nvpair id="fence-lab-rt" name="pcmk_reboot_timeout" value="30s"/>'
                   '<nvpair id="fence-lab-ot" name="pcmk_off_timeout" value="30s"/>'
                   '</instance_attributes><operations>'
                   '<op id="fence-lab-mon" name="monitor" interval="60s" timeout="20s"/>'
                   '</operations></primitive>') % (self.fence_agent_name, hosts)
            nd.exec(["cibadmin", "--create", "--scope", "resources", "--xml-text", xml],
                    check=True)

    def add_dummy(self, rsc="dummy", prefer=None, score=100, via=None,
                  provider="pacemaker"):
        """An ocf:<provider>:Dummy resource, optionally preferring a node."""
        nd = via or next(n for n in self.nodes if n.is_on())
        xml = ('<primitive id="%s" class="ocf" provider="%s" type="Dummy">'
               '<operations><op id="%s-mon" name="monitor" interval="5s" timeout="20s"/>'
               '</operations></primitive>') % (rsc, provider, rsc)
        nd.exec(["cibadmin", "--create", "--scope", "resources", "--xml-text", xml],
                check=True)
        if prefer:
            self.prefer(rsc, prefer, score, via=nd)

    def prefer(self, rsc, node, score=100, via=None):
        nd = via or next(n for n in self.nodes if n.is_on())
        name = node.name if isinstance(node, Node) else node
        xml = '<rsc_location id="loc-%s-%s" rsc="%s" node="%s" score="%s"/>' % (
            rsc, name, rsc, name, score)
        nd.exec(["cibadmin", "--create", "--scope", "constraints", "--xml-text", xml],
                check=True)


    def start_up(self):
        """Start corosync and Pacemaker everywhere, wait until the cluster is
        quorate with every node online, then configure fencing."""
        self.start_cluster()
        self.wait_quorate()
        self.wait_online()
        self.configure_pacemaker()

    def stop_cluster(self, nodes=None):
        """Stop Pacemaker and corosync on the nodes that are on (default all)
        and drop them from their boot services."""
        for nd in nodes or self.nodes:
            nd.stop_stack()

    def wait_cluster(self, timeout=120):
        """Wait until every node is quorate and Pacemaker shows all online."""
        self.wait_quorate(timeout=timeout)
        self.wait_online(timeout=timeout)
