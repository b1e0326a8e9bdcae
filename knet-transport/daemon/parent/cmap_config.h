/* Corosync mode: the link's node id, addresses and port come from
 * corosync itself (cmap and cfg), so an operator configures a device and
 * a link number, not a second node list. */
#ifndef DLD_CMAP_CONFIG_H
#define DLD_CMAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <corosync/cmap.h>

#define DLD_CMAP_MAX_NODES 128
#define DLD_CMAP_ADDR_MAX  64
#define DLD_CMAP_NAME_MAX  64

struct dld_cmap_node {
	uint32_t node_id;
	char     name[DLD_CMAP_NAME_MAX];     /* "" when the nodelist has none */
	char     addr[DLD_CMAP_ADDR_MAX];     /* ringN_addr of the link */
};

struct dld_cmap_link {
	int      link;
	uint32_t local_id;
	uint32_t port;
	char     cluster[64];
	char     crypto_cipher[32];          /* totem.crypto_cipher, "none" unset */
	char     crypto_hash[32];            /* totem.crypto_hash, "none" unset   */
	uint32_t n_nodes;                    /* nodes with an address on the link */
	struct dld_cmap_node nodes[DLD_CMAP_MAX_NODES];
};

/* Read the link's configuration from an open cmap handle (the watcher's).
 * Checks that this node is in the nodelist with an address on the link,
 * that every address on the link is a loopback address (127.0.0.0/8: a
 * disklink link), that node ids fit knet (<= 65535) and addresses do not
 * repeat.  0, or -1 with a one-line reason (naming the fix) in err; errno
 * ENOENT when the link is not (yet) configured for this node, EINVAL when
 * its configuration is wrong. */
int dld_cmap_load_handle(cmap_handle_t h, uint32_t local_id, int link,
			 struct dld_cmap_link *out, char *err, size_t errlen);

/* The same for a TUN mode link (doc/vnic.md): its addresses are dl0
 * addresses (169.254.0.0/16, fd00::/8), not loopback ones. */
int dld_cmap_load_mode(cmap_handle_t h, uint32_t local_id, int link, bool tun,
		       struct dld_cmap_link *out, char *err, size_t errlen);

/* The local node id from corosync's cfg service. */
int dld_cmap_local_id(uint32_t *node_id, char *err, size_t errlen);

/* Follow nodelist and totem changes (interfaces, crypto; corosync-cfgtool -R). */
struct dld_cmap_watch {
	cmap_handle_t handle;
	cmap_track_handle_t track_nodes;
	cmap_track_handle_t track_totem;
	int fd;                              /* poll for POLLIN, then dispatch */
	int changed;                         /* set by dispatch on any change  */
};

int dld_cmap_watch_start(struct dld_cmap_watch *w, char *err, size_t errlen);
/* Dispatch pending notifications; -1 when corosync went away. */
int dld_cmap_watch_dispatch(struct dld_cmap_watch *w);
void dld_cmap_watch_stop(struct dld_cmap_watch *w);
/* true when corosync's runtime membership does not have node_id joined. */
bool dld_cmap_member_gone(struct dld_cmap_watch *w, uint32_t node_id);

/* 1 when the link configuration differs in membership or addresses. */
int dld_cmap_link_differs(const struct dld_cmap_link *a, const struct dld_cmap_link *b);

#endif
