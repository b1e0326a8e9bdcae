/* The crypto guard (corosync mode): knet without a crypto_hash accepts
 * any datagram that reaches it, so whoever can write to the volume, or
 * bind the knet end, speaks for a node.  Such a link is refused unless
 * the operator said allow_plaintext = yes (doc/security.md). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctx.h"

static bool is_none(const char *v)
{
	return !v || !*v || !strcmp(v, "none");
}

void dld_crypto_guard(struct dld_ctx *ctx, const char *cipher, const char *hash)
{
	enum dld_crypto st = !is_none(hash) ? DLD_CRYPTO_ON :
			     ctx->cfg.allow_plaintext ? DLD_CRYPTO_PLAIN : DLD_CRYPTO_REFUSED;

	ctx->refused[0] = 0;
	if (st == DLD_CRYPTO_REFUSED)
		snprintf(ctx->refused, sizeof(ctx->refused), "corosync's totem.crypto_hash is "
			 "none: anyone who can write the volume could speak for a node; set "
			 "crypto_hash and crypto_cipher, or allow_plaintext = yes");
	if (st == ctx->crypto)
		return;
	ctx->crypto = st;
	if (st == DLD_CRYPTO_REFUSED)
		log_err(DLD_SUB_COROSYNC, "link %d refused: %s", ctx->cfg.link, ctx->refused);
	else if (st == DLD_CRYPTO_PLAIN)
		log_warn(DLD_SUB_COROSYNC, "link %d relays without knet crypto (crypto_hash none, "
			 "allow_plaintext = yes): anyone who can write the volume could speak for "
			 "a node", ctx->cfg.link);
	else
		log_notice(DLD_SUB_COROSYNC, "link %d: knet crypto on (cipher %s, hash %s): "
			   "relaying", ctx->cfg.link, is_none(cipher) ? "none" : cipher, hash);
}
