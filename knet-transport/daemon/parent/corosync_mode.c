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

#include <systemd/sd-daemon.h>

#include "cmap_config.h"
#include "ctx.h"
#include "link_state.h"
#include "privileges.h"

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
		log_err(DLD_SUB_COROSYNC, "cannot arm the timer: %s", strerror(errno));
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
		log_debug(DLD_SUB_COROSYNC, "launcher gone: %s", strerror(errno));
	close(ctx->ready_fd);
	ctx->ready_fd = -1;
}

/* Logged when the reason is new, not at every retry. */
static void note_wait(struct dld_ctx *ctx, const char *why)
{
	struct dld_cs *cs = &ctx->cs;

	if (dld_lograte_ok(&cs->wait_log, why, dld_mono_ns(), 0)) {
		log_warn(DLD_SUB_COROSYNC, "%s: waiting (retried with back-off, logged once)", why);
		sd_notifyf(0, "STATUS=waiting: %s", why);
	}
	snprintf(cs->why, sizeof(cs->why), "%.*s", (int)sizeof(cs->why) - 1, why);
	if (!cs->configured)
		release_launcher(ctx, why);
}

static void fatal(struct dld_ctx *ctx, int code, const char *msg)
{
	log_err(DLD_SUB_COROSYNC, "%s", msg);
	snprintf(ctx->error, sizeof(ctx->error), "%.*s", (int)sizeof(ctx->error) - 1, msg);
	dld_ctx_exit(ctx, code);
}

static void disconnect(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;

	if (!cs->connected)
		return;
	dld_loop_del(&ctx->loop, cs->watch->fd);
	dld_cmap_watch_stop(cs->watch);
	cs->connected = false;
	cs->dirty = false;
}

static void on_cmap(int fd, uint32_t events, void *arg);

static int connect_corosync(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;
	char err[256];

	if (dld_cmap_local_id(&cs->local_id, err, sizeof(err)) ||
	    dld_cmap_watch_start(cs->watch, err, sizeof(err))) {
		note_wait(ctx, "corosync is not running (cannot connect to cmap/cfg)");
		schedule_retry(ctx);
		return -1;
	}
	if (dld_loop_add(&ctx->loop, cs->watch->fd, EPOLLIN, on_cmap, ctx)) {
		log_err(DLD_SUB_COROSYNC, "cannot watch cmap: %s", strerror(errno));
		dld_cmap_watch_stop(cs->watch);
		schedule_retry(ctx);
		return -1;
	}
	cs->connected = true;
	cs->backoff_ms = 0;
	dld_lograte_reset(&cs->wait_log);
	cs->why[0] = 0;
	log_notice(DLD_SUB_COROSYNC, "connected to corosync: local node id %u", cs->local_id);
	return 0;
}

static int first_config(struct dld_ctx *ctx, struct dld_config *nc)
{
	struct dld_cs *cs = &ctx->cs;

	nc->tun = ctx->cfg.tun;        /* a SIGHUP may have changed them */
	ctx->cfg = *nc;
	log_notice(DLD_SUB_COROSYNC, "corosync link %d: node %u (%s), %s:%u, %u peers, "
		   "cluster '%s'", ctx->cfg.link, ctx->cfg.node_id, ctx->cfg.node_name,
		   ctx->cfg.local_text, ctx->cfg.port, ctx->cfg.peer_count, ctx->cfg.cluster);
	if (!strcmp(ctx->cfg.mode, "tun")) {
		/* TUN mode: the interface gets its addresses, then the
		 * capabilities go (main.c kept them for this). */
		char why[sizeof(ctx->error)];

		if (dld_tun_configure(ctx)) {
			snprintf(why, sizeof(why), "%.*s", (int)sizeof(why) - 1, ctx->error);
			fatal(ctx, ctx->exit_code, why);
			return -1;
		}
		if (dld_privileges_drop()) {
			fatal(ctx, DLD_EXIT_RUNTIME, "cannot drop capabilities (see the log)");
			return -1;
		}
	} else if (dld_sockets_open(ctx)) {
		fatal(ctx, DLD_EXIT_RUNTIME, "cannot bind the peer addresses (see the log)");
		return -1;
	}
	cs->configured = true;
	sd_notify(0, "STATUS=");
	dld_child_start(ctx);
	return 0;
}

