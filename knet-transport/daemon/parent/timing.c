/* Timing guards (timing.h): knet_ping_timeout from cmap, the io_timeout_ms
 * it implies, and the warning when disklinkd's timing comes near it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <corosync/cmap.h>
#include <systemd/sd-daemon.h>

#include "ctx.h"
#include "timing.h"

uint32_t dld_timing_default_io_timeout(uint32_t ping_timeout_ms)
{
	uint32_t t = ping_timeout_ms / 3u;

	return t < 100u ? 100u : t;
}

bool dld_timing_check(uint32_t ping_timeout_ms, uint32_t io_timeout_ms, uint64_t latency_us,
		      char *buf, size_t len)
{
	uint64_t half_us = (uint64_t)ping_timeout_ms * 500u;

	buf[0] = 0;
	if (!ping_timeout_ms)
		return false;
	if ((uint64_t)io_timeout_ms * 1000u >= half_us)
		snprintf(buf, len, "io_timeout_ms %u is not below half of knet_ping_timeout %u ms: "
			 "knet declares the link down before a stalled disk is noticed; lower "
			 "io_timeout_ms", io_timeout_ms, ping_timeout_ms);
	else if (latency_us >= half_us)
		snprintf(buf, len, "link latency %llu ms is within half of knet_ping_timeout %u ms: "
			 "the disk is too slow for knet (see doc/corosync.md)",
			 (unsigned long long)(latency_us / 1000u), ping_timeout_ms);
	return buf[0] != 0;
}

/* The largest latency the I/O child measured: a peer's datagrams from
 * their write to their delivery, or our own writes. */
static uint64_t measured_latency_us(const struct dld_ctx *ctx)
{
	uint64_t max = ctx->snap.io.write_latency_us;

	for (uint32_t i = 0; i < ctx->snap.peer_count && i < DLD_MAX_PEERS; i++)
		if (ctx->snap.peers[i].latency_us > max)
			max = ctx->snap.peers[i].latency_us;
	return max;
}

/* Log, STATUS= and the status reply, when the warning changes. */
static void check(struct dld_ctx *ctx)
{
	struct dld_timing *t = &ctx->timing;
	char text[DLD_TIMING_WARN_MAX];

	dld_timing_check(t->ping_timeout_ms, ctx->cfg.tun.io_timeout_ms, measured_latency_us(ctx),
			 text, sizeof(text));
	if (!strcmp(text, t->warning))
		return;
	if (text[0]) {
		if (dld_lograte_ok(&t->warn_log, text, dld_mono_ns(), 0))
			log_warn(DLD_SUB_MAIN, "timing: %s", text);
		sd_notifyf(0, "STATUS=warning: %s", text);
	} else {
		log_notice(DLD_SUB_MAIN, "timing: within knet's ping timeout again");
		dld_lograte_reset(&t->warn_log);
		sd_notify(0, "STATUS=");
	}
	memcpy(t->warning, text, sizeof(text));
}

/* max_age_ms follows knet_ping_timeout unless the operator set it. */
static void derive_age(struct dld_ctx *ctx, uint32_t ping_timeout_ms)
{
	struct dld_timing *t = &ctx->timing;

	if (!ping_timeout_ms || t->max_age_given)
		return;
	if (ping_timeout_ms != ctx->cfg.tun.max_age_ms) {
		log_notice(DLD_SUB_MAIN, "timing: max_age_ms %u (knet_ping_timeout)",
			   ping_timeout_ms);
		ctx->cfg.tun.max_age_ms = ping_timeout_ms;
		dld_child_tunables(ctx);
	}
	t->age_derived_ms = ping_timeout_ms;
}

void dld_timing_set_ping(struct dld_ctx *ctx, uint32_t ping_timeout_ms)
{
	struct dld_timing *t = &ctx->timing;
	uint32_t io;

	if (ping_timeout_ms != t->ping_timeout_ms && ping_timeout_ms)
		log_info(DLD_SUB_MAIN, "timing: knet_ping_timeout of link %d is %u ms",
			 ctx->cfg.link, ping_timeout_ms);
	t->ping_timeout_ms = ping_timeout_ms;
	if (ping_timeout_ms && !t->io_timeout_given) {
		io = dld_timing_default_io_timeout(ping_timeout_ms);
		if (io != ctx->cfg.tun.io_timeout_ms) {
			log_notice(DLD_SUB_MAIN, "timing: io_timeout_ms %u (a third of "
				   "knet_ping_timeout %u ms)", io, ping_timeout_ms);
			ctx->cfg.tun.io_timeout_ms = io;
			dld_child_tunables(ctx);
		}
		t->derived_ms = io;
	}
	derive_age(ctx, ping_timeout_ms);
	check(ctx);
}

