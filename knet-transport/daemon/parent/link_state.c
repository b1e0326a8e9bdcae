/* Corosync mode: knet's link states into the child's poll schedule
 * (link_state.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <corosync/cmap.h>

#include "ctx.h"
#include "link_state.h"

struct dld_link_state {
	int tfd;
	cmap_handle_t h;               /* the stats map, 0: not open        */
	bool on;                       /* last verdict                      */
	struct dld_link_obs obs[DLD_MAX_PEERS + 1u];
};

int dld_link_key(const char *key, uint32_t *node, uint32_t *link)
{
	unsigned n, l;
	int end = 0;

	if (sscanf(key, "stats.knet.node%u.link%u.connected%n", &n, &l, &end) != 2 ||
	    end == 0 || key[end] != '\0' || l >= DLD_LINKS_MAX)
		return -1;
	*node = n;
	*link = l;
	return 0;
}

void dld_link_note(struct dld_link_obs *obs, uint32_t *n, uint32_t max, uint32_t node,
		   uint32_t link, bool up)
{
	uint32_t i;

	for (i = 0; i < *n && obs[i].node_id != node; i++)
		;
	if (i == *n) {
		if (*n == max)
			return;
		obs[(*n)++] = (struct dld_link_obs){ .node_id = node };
	}
	obs[i].seen |= (uint8_t)(1u << link);
	if (up)
		obs[i].up |= (uint8_t)(1u << link);
}

bool dld_link_disk_totem(const struct dld_link_obs *obs, uint32_t n, uint32_t local_id,
			 uint32_t disk_link)
{
	uint8_t disk = (uint8_t)(1u << disk_link);

	for (uint32_t i = 0; i < n; i++)
		if (obs[i].node_id != local_id && (obs[i].up & disk) &&
		    !(obs[i].up & (uint8_t)~disk))
			return true;
	return false;
}

/* One reading of the stats map into s->obs: how many nodes, or -1 (the
 * map is closed, to be opened again next time). */
static int read_links(struct dld_link_state *s)
{
	cmap_iter_handle_t it;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	size_t len;
	cmap_value_types_t type;
	uint32_t n = 0;

	if (!s->h && cmap_initialize_map(&s->h, CMAP_MAP_STATS) != CS_OK) {
		s->h = 0;
		return -1;
	}
	if (cmap_iter_init(s->h, "stats.knet.node", &it) != CS_OK) {
		cmap_finalize(s->h);
		s->h = 0;
		return -1;
	}
	while (cmap_iter_next(s->h, it, key, &len, &type) == CS_OK) {
		uint32_t node, link;
		uint8_t v = 0;

		if (dld_link_key(key, &node, &link) == 0 &&
		    cmap_get_uint8(s->h, key, &v) == CS_OK)
			dld_link_note(s->obs, &n, DLD_MAX_PEERS + 1u, node, link, v != 0);
	}
	cmap_iter_finalize(s->h, it);
	return (int)n;
}

static void on_tick(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	struct dld_link_state *s = ctx->links;
	uint64_t exp;
	int n;
	bool on;

	(void)events;
	if (read(fd, &exp, sizeof(exp)) < 0)
		exp = 0;
	n = ctx->cs.connected && ctx->cfg.link >= 0 ? read_links(s) : -1;
	on = n > 0 && dld_link_disk_totem(s->obs, (uint32_t)n, ctx->cs.local_id,
					  (uint32_t)ctx->cfg.link);
	if (on != s->on)
		log_notice(DLD_SUB_COROSYNC, "%s", on ?
			   "a peer is reachable through the disk link only: it carries totem, "
			   "polling fast" : "every peer has a network link again: polling ahead");
	s->on = on;
	if (ctx->chan.shm &&        /* a new child's channel starts at 0: set each time */
	    atomic_exchange(&ctx->chan.shm->disk_totem, on ? 1u : 0u) != (on ? 1u : 0u))
		dld_efd_kick(ctx->chan.tx_efd);
}

int dld_link_state_start(struct dld_ctx *ctx)
{
	struct dld_link_state *s = calloc(1, sizeof(*s));
	struct itimerspec its = {
		.it_value = { .tv_sec = 1 },
		.it_interval = { .tv_sec = DLD_LINK_STATE_MS / 1000u,
				 .tv_nsec = (long)(DLD_LINK_STATE_MS % 1000u) * 1000000L },
	};

	if (!s)
		return -1;
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tfd < 0 || timerfd_settime(s->tfd, 0, &its, NULL) ||
	    dld_loop_add(&ctx->loop, s->tfd, EPOLLIN, on_tick, ctx)) {
		int e = errno;

		if (s->tfd >= 0)
			close(s->tfd);
		free(s);
		errno = e;
		return -1;
	}
	ctx->links = s;
	return 0;
}

void dld_link_state_stop(struct dld_ctx *ctx)
{
	struct dld_link_state *s = ctx->links;

	if (!s)
		return;
	dld_loop_del(&ctx->loop, s->tfd);
	close(s->tfd);
	if (s->h)
		cmap_finalize(s->h);
	free(s);
	ctx->links = NULL;
}
