/* Corosync mode (--link N): connect to corosync (retrying with back-off,
 * logged once, when it is not running), take the link's configuration
 * from cmap, bind the sockets and start the I/O child; then follow
 * corosync's configuration reloads (debounced: a reload changes several
 * keys) without a restart, and keep the last configuration while corosync
 * is away. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <systemd/sd-daemon.h>

#include "ctx.h"

#define DEBOUNCE_MS  500u              /* quiet time after the last cmap change */
#define RETRY_MIN_MS 500u              /* reconnect back-off, first          */
#define RETRY_MAX_MS 10000u            /* reconnect back-off, limit          */

const char *dld_cs_state_name(const struct dld_cs *cs)
{
	switch (cs->state) {
	case DLD_CS_WAITING:
		return "waiting";
	case DLD_CS_CONNECTED:
		return "connected";
	case DLD_CS_DISCONNECTED:
		return "disconnected";
	default:
		return "off";
	}
}

static void arm(struct dld_ctx *ctx, uint32_t ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L },
	};

	if (!ms)
		its.it_value.tv_nsec = 1;
	if (timerfd_settime(ctx->cs.timerfd, 0, &its, NULL))
		qb_log(LOG_ERR, "corosync mode: cannot arm the timer: %s", strerror(errno));
}

static void schedule_retry(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;

	cs->backoff_ms = !cs->backoff_ms ? RETRY_MIN_MS :
			 cs->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : cs->backoff_ms * 2;
	arm(ctx, cs->backoff_ms);
}

/* A launcher waiting for the daemonized daemon is told that it runs, and
 * why it waits. */
static void release_launcher(struct dld_ctx *ctx, const char *why)
{
	char msg[300];
	int n;

	if (ctx->ready_fd < 0)
		return;
	n = snprintf(msg, sizeof(msg), "%c%s (disklinkd runs and waits; see the log)", 0, why);
	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1;
	if (write(ctx->ready_fd, msg, (size_t)n) < 0)
		qb_log(LOG_DEBUG, "launcher gone: %s", strerror(errno));
	close(ctx->ready_fd);
	ctx->ready_fd = -1;
}

/* Logged when the reason is new, not at every retry. */
static void note_wait(struct dld_ctx *ctx, const char *why)
{
	struct dld_cs *cs = &ctx->cs;

	if (!cs->wait_logged || strcmp(cs->why, why)) {
		qb_log(LOG_WARNING, "%s: waiting (retried with back-off, logged once)", why);
		sd_notifyf(0, "STATUS=waiting: %s", why);
	}
	cs->wait_logged = true;
	snprintf(cs->why, sizeof(cs->why), "%.*s", (int)sizeof(cs->why) - 1, why);
	if (!cs->configured)
		release_launcher(ctx, why);
}

static void fatal(struct dld_ctx *ctx, int code, const char *msg)
{
	qb_log(LOG_ERR, "%s", msg);
	snprintf(ctx->error, sizeof(ctx->error), "%.*s", (int)sizeof(ctx->error) - 1, msg);
	ctx->exit_code = code;
	ctx->quit = true;
}

static void disconnect(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;

	if (!cs->connected)
		return;
	epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, cs->watch.fd, NULL);
	dld_cmap_watch_stop(&cs->watch);
	cs->connected = false;
	cs->dirty = false;
}

static int connect_corosync(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;
	char err[256];

	if (dld_cmap_local_id(&cs->local_id, err, sizeof(err)) ||
	    dld_cmap_watch_start(&cs->watch, err, sizeof(err))) {
		note_wait(ctx, "corosync is not running (cannot connect to cmap/cfg)");
		schedule_retry(ctx);
		return -1;
	}
	if (dld_epoll_add(ctx, cs->watch.fd, DLD_TAG_CS, 0)) {
		dld_cmap_watch_stop(&cs->watch);
		schedule_retry(ctx);
		return -1;
	}
	cs->connected = true;
	cs->backoff_ms = 0;
	cs->wait_logged = false;
	cs->why[0] = 0;
	qb_log(LOG_NOTICE, "connected to corosync: local node id %u", cs->local_id);
	return 0;
}

static int first_config(struct dld_ctx *ctx, struct dld_config *nc)
{
	struct dld_cs *cs = &ctx->cs;

	nc->tun = ctx->cfg.tun;        /* a SIGHUP may have changed them */
	ctx->cfg = *nc;
	qb_log(LOG_NOTICE, "corosync link %d: node %u (%s), %s:%u, %u peers, cluster '%s'",
	       ctx->cfg.link, ctx->cfg.node_id, ctx->cfg.node_name, ctx->cfg.local_text,
	       ctx->cfg.port, ctx->cfg.peer_count, ctx->cfg.cluster);
	if (dld_sockets_open(ctx)) {
		fatal(ctx, DLD_EXIT_RUNTIME, "cannot bind the peer addresses (see the log)");
		return DLD_EXIT_RUNTIME;
	}
	cs->configured = true;
	sd_notify(0, "STATUS=");
	dld_child_start(ctx);
	return 0;
}

