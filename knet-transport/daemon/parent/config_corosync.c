/* Corosync mode: the daemon's link configuration from corosync's (node id,
 * node name, local address, peers, port, cluster name), checked against
 * what the command line and the config file gave explicitly. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmap_config.h"
#include "corosync_mode.h"

static const char *origin(const struct dld_config *given, uint32_t bit)
{
	return (given->set & bit) ? "on the command line" : "in the config file";
}

static int same_ip(const char *a, const char *b)
{
	struct sockaddr_storage sa, sb;
	socklen_t la, lb;

	if (dld_addr_parse(a, 0, &sa, &la) || dld_addr_parse(b, 0, &sb, &lb))
		return 0;
	return la == lb && !memcmp(&sa, &sb, la);
}

static const struct dld_cmap_node *find_node(const struct dld_cmap_link *l, uint32_t id)
{
	for (uint32_t i = 0; i < l->n_nodes; i++)
		if (l->nodes[i].node_id == id)
			return &l->nodes[i];
	return NULL;
}

/* Explicit settings must say what corosync says. */
static int contradiction(const struct dld_config *g, const struct dld_cmap_link *l,
			 const struct dld_cmap_node *self, char *err, size_t errlen)
{
	if ((g->given & DLD_SET_NODE_ID) && g->node_id != l->local_id) {
		snprintf(err, errlen, "node id %u given %s contradicts corosync's local node id "
			 "%u: drop the setting or fix it", g->node_id,
			 origin(g, DLD_SET_NODE_ID), l->local_id);
		return -1;
	}
	if ((g->given & DLD_SET_PORT) && g->port != l->port) {
		snprintf(err, errlen, "port %u given %s contradicts corosync's port %u of link "
			 "%d: drop the setting or fix it", g->port, origin(g, DLD_SET_PORT),
			 l->port, l->link);
		return -1;
	}
	if ((g->given & DLD_SET_LOCAL) && !same_ip(g->local_text, self->addr)) {
		snprintf(err, errlen, "local address %s given %s contradicts corosync's "
			 "ring%d_addr %s of node %u: drop the setting or fix it", g->local_text,
			 origin(g, DLD_SET_LOCAL), l->link, self->addr, l->local_id);
		return -1;
	}
	if ((g->given & DLD_SET_CLUSTER) && l->cluster[0] && strcmp(g->cluster, l->cluster)) {
		snprintf(err, errlen, "cluster '%s' given in the config file contradicts "
			 "corosync's cluster_name '%s': drop the setting or fix it", g->cluster,
			 l->cluster);
		return -1;
	}
	if ((g->given & DLD_SET_NODE_NAME) && self->name[0] && strcmp(g->node_name, self->name)) {
		snprintf(err, errlen, "node name '%s' given %s contradicts corosync's name '%s' "
			 "of node %u: drop the setting or fix it", g->node_name,
			 origin(g, DLD_SET_NODE_NAME), self->name, l->local_id);
		return -1;
	}
	for (uint32_t i = 0; i < g->peer_count; i++) {
		const struct dld_peer_conf *p = &g->peers[i];
		const struct dld_cmap_node *n = find_node(l, p->node_id);

		if (!n || n == self) {
			snprintf(err, errlen, "peer %u given %s is not a peer on corosync's link %d: "
				 "drop the setting or fix it", p->node_id, origin(g, DLD_SET_PEERS),
				 l->link);
			return -1;
		}
		if (!same_ip(p->text, n->addr)) {
			snprintf(err, errlen, "peer %u address %s given %s contradicts corosync's "
				 "ring%d_addr %s: drop the setting or fix it", p->node_id, p->text,
				 origin(g, DLD_SET_PEERS), l->link, n->addr);
			return -1;
		}
	}
	return 0;
}

int dld_config_corosync(const struct dld_config *given, const struct dld_cmap_link *l,
			struct dld_config *out, char *err, size_t errlen)
{
	const struct dld_cmap_node *self = find_node(l, l->local_id);

	if (!self) {
		snprintf(err, errlen, "this node (id %u) has no ring%d_addr in corosync.conf; add "
			 "link %d on every node", l->local_id, l->link, l->link);
		return DLD_EXIT_USAGE;
	}
	if (contradiction(given, l, self, err, errlen))
		return DLD_EXIT_USAGE;
	*out = *given;
	out->node_id = l->local_id;
	if (self->name[0] && !(given->given & DLD_SET_NODE_NAME))
		snprintf(out->node_name, sizeof(out->node_name), "%s", self->name);
	out->port = l->port;
	snprintf(out->local_text, sizeof(out->local_text), "%s", self->addr);
	if (l->cluster[0])
		snprintf(out->cluster, sizeof(out->cluster), "%s", l->cluster);
	out->peer_count = 0;
	for (uint32_t i = 0; i < l->n_nodes; i++) {
		struct dld_peer_conf *p;

		if (&l->nodes[i] == self)
			continue;
		if (out->peer_count >= DLD_MAX_PEERS) {
			snprintf(err, errlen, "corosync's link %d has more than %u peers", l->link,
				 DLD_MAX_PEERS);
			return DLD_EXIT_USAGE;
		}
		p = &out->peers[out->peer_count++];
		memset(p, 0, sizeof(*p));
		p->node_id = l->nodes[i].node_id;
		snprintf(p->text, sizeof(p->text), "%s", l->nodes[i].addr);
	}
	if (dld_config_resolve(out, err, errlen))
		return DLD_EXIT_USAGE;
	return 0;
}
