/* The node's replication role (none, primary, secondary) in its slot
 * header, so that every node sees through the disk who claims the
 * primary role.  `disklink role ROLE` sends "role ROLE" on the control
 * socket; the parent hands the role to the I/O child through the shared
 * area, the child writes its header at once, and the client gets its
 * answer when the header is on disk ("ok role ROLE") or an error line.
 * The parent holds the role: a restarted I/O child writes it again. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <qb/qblog.h>

#include "ctx.h"
#include "slot_header.h"

static void __attribute__((format(printf, 3, 4)))
answer(struct dld_ctx *ctx, uint32_t i, const char *fmt, ...)
{
	char text[300];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	dld_control_send(ctx, i, text, n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n :
			 sizeof(text) - 1);
	dld_control_end(ctx, i);
}

static int parse_role(const char *s, uint32_t *role)
{
	while (*s == ' ')
		s++;
	if (!strcmp(s, "primary"))
		*role = DL_ROLE_PRIMARY;
	else if (!strcmp(s, "secondary"))
		*role = DL_ROLE_SECONDARY;
	else if (!strcmp(s, "none"))
		*role = DL_ROLE_NONE;
	else
		return -1;
	return 0;
}

void dld_role_request(struct dld_ctx *ctx, uint32_t i, const char *arg)
{
	struct dld_ctl_client *c = &ctx->clients[i];
	struct dld_shm *shm = ctx->chan.shm;
	uint32_t role;

	if (parse_role(arg, &role)) {
		answer(ctx, i, "error: unknown role '%.40s': give primary, secondary or none\n",
		       arg[0] == ' ' ? arg + 1 : arg);
		return;
	}
	if (!dld_child_accepts(ctx) || !shm) {
		char err[sizeof(ctx->error)];
		const char *state = dld_device_state(ctx, err, sizeof(err));

		answer(ctx, i, "error: the role was not written: the device is %s (see "
		       "'disklink status')\n", state);
		return;
	}
	ctx->role_seq = atomic_load(&shm->role_seq) + 1;
	shm->role = role;
	atomic_store_explicit(&shm->role_seq, ctx->role_seq, memory_order_release);
	dld_efd_kick(ctx->chan.tx_efd);
	c->role_wait = true;
	c->role_seq = ctx->role_seq;
	c->role = role;
	c->role_child = ctx->child;
	c->role_deadline_ns = dld_mono_ns() +
		((uint64_t)ctx->cfg.tun.io_timeout_ms + 1000u) * 1000000u;
}

void dld_role_poll(struct dld_ctx *ctx, uint64_t now)
{
	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++) {
		struct dld_ctl_client *c = &ctx->clients[i];
		struct dld_shm *shm = ctx->chan.shm;
		const char *name = dl_role_name(c->role);

		if (c->fd < 0 || !c->role_wait)
			continue;
		if (!shm || ctx->child != c->role_child) {
			answer(ctx, i, "error: the I/O child stopped before writing role %s (see "
			       "'disklink status')\n", name);
			continue;
		}
		/* Requests are numbered in the channel: a later one answers
		 * an earlier one too (the child wrote the latest role). */
		if ((int32_t)(atomic_load_explicit(&shm->role_done, memory_order_acquire) -
			      c->role_seq) >= 0) {
			if (shm->role_err[0]) {
				char text[200];

				snprintf(text, sizeof(text), "%s", shm->role_err);
				answer(ctx, i, "error: %s\n", text);
				continue;
			}
			if (ctx->role != shm->role)
				qb_log(LOG_NOTICE, "replication role: %s", dl_role_name(shm->role));
			ctx->role = shm->role;
			answer(ctx, i, "ok role %s\n", dl_role_name(shm->role));
			continue;
		}
		if (now > c->role_deadline_ns)
			answer(ctx, i, "error: role %s not written in time: the device does not "
			       "answer (see 'disklink status')\n", name);
	}
}