static void update(struct dld_ctx *ctx, struct dld_config *nc)
{
	uint32_t before = ctx->cfg.peer_count;

	if (dld_sockets_update(ctx, nc))
		qb_log(LOG_ERR, "corosync link %d: some peer addresses could not be bound (see "
		       "above); they are retried at the next change", ctx->cfg.link);
	dld_child_peers(ctx);
	ctx->cs.reloads++;
	qb_log(LOG_NOTICE, "corosync reconfigured link %d: %s:%u, %u peers (were %u)",
	       ctx->cfg.link, ctx->cfg.local_text, ctx->cfg.port, ctx->cfg.peer_count, before);
}

/* Read the link from cmap and apply it.  reconnect: the first read after
 * (re)connecting, when corosync may have restarted.  0, or an exit status. */
static int apply(struct dld_ctx *ctx, bool reconnect)
{
	struct dld_cs *cs = &ctx->cs;
	struct dld_cmap_link *l = malloc(sizeof(*l));
	struct dld_config *nc = malloc(sizeof(*nc));
	char err[256];
	int rc = 0;

	if (!l || !nc) {
		qb_log(LOG_ERR, "corosync mode: out of memory");
		goto out;
	}
	if (dld_cmap_load_handle(cs->watch.handle, cs->local_id, cs->given.link, l, err,
				 sizeof(err))) {
		if (!cs->configured && errno == ENOENT) {
			/* An operator's state, not a transient one: do not hold
			 * up systemd (Pacemaker is ordered after us). */
			note_wait(ctx, err);
			dld_notify_ready(ctx);
		} else if (!cs->configured) {
			fatal(ctx, DLD_EXIT_USAGE, err);
			rc = DLD_EXIT_USAGE;
		} else {
			qb_log(LOG_ERR, "corosync's configuration of link %d is not usable: %s; "
			       "keeping the last one", cs->given.link, err);
		}
		goto out;
	}
	if (cs->configured) {
		if (l->local_id != ctx->cfg.node_id) {
			qb_log(LOG_ERR, "corosync's local node id is now %u, not %u: restart "
			       "disklinkd; keeping the last configuration", l->local_id,
			       ctx->cfg.node_id);
			goto out;
		}
		if (!reconnect && l->port != cs->last.port) {
			/* corosync reads a link's port when the link is created. */
			qb_log(LOG_WARNING, "corosync.conf now gives port %u for link %d; corosync "
			       "uses it only after a restart: keeping port %u", l->port,
			       cs->given.link, cs->last.port);
			l->port = cs->last.port;
		}
		if (!reconnect && !dld_cmap_link_differs(l, &cs->last)) {
			qb_log(LOG_DEBUG, "corosync's configuration changed, link %d did not",
			       cs->given.link);
			goto out;
		}
	}
	rc = dld_config_corosync(&cs->given, l, nc, err, sizeof(err));
	if (rc && !cs->configured) {
		fatal(ctx, rc, err);
		goto out;
	}
	if (rc) {
		qb_log(LOG_ERR, "%s; keeping the last configuration", err);
		rc = 0;
		goto out;
	}
	if (!cs->configured)
		rc = first_config(ctx, nc);
	else
		update(ctx, nc);
	cs->last = *l;
	cs->state = DLD_CS_CONNECTED;
out:
	free(l);
	free(nc);
	return rc;
}

int dld_cs_start(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;

	cs->given = ctx->cfg;
	cs->state = DLD_CS_WAITING;
	cs->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (cs->timerfd < 0 || dld_epoll_add(ctx, cs->timerfd, DLD_TAG_CS_TIMER, 0)) {
		qb_log(LOG_ERR, "corosync mode: cannot create a timer: %s", strerror(errno));
		return DLD_EXIT_RUNTIME;
	}
	qb_log(LOG_NOTICE, "corosync mode: link %d on %s", cs->given.link, cs->given.device);
	if (connect_corosync(ctx))
		return 0;
	return apply(ctx, true);
}

void dld_cs_on_cmap(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;

	if (!cs->connected)
		return;
	if (dld_cmap_watch_dispatch(&cs->watch)) {
		if (cs->configured)
			qb_log(LOG_WARNING, "corosync went away: serving link %d with the last "
			       "configuration; reconnecting", cs->given.link);
		disconnect(ctx);
		cs->state = cs->configured ? DLD_CS_DISCONNECTED : DLD_CS_WAITING;
		schedule_retry(ctx);
		return;
	}
	if (cs->watch.changed) {
		cs->watch.changed = 0;
		cs->dirty = true;
		arm(ctx, DEBOUNCE_MS);
	}
}

void dld_cs_on_timer(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;
	uint64_t exp;

	if (read(cs->timerfd, &exp, sizeof(exp)) < 0)
		exp = 0;
	if (!cs->connected) {
		if (connect_corosync(ctx) == 0)
			apply(ctx, true);
		return;
	}
	if (cs->dirty) {
		cs->dirty = false;
		apply(ctx, false);
	}
}

void dld_cs_stop(struct dld_ctx *ctx)
{
	disconnect(ctx);
	if (ctx->cs.timerfd >= 0)
		close(ctx->cs.timerfd);
	ctx->cs.timerfd = -1;
}
