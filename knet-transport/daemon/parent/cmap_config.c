/* Corosync mode: read the disk link's configuration from cmap. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/cfg.h>

#include "cmap_config.h"
#include "text.h"

int dld_cmap_local_id(uint32_t *node_id, char *err, size_t errlen)
{
	corosync_cfg_handle_t cfg;
	unsigned int id = 0;
	cs_error_t rc;

	rc = corosync_cfg_initialize(&cfg, NULL);
	if (rc != CS_OK)
		return dl_fail_msg(err, errlen, EINVAL, "cannot connect to corosync (cfg error %d): is corosync "
			    "running? start it first, or use --node-id/--peer", rc);
	rc = corosync_cfg_local_get(cfg, &id);
	corosync_cfg_finalize(cfg);
	if (rc != CS_OK || id == 0)
		return dl_fail_msg(err, errlen, EINVAL, "corosync did not tell the local node id (cfg error %d)", rc);
	*node_id = id;
	return 0;
}

/* "nodelist.node.<idx>.<field>": the index and the field. */
static int node_key(const char *key, unsigned *idx, const char **field)
{
	const char *p = key + strlen("nodelist.node.");
	char *end;
	unsigned long v = strtoul(p, &end, 10);

	if (end == p || *end != '.' || v >= 4096)
		return -1;
	*idx = (unsigned)v;
	*field = end + 1;
	return 0;
}

static int is_loopback(const char *addr)
{
	struct in_addr a;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* TUN mode: a dl0 address, 169.254.0.0/16 or a unique local IPv6 one
 * (fd00::/8); tun_config.c checks it is the node's own. */
static int is_dl0(const char *addr)
{
	struct in_addr a;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a) == 1)
		return (ntohl(a.s_addr) >> 16) == 0xa9feu;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return a6.s6_addr[0] == 0xfd;
	return 0;
}

struct raw_node {
	uint32_t id;
	char name[DLD_CMAP_NAME_MAX];
	char addr[DLD_CMAP_ADDR_MAX];
	int used;
};

/* 0, -1 when cmap cannot be read, -2 when the nodelist has more entries
 * than raw holds. */
static int collect_nodes(cmap_handle_t h, int link, struct raw_node *raw, size_t nraw)
{
	int rc = 0;

	cmap_iter_handle_t it;
	char key[CMAP_KEYNAME_MAXLEN + 1], ring[32];
	cmap_value_types_t type;
	size_t len;

	snprintf(ring, sizeof(ring), "ring%d_addr", link);
	if (cmap_iter_init(h, "nodelist.node.", &it) != CS_OK)
		return -1;
	while (cmap_iter_next(h, it, key, &len, &type) == CS_OK) {
		unsigned idx;
		const char *field;
		char *s = NULL;

		if (node_key(key, &idx, &field))
			continue;
		if (idx >= nraw) {
			rc = -2;
			continue;
		}
		raw[idx].used = 1;
		if (!strcmp(field, "nodeid")) {
			cmap_get_uint32(h, key, &raw[idx].id);
		} else if (!strcmp(field, "name") && cmap_get_string(h, key, &s) == CS_OK) {
			snprintf(raw[idx].name, sizeof(raw[idx].name), "%s", s);
		} else if (!strcmp(field, ring) && cmap_get_string(h, key, &s) == CS_OK) {
			snprintf(raw[idx].addr, sizeof(raw[idx].addr), "%s", s);
		}
		free(s);
	}
	cmap_iter_finalize(h, it);
	return rc;
}

static int build_link(const struct raw_node *raw, bool tun, struct dld_cmap_link *out,
		      char *err, size_t errlen);

/* totem.crypto_*: "none" when not set (corosync's default). */
static void get_crypto(cmap_handle_t h, const char *key, char *dst, size_t len)
{
	char *s = NULL;

	if (cmap_get_string(h, key, &s) == CS_OK && s && *s)
		snprintf(dst, len, "%s", s);
	else
		snprintf(dst, len, "none");
	free(s);
}

int dld_cmap_load_handle(cmap_handle_t h, uint32_t local_id, int link,
			 struct dld_cmap_link *out, char *err, size_t errlen)
{
	return dld_cmap_load_mode(h, local_id, link, false, out, err, errlen);
}

int dld_cmap_load_mode(cmap_handle_t h, uint32_t local_id, int link, bool tun,
		       struct dld_cmap_link *out, char *err, size_t errlen)
{
	struct raw_node *raw;
	char key[64], *s = NULL;
	uint16_t port16;
	int r;

	memset(out, 0, sizeof(*out));
	out->link = link;
	out->local_id = local_id;
	if (cmap_get_string(h, "totem.cluster_name", &s) == CS_OK) {
		snprintf(out->cluster, sizeof(out->cluster), "%s", s);
		free(s);
	}
	get_crypto(h, "totem.crypto_cipher", out->crypto_cipher, sizeof(out->crypto_cipher));
	get_crypto(h, "totem.crypto_hash", out->crypto_hash, sizeof(out->crypto_hash));
	snprintf(key, sizeof(key), "totem.interface.%d.mcastport", link);
	if (cmap_get_uint16(h, key, &port16) == CS_OK && port16)
		out->port = port16;
	else
		out->port = 5405u + (uint32_t)link;
	raw = calloc(DLD_CMAP_MAX_NODES, sizeof(*raw));
	if (!raw)
		return dl_fail_msg(err, errlen, ENOMEM, "out of memory");
	r = collect_nodes(h, link, raw, DLD_CMAP_MAX_NODES);
	if (r == -1)
		r = dl_fail_msg(err, errlen, EINVAL, "cannot read corosync's nodelist from cmap");
	else if (r == -2)
		r = dl_fail_msg(err, errlen, EINVAL, "corosync's nodelist has more than %u entries; a disklink "
			 "volume serves at most that many nodes", DLD_CMAP_MAX_NODES);
	else
		r = build_link(raw, tun, out, err, errlen);
	free(raw);
	return r;
}