static void update(struct dld_ctx *ctx, struct dld_config *nc)
{
	uint32_t before = ctx->cfg.peer_count;
	char err[256];

	if (!strcmp(ctx->cfg.mode, "tun")) {
		/* TUN mode: no sockets; the peers' addresses route packets. */
		if (dld_tun_update(ctx, nc, err, sizeof(err))) {
			log_err(DLD_SUB_COROSYNC, "%s; keeping the last configuration", err);
			return;
		}
	} else if (dld_sockets_update(ctx, nc))
		log_err(DLD_SUB_COROSYNC, "corosync link %d: some peer addresses could not be "
			"bound (see above); they are retried at the next change", ctx->cfg.link);
	dld_child_peers(ctx);
	ctx->cs.reloads++;
	log_notice(DLD_SUB_COROSYNC, "corosync reconfigured link %d: %s:%u, %u peers (were %u)",
		   ctx->cfg.link, ctx->cfg.local_text, ctx->cfg.port, ctx->cfg.peer_count, before);
}

/* cmap could not give a usable link (err).  0, or -1: the daemon stops. */
static int load_failed(struct dld_ctx *ctx, const char *err)
{
	struct dld_cs *cs = &ctx->cs;

	if (!cs->configured && errno == ENOENT) {
		/* An operator's state, not a transient one: do not hold up
		 * systemd (Pacemaker is ordered after us). */
		note_wait(ctx, err);
		dld_notify_ready(ctx);
	} else if (!cs->configured) {
		fatal(ctx, DLD_EXIT_USAGE, err);
		return -1;
	} else {
		log_err(DLD_SUB_COROSYNC, "corosync's configuration of link %d is not usable: %s; "
			"keeping the last one", cs->given.link, err);
	}
	return 0;
}

/* A configured link read again: true when there is nothing to apply. */
static bool unchanged(struct dld_ctx *ctx, struct dld_cmap_link *l, bool reconnect)
{
	struct dld_cs *cs = &ctx->cs;

	if (l->local_id != ctx->cfg.node_id) {
		log_err(DLD_SUB_COROSYNC, "corosync's local node id is now %u, not %u: restart "
			"disklinkd; keeping the last configuration", l->local_id, ctx->cfg.node_id);
		return true;
	}
	if (!reconnect && l->port != cs->last->port) {
		/* corosync reads a link's port when the link is created. */
		log_warn(DLD_SUB_COROSYNC, "corosync.conf now gives port %u for link %d; corosync "
			 "uses it only after a restart: keeping port %u", l->port, cs->given.link,
			 cs->last->port);
		l->port = cs->last->port;
	}
	if (!reconnect && !dld_cmap_link_differs(l, cs->last)) {
		log_debug(DLD_SUB_COROSYNC, "corosync's configuration changed, link %d did not",
			  cs->given.link);
		return true;
	}
	return false;
}

/* Read the link from cmap and apply it.  reconnect: the first read after
 * (re)connecting, when corosync may have restarted.  0, or -1 when the
 * daemon stops (dld_ctx_exit). */
