/* The status reply as JSON (the pinned interface of `disklink status
 * --json`, doc/disklinkd.8). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "ctx.h"
#include "mirror_status.h"
#include "slot_header.h"

const char *dld_peer_state_name(uint32_t state)
{
	switch (state) {
	case DLD_PEER_UP:
		return "up";
	case DLD_PEER_STALE:
		return "stale";
	case DLD_PEER_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static unsigned long long u(uint64_t v)
{
	return (unsigned long long)v;
}

const struct dld_peer_status *dld_peer_snap(const struct dld_ctx *ctx, uint32_t i)
{
	static const struct dld_peer_status none = { .slot = -1 };
	uint32_t id = ctx->cfg.peers[i].node_id;

	/* Same index as long as the child has the parent's peer list. */
	if (i < ctx->snap.peer_count && ctx->snap.peers[i].node_id == id)
		return &ctx->snap.peers[i];
	for (uint32_t k = 0; k < ctx->snap.peer_count; k++)
		if (ctx->snap.peers[k].node_id == id)
			return &ctx->snap.peers[k];
	return &none;
}

/* The path the peer's ring is read from and its health
 * (doc/replication.md). */
static void mirror_json(struct dld_ctx *ctx, uint32_t id, const struct dld_peer_status *ps,
			bool live, FILE *out)
{
	const char *dev = dld_peer_device(&ctx->cfg, id);
	const struct dld_tunables *t = &ctx->cfg.tun;
	bool known = live && ps->node_id && ps->lag_ms >= 0;

	fprintf(out, ",\"path\":");
	json_str(out, ps->node_id && ps->path[0] ? ps->path : dev ? dev : ctx->cfg.device);
	fprintf(out, ",\"path_error\":");
	json_str(out, ps->node_id ? ps->path_error : "");
	fprintf(out, ",\"mirror\":\"%s\",\"lag_ms\":", dld_mirror_name(dld_mirror_of(ctx, ps, live)));
	if (known)
		fprintf(out, "%lld", (long long)ps->lag_ms);
	else
		fprintf(out, "null");
	fprintf(out, ",\"lag_warn\":%s,\"lag_max_exceeded\":%s,\"role\":\"%s\"",
		known && (uint64_t)ps->lag_ms >= t->lag_warn_ms ? "true" : "false",
		known && (uint64_t)ps->lag_ms > t->lag_max_ms ? "true" : "false",
		dl_role_name(ps->node_id ? ps->role : DL_ROLE_NONE));
}

static void peer_json(struct dld_ctx *ctx, uint32_t i, bool live, uint64_t now, FILE *out)
{
	const struct dld_peer_conf *pc = &ctx->cfg.peers[i];
	const struct dld_peer_rt *rt = &ctx->peers[i];
	const struct dld_peer_status *ps = dld_peer_snap(ctx, i);
	long long age = -1;

	if (ps->last_block_mono_ns && now > ps->last_block_mono_ns)
		age = (long long)((now - ps->last_block_mono_ns) / 1000000u);
	fprintf(out, "{\"node_id\":%u,\"addr\":", pc->node_id);
	json_str(out, pc->text);
	fprintf(out, ",\"state\":\"%s\",\"slot\":%d,\"generation\":%llu,"
		"\"last_block_age_ms\":%lld,\"blocks_in\":%llu,\"dgrams_in\":%llu,"
		"\"bytes_in\":%llu,\"dgrams_out\":%llu,\"bytes_out\":%llu,"
		"\"dgrams_to_knet\":%llu,\"knet_send_drops\":%llu,\"latency_us\":%llu,"
		"\"torn_retries\":%llu,\"torn_skipped\":%llu,\"invalid\":%llu,"
		"\"lost_blocks\":%llu,\"overruns\":%llu,\"stale\":%llu,\"gen_changes\":%llu,"
		"\"frag_dropped\":%llu",
		live ? dld_peer_state_name(ps->state) : "unknown", ps->slot, u(ps->generation),
		age, u(ps->rs.blocks), u(ps->rs.dgrams), u(ps->rs.bytes), u(rt->dgrams_out),
		u(rt->bytes_out), u(rt->dgrams_in), u(rt->send_drops), u(ps->latency_us),
		u(ps->rs.torn_retries), u(ps->rs.torn_skipped), u(ps->rs.invalid),
		u(ps->rs.lost_blocks), u(ps->rs.overruns), u(ps->rs.stale),
		u(ps->rs.gen_changes), u(ps->rs.frag_dropped));
	mirror_json(ctx, pc->node_id, ps, live, out);
	fputc('}', out);
}

