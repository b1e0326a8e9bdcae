/* Corosync mode: does the disk carry totem?  Once a second the parent
 * reads knet's link states from corosync's stats map
 * (stats.knet.nodeX.linkY.connected, as the resource agent reads them)
 * and tells the I/O child (shm disk_totem) to poll fast while some peer
 * is reachable through the disk link only: totem then flows through the
 * disk and its token must not wait for the idle poll (doc/design.md,
 * "Polling ahead of pings"). */
#ifndef DLD_LINK_STATE_H
#define DLD_LINK_STATE_H

#include <stdbool.h>
#include <stdint.h>

#define DLD_LINKS_MAX 8u               /* knet's links per host            */
#define DLD_LINK_STATE_MS 1000u        /* how often cmap is read           */

struct dld_ctx;

/* What cmap says of one node's links. */
struct dld_link_obs {
	uint32_t node_id;
	uint8_t  seen;                 /* bit per link: a connected key     */
	uint8_t  up;                   /* bit per link: connected           */
};

/* "stats.knet.node<N>.link<L>.connected": 0 with *node and *link, else -1. */
int dld_link_key(const char *key, uint32_t *node, uint32_t *link);
/* Record key = value (a connected key) into obs[0..*n) (at most max). */
void dld_link_note(struct dld_link_obs *obs, uint32_t *n, uint32_t max, uint32_t node,
		   uint32_t link, bool up);
/* Some peer (not local_id) is connected through disk_link and through
 * no other of its links. */
bool dld_link_disk_totem(const struct dld_link_obs *obs, uint32_t n, uint32_t local_id,
			 uint32_t disk_link);

/* Start and stop the watch (corosync mode only): 0, or -1 with errno. */
int dld_link_state_start(struct dld_ctx *ctx);
void dld_link_state_stop(struct dld_ctx *ctx);

#endif
