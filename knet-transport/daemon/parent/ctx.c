/* The parent's context: its initial state (ctx.h). */
#include <string.h>

#include "ctx.h"

void dld_ctx_init(struct dld_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->sigfd = ctx->tickfd = ctx->coalfd = ctx->ctl_fd = ctx->ready_fd = -1;
	ctx->vnic.fd = ctx->cs.timerfd = ctx->timing.fd = -1;
	for (uint32_t i = 0; i < DLD_MAX_PEERS; i++)
		ctx->peers[i].fd = -1;
	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		ctx->clients[i].fd = -1;
}