void dld_timing_reloaded(struct dld_ctx *ctx)
{
	struct dld_timing *t = &ctx->timing;

	if (!t->io_timeout_given && t->derived_ms &&
	    ctx->cfg.tun.io_timeout_ms != t->derived_ms) {
		t->io_timeout_given = true;
		t->derived_ms = 0;
	}
	if (!t->max_age_given && t->age_derived_ms &&
	    ctx->cfg.tun.max_age_ms != t->age_derived_ms) {
		t->max_age_given = true;
		t->age_derived_ms = 0;
	}
	check(ctx);
}

static void on_change(cmap_handle_t h, cmap_track_handle_t th, int32_t event,
		      const char *key, struct cmap_notify_value nv, struct cmap_notify_value ov,
		      void *arg)
{
	struct dld_timing *t = arg;

	(void)h;
	(void)th;
	(void)event;
	(void)key;
	(void)nv;
	(void)ov;
	t->changed = true;
}

static void read_ping(struct dld_ctx *ctx)
{
	char key[CMAP_KEYNAME_MAXLEN + 1];
	uint32_t ms = 0;

	snprintf(key, sizeof(key), "runtime.config.totem.interface.%d.knet_ping_timeout",
		 ctx->cfg.link);
	if (cmap_get_uint32(ctx->timing.cmap, key, &ms) != CS_OK)
		ms = 0;                /* not (yet) there: keep the defaults */
	dld_timing_set_ping(ctx, ms);
}

static void disconnect(struct dld_ctx *ctx)
{
	struct dld_timing *t = &ctx->timing;

	if (!t->connected)
		return;
	if (t->fd >= 0)
		dld_loop_del(&ctx->loop, t->fd);
	cmap_track_delete(t->cmap, t->track);
	cmap_finalize(t->cmap);
	t->connected = false;
	t->fd = -1;
	t->retry_ns = dld_mono_ns() + DLD_TIMING_RETRY_MS * 1000000ull;
}

static void on_cmap(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	cs_error_t rc;

	(void)fd;
	(void)events;
	rc = cmap_dispatch(ctx->timing.cmap, CS_DISPATCH_ALL);
	if (rc != CS_OK && rc != CS_ERR_TRY_AGAIN) {
		/* corosync went away: the last timing stays until it is back. */
		disconnect(ctx);
		return;
	}
	if (ctx->timing.changed) {
		ctx->timing.changed = false;
		read_ping(ctx);
	}
}

static int connect_cmap(struct dld_ctx *ctx)
{
	const int32_t ev = CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY |
			   CMAP_TRACK_PREFIX;
	struct dld_timing *t = &ctx->timing;
	cmap_handle_t h;
	cmap_track_handle_t th;
	int fd = -1;

	t->retry_ns = dld_mono_ns() + DLD_TIMING_RETRY_MS * 1000000ull;
	if (cmap_initialize(&h) != CS_OK) {
		errno = ENOTCONN;
		return -1;
	}
	if (cmap_track_add(h, "runtime.config.totem.", ev, on_change, t, &th) != CS_OK ||
	    cmap_fd_get(h, &fd) != CS_OK || dld_loop_add(&ctx->loop, fd, EPOLLIN, on_cmap, ctx)) {
		cmap_finalize(h);
		errno = ENOTCONN;
		return -1;
	}
	t->active = t->connected = true;
	t->cmap = h;
	t->track = th;
	t->fd = fd;
	read_ping(ctx);
	return 0;
}

void dld_timing_start(struct dld_ctx *ctx)
{
	struct dld_timing *t = &ctx->timing;

	t->fd = -1;
	t->io_timeout_given = (ctx->cfg.given & DLD_SET_IO_TIMEOUT) != 0;
	t->max_age_given = (ctx->cfg.given & DLD_SET_MAX_AGE) != 0;
	t->active = ctx->cfg.link >= 0;
	if (t->active && connect_cmap(ctx))
		log_debug(DLD_SUB_MAIN, "timing: corosync's cmap not reachable yet: retrying");
}

void dld_timing_stop(struct dld_ctx *ctx)
{
	disconnect(ctx);
	ctx->timing.active = false;
}

void dld_timing_tick(struct dld_ctx *ctx, uint64_t now)
{
	struct dld_timing *t = &ctx->timing;

	if (t->active && !t->connected && now >= t->retry_ns)
		connect_cmap(ctx);
	check(ctx);
}
