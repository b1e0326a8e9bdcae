/* Corosync mode (--link N): the parent takes the link's configuration
 * from corosync (cmap_config.[ch]), waits for corosync when it is not
 * running, follows its configuration reloads (nodes added or removed,
 * addresses changed) without a restart, and keeps serving the last
 * configuration while corosync is away. */
#ifndef DLD_COROSYNC_MODE_H
#define DLD_COROSYNC_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include "dld.h"

struct dld_ctx;
/* cmap_config.h: kept out of the other parent files (no <corosync/cmap.h>). */
struct dld_cmap_link;
struct dld_cmap_watch;

enum dld_cs_state {
	DLD_CS_OFF = 0,                /* explicit mode                     */
	DLD_CS_WAITING,                /* no configuration from corosync yet */
	DLD_CS_CONNECTED,              /* following corosync's configuration */
	DLD_CS_DISCONNECTED,           /* corosync went away: last config kept */
};

struct dld_cs {
	enum dld_cs_state state;
	bool configured;               /* a configuration was applied       */
	bool connected;                /* the cmap watch is open            */
	bool dirty;                    /* a change waits for the debounce   */
	struct dld_lograte wait_log;   /* "waiting for ..." said once a reason */
	int timerfd;                   /* reconnect back-off and debounce   */
	uint32_t backoff_ms;
	uint32_t local_id;
	uint32_t reloads;              /* configurations applied after the first */
	char why[200];                 /* why we wait, for status           */
	struct dld_cmap_watch *watch;  /* while in corosync mode            */
	struct dld_cmap_link *last;    /* as last applied                   */
	struct dld_config given;       /* command line and file, before corosync */
};

/* corosync_mode.c */
/* Start corosync mode: connect (or schedule the retries) and, once the
 * configuration is known, bind the sockets and start the I/O child.
 * 0, or -1 when the daemon must stop (the exit status and the reason
 * are in the context, dld_ctx_exit). */
int dld_cs_start(struct dld_ctx *ctx);
void dld_cs_stop(struct dld_ctx *ctx);
const char *dld_cs_state_name(const struct dld_cs *cs);
/* Corosync mode: true when corosync says the peer left the membership
 * (or never joined): its path's mirror state is then "gone". */
bool dld_cs_peer_gone(const struct dld_ctx *ctx, uint32_t node_id);

/* config_corosync.c: out = given completed from corosync's link l.  0, or
 * DLD_EXIT_USAGE with a one-line reason in err (a setting given
 * explicitly contradicts corosync, or corosync's link is unusable). */
int dld_config_corosync(const struct dld_config *given, const struct dld_cmap_link *l,
			struct dld_config *out, char *err, size_t errlen);

#endif