void dld_status_json(struct dld_ctx *ctx, FILE *out)
{
	const struct dld_status *s = &ctx->snap;
	uint64_t now = dld_mono_ns();
	char err[sizeof(ctx->error)];
	const char *state = dld_device_state(ctx, err, sizeof(err));
	bool live = ctx->child && ctx->child_ready_ns && !ctx->stalled;
	uint64_t stalled_ms = ctx->stalled ? (now - ctx->stalled_since_ns) / 1000000u : 0;

	fprintf(out, "{\"node_id\":%u,\"node_name\":", ctx->cfg.node_id);
	json_str(out, ctx->cfg.node_name);
	fprintf(out, ",\"device\":");
	json_str(out, ctx->cfg.device);
	fprintf(out, ",\"volume_uuid\":");
	json_str(out, s->volume_uuid);
	fprintf(out, ",\"cluster\":");
	json_str(out, s->cluster);
	fprintf(out, ",\"slot\":%d,\"generation\":%llu,\"device_state\":\"%s\",\"device_error\":",
		live || ctx->child ? s->slot : -1, u(s->generation), state);
	json_str(out, err);
	fprintf(out, ",\"io\":{\"writes\":%llu,\"reads\":%llu,\"errors\":%llu,"
		"\"write_latency_us\":%llu,\"read_latency_us\":%llu,\"stalled_ms\":%llu,"
		"\"blocks_written\":%llu,\"dgrams_written\":%llu,\"coalesced\":%llu,"
		"\"write_drops\":%llu}",
		u(s->io.writes), u(s->io.reads), u(s->io.errors), u(s->io.write_latency_us),
		u(s->io.read_latency_us), u(stalled_ms), u(s->io.blocks_written),
		u(s->io.dgrams_written), u(s->io.coalesced + ctx->coalesced),
		u(s->io.write_drops));
	fprintf(out, ",\"foreign_drops\":%llu,\"tx_queue_drops\":%llu,\"rx_queue_drops\":%llu,"
		"\"port\":%u,\"local_addr\":", u(ctx->foreign_drops), u(ctx->tx_queue_drops),
		u(s->rx_queue_drops), ctx->cfg.port);
	json_str(out, ctx->cfg.local_text);
	fprintf(out, ",\"link\":%d,\"corosync\":\"%s\",\"corosync_reloads\":%u",
		ctx->cfg.link, dld_cs_state_name(&ctx->cs), ctx->cs.reloads);
	fprintf(out, ",\"role\":\"%s\",\"lag_warn_ms\":%u,\"lag_max_ms\":%u",
		dl_role_name(live ? s->role : ctx->role), ctx->cfg.tun.lag_warn_ms,
		ctx->cfg.tun.lag_max_ms);
	fprintf(out, ",\"pid\":%d,\"io_pid\":%d,\"io_restarts\":%u,\"uptime_s\":%llu,\"peers\":[",
		(int)getpid(), (int)ctx->child, ctx->children ? ctx->children - 1 : 0,
		u((now - ctx->start_ns) / 1000000000u));
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++) {
		if (i)
			fputc(',', out);
		peer_json(ctx, i, live, now, out);
	}
	fprintf(out, "]}\n");
}
