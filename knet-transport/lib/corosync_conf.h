/* A reader for corosync.conf: the parts disklink needs (cluster name,
 * nodelist with ring addresses, totem interfaces), with the line
 * positions an editor needs to add a link. */
#ifndef DL_COROSYNC_CONF_H
#define DL_COROSYNC_CONF_H

#include <stddef.h>
#include <stdint.h>

#define DL_CC_MAX_NODES 64
#define DL_CC_MAX_LINKS 8

struct dl_cc_node {
	uint32_t nodeid;
	char     name[64];
	char     ring_addr[DL_CC_MAX_LINKS][64];   /* "" when absent */
	size_t   close_line;                      /* line of the node's '}' */
	char     indent[32];                      /* of the node's keys */
};

struct dl_cc_iface {
	int      linknumber;
	int      priority;                        /* -1 when not set */
};

struct dl_corosync_conf {
	char     cluster_name[64];
	char     link_mode[16];
	char     transport[16];
	size_t   n_nodes;
	struct dl_cc_node nodes[DL_CC_MAX_NODES];
	size_t   n_ifaces;
	struct dl_cc_iface ifaces[DL_CC_MAX_LINKS];
	size_t   totem_line;                      /* line of "totem {" */
	char     totem_indent[32];                /* of totem's keys */
	char   **lines;                           /* the file, one per line */
	size_t   n_lines;
};

/* Parse a file.  -1 with errno, and a one-line reason in err. */
int dl_cc_load(struct dl_corosync_conf *cc, const char *path, char *err, size_t errlen);
/* Parse text (a NUL-terminated buffer). */
int dl_cc_parse(struct dl_corosync_conf *cc, const char *text, char *err, size_t errlen);
void dl_cc_free(struct dl_corosync_conf *cc);

/* The lowest link number that no node and no interface uses. */
int dl_cc_free_link(const struct dl_corosync_conf *cc);
/* 1 when some node has ringN_addr for this link. */
int dl_cc_link_used(const struct dl_corosync_conf *cc, int link);

#endif
