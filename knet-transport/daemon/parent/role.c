/* The node's replication role (none, primary, secondary) in its slot
 * header, so that every node sees through the disk who claims the
 * primary role.  `disklink role ROLE` sends "role ROLE" on the control
 * socket; the parent hands the role to the I/O child through the shared
 * area, the child writes its header at once, and the client gets its
 * answer when the header is on disk ("ok role ROLE") or an error line.
 * The parent holds the role: a restarted I/O child writes it again.
 * control.c owns the client: this file only decides the answer. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "slot_header.h"

/* Write the answer into text: always true (the request is answered). */
static bool __attribute__((format(printf, 4, 5)))
answer(struct dld_role_req *req, char *text, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, len, fmt, ap);
	va_end(ap);
	req->wait = false;
	return true;
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

bool dld_role_request(struct dld_ctx *ctx, struct dld_role_req *req, const char *arg,
		      char *text, size_t len)
{
	struct dld_shm *shm = ctx->chan.shm;
	uint32_t role;

	if (parse_role(arg, &role))
		return answer(req, text, len, "error: unknown role '%.40s': give primary, "
			      "secondary or none\n", arg[0] == ' ' ? arg + 1 : arg);
	if (!dld_child_accepts(ctx) || !shm) {
		char err[sizeof(ctx->error)];
		const char *state = dld_device_state(ctx, err, sizeof(err));

		return answer(req, text, len, "error: the role was not written: the device is %s "
			      "(see 'disklink status')\n", state);
	}
	ctx->role_seq = atomic_load(&shm->role_seq) + 1;
	shm->role = role;
	atomic_store_explicit(&shm->role_seq, ctx->role_seq, memory_order_release);
	dld_efd_kick(ctx->chan.tx_efd);
	*req = (struct dld_role_req){
		.wait = true,
		.seq = ctx->role_seq,
		.role = role,
		.child = ctx->child,
		.deadline_ns = dld_mono_ns() +
			((uint64_t)ctx->cfg.tun.io_timeout_ms + 1000u) * 1000000u,
	};
	return false;
}

bool dld_role_check(struct dld_ctx *ctx, struct dld_role_req *req, uint64_t now,
		    char *text, size_t len)
{
	struct dld_shm *shm = ctx->chan.shm;
	const char *name = dl_role_name(req->role);

	if (!req->wait)
		return false;
	if (!shm || ctx->child != req->child)
		return answer(req, text, len, "error: the I/O child stopped before writing role "
			      "%s (see 'disklink status')\n", name);
	/* Requests are numbered in the channel: a later one answers an
	 * earlier one too (the child wrote the latest role). */
	if ((int32_t)(atomic_load_explicit(&shm->role_done, memory_order_acquire) -
		      req->seq) >= 0) {
		if (shm->role_err[0]) {
			char err[200];

			snprintf(err, sizeof(err), "%s", shm->role_err);
			return answer(req, text, len, "error: %s\n", err);
		}
		if (ctx->role != shm->role)
			log_notice(DLD_SUB_ROLE, "replication role: %s", dl_role_name(shm->role));
		ctx->role = shm->role;
		return answer(req, text, len, "ok role %s\n", dl_role_name(shm->role));
	}
	if (now > req->deadline_ns)
		return answer(req, text, len, "error: role %s not written in time: the device "
			      "does not answer (see 'disklink status')\n", name);
	return false;
}