/* Validate the nodes of the link and keep those with an address on it. */
static int build_link(const struct raw_node *raw, bool tun, struct dld_cmap_link *out,
		      char *err, size_t errlen)
{
	const int link = out->link;
	int have_local = 0;

	for (size_t i = 0; i < DLD_CMAP_MAX_NODES; i++) {
		struct dld_cmap_node *n;

		if (!raw[i].used)
			continue;
		if (raw[i].id == 0 || raw[i].id > 65535)
			return dl_fail_msg(err, errlen, EINVAL, "corosync nodelist entry %zu has node id %u; knet "
				    "and disklink need ids 1 to 65535", i, raw[i].id);
		if (!raw[i].addr[0])
			continue;
		if (tun && !is_dl0(raw[i].addr))
			return dl_fail_msg(err, errlen, EINVAL, "link %d of node %u has address %s, not "
				    "a dl0 address: in TUN mode the link is on the interface (see "
				    "'disklink corosync-link --tun')", link, raw[i].id, raw[i].addr);
		if (!tun && !is_loopback(raw[i].addr))
			return dl_fail_msg(err, errlen, EINVAL, "link %d of node %u has address %s, not a loopback "
				    "address: it is not a disklink link (see 'disklink corosync-link')",
				    link, raw[i].id, raw[i].addr);
		for (uint32_t j = 0; j < out->n_nodes; j++) {
			if (!strcmp(out->nodes[j].addr, raw[i].addr))
				return dl_fail_msg(err, errlen, EINVAL, "nodes %u and %u both have link %d address %s "
					    "in corosync.conf; give each node its own",
					    out->nodes[j].node_id, raw[i].id, link, raw[i].addr);
			if (out->nodes[j].node_id == raw[i].id)
				return dl_fail_msg(err, errlen, EINVAL, "node id %u appears twice in corosync's nodelist",
					    raw[i].id);
		}
		n = &out->nodes[out->n_nodes++];
		n->node_id = raw[i].id;
		snprintf(n->name, sizeof(n->name), "%s", raw[i].name);
		snprintf(n->addr, sizeof(n->addr), "%s", raw[i].addr);
		if (n->node_id == out->local_id)
			have_local = 1;
	}
	if (out->n_nodes == 0) {
		dl_fail_msg(err, errlen, EINVAL, "corosync has no ring%d_addr for any node: link %d is not "
		     "configured (add it with 'disklink corosync-link --link %d')",
		     link, link, link);
		errno = ENOENT;
		return -1;
	}
	if (!have_local) {
		dl_fail_msg(err, errlen, EINVAL, "this node (id %u) has no ring%d_addr in corosync.conf; "
		     "add link %d on every node", out->local_id, link, link);
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static void on_change(cmap_handle_t h, cmap_track_handle_t t, int32_t event,
		      const char *key, struct cmap_notify_value nv,
		      struct cmap_notify_value ov, void *user)
{
	struct dld_cmap_watch *w = user;

	(void)h;
	(void)t;
	(void)event;
	(void)key;
	(void)nv;
	(void)ov;
	w->changed = 1;
}

int dld_cmap_watch_start(struct dld_cmap_watch *w, char *err, size_t errlen)
{
	const int32_t ev = CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY |
			   CMAP_TRACK_PREFIX;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (cmap_initialize(&w->handle) != CS_OK)
		return dl_fail_msg(err, errlen, EINVAL, "cannot connect to corosync's cmap: is corosync running?");
	if (cmap_track_add(w->handle, "nodelist.", ev, on_change, w, &w->track_nodes) != CS_OK ||
	    cmap_track_add(w->handle, "totem.", ev, on_change, w,
			   &w->track_totem) != CS_OK ||
	    cmap_fd_get(w->handle, &w->fd) != CS_OK) {
		cmap_finalize(w->handle);
		return dl_fail_msg(err, errlen, EINVAL, "cannot track corosync's configuration in cmap");
	}
	return 0;
}

int dld_cmap_watch_dispatch(struct dld_cmap_watch *w)
{
	cs_error_t rc = cmap_dispatch(w->handle, CS_DISPATCH_ALL);

	if (rc != CS_OK && rc != CS_ERR_TRY_AGAIN) {
		errno = ENOTCONN;
		return -1;
	}
	return 0;
}

void dld_cmap_watch_stop(struct dld_cmap_watch *w)
{
	if (w->fd >= 0) {
		cmap_track_delete(w->handle, w->track_nodes);
		cmap_track_delete(w->handle, w->track_totem);
		cmap_finalize(w->handle);
	}
	w->fd = -1;
}

int dld_cmap_link_differs(const struct dld_cmap_link *a, const struct dld_cmap_link *b)
{
	if (a->n_nodes != b->n_nodes || a->port != b->port || a->local_id != b->local_id)
		return 1;
	for (uint32_t i = 0; i < a->n_nodes; i++)
		if (a->nodes[i].node_id != b->nodes[i].node_id ||
		    strcmp(a->nodes[i].addr, b->nodes[i].addr))
			return 1;
	return 0;
}

bool dld_cmap_member_gone(struct dld_cmap_watch *w, uint32_t node_id)
{
	char key[64], *val = NULL;
	bool gone;

	snprintf(key, sizeof(key), "runtime.members.%u.status", node_id);
	if (cmap_get_string(w->handle, key, &val) != CS_OK)
		return true;           /* not a member since corosync started */
	gone = strcmp(val, "joined") != 0;
	free(val);
	return gone;
}
