/* The status reply as a table for people (`disklink status`). */
#include "config.h"

#include <stdio.h>

#include "ctx.h"
#include "mirror_status.h"
#include "slot_header.h"

void dld_status_text(struct dld_ctx *ctx, FILE *out)
{
	const struct dld_status *s = &ctx->snap;
	uint64_t now = dld_mono_ns();
	char err[sizeof(ctx->error)];
	const char *state = dld_device_state(ctx, err, sizeof(err));
	bool live = ctx->child && ctx->child_ready_ns && !ctx->stalled;

	fprintf(out, "node %u (%s), link %s:%u\n", ctx->cfg.node_id, ctx->cfg.node_name,
		ctx->cfg.local_text, ctx->cfg.port);
	if (ctx->cfg.link >= 0)
		fprintf(out, "corosync link %d: %s%s%s\n", ctx->cfg.link,
			dld_cs_state_name(&ctx->cs), ctx->cs.why[0] && !ctx->cs.configured ?
			": " : "", !ctx->cs.configured ? ctx->cs.why : "");
	fprintf(out, "device %s: %s%s%s\n", ctx->cfg.device, state, err[0] ? ": " : "", err);
	if (s->volume_uuid[0])
		fprintf(out, "volume %s, cluster '%s', slot %d, generation %llu, role %s\n",
			s->volume_uuid, s->cluster, s->slot, (unsigned long long)s->generation,
			dl_role_name(live ? s->role : ctx->role));
	fprintf(out, "io: %llu writes (%llu us), %llu reads (%llu us), %llu errors; "
		"drops: %llu foreign, %llu tx queue, %llu rx queue\n\n",
		(unsigned long long)s->io.writes, (unsigned long long)s->io.write_latency_us,
		(unsigned long long)s->io.reads, (unsigned long long)s->io.read_latency_us,
		(unsigned long long)s->io.errors, (unsigned long long)ctx->foreign_drops,
		(unsigned long long)ctx->tx_queue_drops, (unsigned long long)s->rx_queue_drops);
	fprintf(out, "%-6s %-16s %-8s %5s %10s %10s %10s %9s %8s %s\n", "NODE", "ADDRESS",
		"STATE", "SLOT", "LAST BLOCK", "DGRAMS IN", "DGRAMS OUT", "LATENCY", "LOST",
		"ERRORS");
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++) {
		const struct dld_peer_status *ps = dld_peer_snap(ctx, i);
		char age[24] = "never", lat[24];

		if (ps->last_block_mono_ns && now > ps->last_block_mono_ns)
			snprintf(age, sizeof(age), "%.1fs ago",
				 (double)(now - ps->last_block_mono_ns) / 1e9);
		snprintf(lat, sizeof(lat), "%.1fms", (double)ps->latency_us / 1000.0);
		fprintf(out, "%-6u %-16s %-8s %5d %10s %10llu %10llu %9s %8llu %llu\n",
			ctx->cfg.peers[i].node_id, ctx->cfg.peers[i].text,
			live ? dld_peer_state_name(ps->state) : "unknown", ps->slot, age,
			(unsigned long long)ps->rs.dgrams,
			(unsigned long long)ctx->peers[i].dgrams_out, lat,
			(unsigned long long)(ps->rs.lost_blocks + ps->rs.torn_skipped),
			(unsigned long long)(ps->rs.invalid + ps->rs.frag_dropped));
	}
	/* The paths the peers' rings are read through (doc/replication.md). */
	fprintf(out, "\n%-6s %-9s %-8s %-10s %s\n", "NODE", "MIRROR", "LAG", "ROLE", "PATH");
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++) {
		const struct dld_peer_status *ps = dld_peer_snap(ctx, i);
		const char *dev = dld_peer_device(&ctx->cfg, ctx->cfg.peers[i].node_id);
		char lag[32] = "-";

		if (live && ps->node_id && ps->lag_ms >= 0)
			snprintf(lag, sizeof(lag), "%lldms%s", (long long)ps->lag_ms,
				 (uint64_t)ps->lag_ms > ctx->cfg.tun.lag_max_ms ? "!!" :
				 (uint64_t)ps->lag_ms >= ctx->cfg.tun.lag_warn_ms ? "!" : "");
		fprintf(out, "%-6u %-9s %-8s %-10s %s%s%s\n", ctx->cfg.peers[i].node_id,
			dld_mirror_name(dld_mirror_of(ctx, ps, live)), lag,
			dl_role_name(ps->node_id ? ps->role : DL_ROLE_NONE),
			ps->node_id && ps->path[0] ? ps->path : dev ? dev : ctx->cfg.device,
			ps->node_id && ps->path_error[0] ? ": " : "",
			ps->node_id ? ps->path_error : "");
	}
}