static int apply(struct dld_ctx *ctx, bool reconnect)
{
	struct dld_cs *cs = &ctx->cs;
	struct dld_cmap_link *l = malloc(sizeof(*l));
	struct dld_config *nc = malloc(sizeof(*nc));
	char err[256];
	int rc = 0, code;

	if (!l || !nc) {
		log_err(DLD_SUB_COROSYNC, "out of memory");
		goto out;
	}
	if (dld_cmap_load_mode(cs->watch->handle, cs->local_id, cs->given.link,
			       !strcmp(cs->given.mode, "tun"), l, err, sizeof(err))) {
		rc = load_failed(ctx, err);
		goto out;
	}
	dld_crypto_guard(ctx, l->crypto_cipher, l->crypto_hash);
	dld_sockets_recheck(ctx);
	if (cs->configured && unchanged(ctx, l, reconnect))
		goto out;
	code = dld_config_corosync(&cs->given, l, nc, err, sizeof(err));
	if (!code && dld_tun_corosync_check(nc, err, sizeof(err)))
		code = DLD_EXIT_USAGE;
	if (code && !cs->configured) {
		fatal(ctx, code, err);
		rc = -1;
		goto out;
	}
	if (code) {
		log_err(DLD_SUB_COROSYNC, "%s; keeping the last configuration", err);
		goto out;
	}
	if (!cs->configured)
		rc = first_config(ctx, nc);
	else
		update(ctx, nc);
	*cs->last = *l;
	cs->state = DLD_CS_CONNECTED;
out:
	free(l);
	free(nc);
	return rc;
}

static void on_cmap(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	struct dld_cs *cs = &ctx->cs;

	(void)fd;
	(void)events;
	if (!cs->connected)
		return;
	if (dld_cmap_watch_dispatch(cs->watch)) {
		if (cs->configured)
			log_warn(DLD_SUB_COROSYNC, "corosync went away: serving link %d with the "
				 "last configuration; reconnecting", cs->given.link);
		disconnect(ctx);
		dld_sockets_recheck(ctx);      /* its socket may change hands */
		cs->state = cs->configured ? DLD_CS_DISCONNECTED : DLD_CS_WAITING;
		schedule_retry(ctx);
		return;
	}
	if (cs->watch->changed) {
		cs->watch->changed = 0;
		cs->dirty = true;
		arm(ctx, DEBOUNCE_MS);
	}
}

/* The reconnect back-off or the debounce ended. */
static void on_timer(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	struct dld_cs *cs = &ctx->cs;
	uint64_t exp;

	(void)events;
	if (read(fd, &exp, sizeof(exp)) < 0)
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

int dld_cs_start(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;

	cs->given = ctx->cfg;
	cs->state = DLD_CS_WAITING;
	cs->watch = calloc(1, sizeof(*cs->watch));
	cs->last = calloc(1, sizeof(*cs->last));
	cs->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!cs->watch || !cs->last || cs->timerfd < 0 ||
	    dld_loop_add(&ctx->loop, cs->timerfd, EPOLLIN, on_timer, ctx)) {
		log_err(DLD_SUB_COROSYNC, "cannot create a timer: %s", strerror(errno));
		dld_ctx_exit(ctx, DLD_EXIT_RUNTIME);
		return -1;
	}
	cs->watch->fd = -1;
	if (dld_link_state_start(ctx))
		log_warn(DLD_SUB_COROSYNC, "cannot watch knet's link states (polling stays "
			 "as if the network carried totem): %s", strerror(errno));
	log_notice(DLD_SUB_COROSYNC, "link %d on %s", cs->given.link, cs->given.device);
	if (connect_corosync(ctx))
		return 0;
	return apply(ctx, true);
}

void dld_cs_stop(struct dld_ctx *ctx)
{
	struct dld_cs *cs = &ctx->cs;

	disconnect(ctx);
	dld_link_state_stop(ctx);
	if (cs->timerfd >= 0) {
		dld_loop_del(&ctx->loop, cs->timerfd);
		close(cs->timerfd);
	}
	cs->timerfd = -1;
	free(cs->watch);
	free(cs->last);
	cs->watch = NULL;
	cs->last = NULL;
}

bool dld_cs_peer_gone(const struct dld_ctx *ctx, uint32_t node_id)
{
	if (ctx->cfg.link < 0 || !ctx->cs.connected)
		return false;
	return dld_cmap_member_gone(ctx->cs.watch, node_id);
}
