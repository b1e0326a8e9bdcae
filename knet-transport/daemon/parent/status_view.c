/* The status view (status_view.h): everything a status reply shows,
 * computed once, and the walk over its keys that the JSON and shell
 * outputs share. */
#include "config.h"

#include <unistd.h>

#include "ctx.h"
#include "json.h"
#include "mirror_status.h"
#include "slot_header.h"
#include "status_view.h"
#include "tun_plan.h"

_Static_assert(sizeof(((struct dld_status_view *)0)->device_error) >=
	       sizeof(((struct dld_ctx *)0)->error), "device_error holds ctx->error");

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

/* Peer i as the child reads it; live: the child runs and answers. */
static void peer_view(struct dld_ctx *ctx, uint32_t i, bool live, uint64_t now,
		      struct dld_peer_view *p)
{
	const struct dld_peer_conf *pc = &ctx->cfg.peers[i];
	const struct dld_peer_rt *rt = &ctx->peers[i];
	const struct dld_peer_status *ps = dld_peer_snap(ctx, i);
	const char *dev = dld_peer_device(&ctx->cfg, pc->node_id);
	const struct dld_tunables *t = &ctx->cfg.tun;
	bool known = live && ps->node_id && ps->lag_ms >= 0;

	*p = (struct dld_peer_view){
		.node_id = pc->node_id,
		.addr = pc->text,
		.state = live ? dld_peer_state_name(ps->state) : "unknown",
		.slot = ps->slot,
		.generation = ps->generation,
		.seen = ps->last_block_mono_ns && now > ps->last_block_mono_ns,
		.rs = &ps->rs,
		.dgrams_out = rt->dgrams_out,
		.bytes_out = rt->bytes_out,
		.dgrams_to_knet = rt->dgrams_in,
		.knet_send_drops = rt->send_drops,
		.latency_us = ps->latency_us,
		.path = ps->node_id && ps->path[0] ? ps->path : dev ? dev : ctx->cfg.device,
		.path_error = ps->node_id ? ps->path_error : "",
		.mirror = dld_mirror_name(dld_mirror_of(ctx, ps, live)),
		.lag_known = known,
		.lag_ms = known ? ps->lag_ms : -1,
		.lag_warn = known && (uint64_t)ps->lag_ms >= t->lag_warn_ms,
		.lag_max_exceeded = known && (uint64_t)ps->lag_ms > t->lag_max_ms,
		.role = dl_role_name(ps->node_id ? ps->role : DL_ROLE_NONE),
	};
	if (p->seen)
		p->last_block_age_ns = now - ps->last_block_mono_ns;
}

static const char *crypto_name(enum dld_crypto c)
{
	switch (c) {
	case DLD_CRYPTO_ON:
		return "on";
	case DLD_CRYPTO_PLAIN:
		return "plaintext";
	case DLD_CRYPTO_REFUSED:
		return "refused";
	default:
		return "unknown";
	}
}

void dld_status_view(struct dld_ctx *ctx, struct dld_status_view *v)
{
	const struct dld_status *s = &ctx->snap;
	uint64_t now = dld_mono_ns();
	bool live = ctx->child && ctx->child_ready_ns && !ctx->stalled;

	*v = (struct dld_status_view){
		.node_id = ctx->cfg.node_id,
		.node_name = ctx->cfg.node_name,
		.device = ctx->cfg.device,
		.volume_uuid = s->volume_uuid,
		.cluster = s->cluster,
		.slot = live || ctx->child ? s->slot : -1,
		.generation = s->generation,
		.io = &s->io,
		.stalled_ms = ctx->stalled ? (now - ctx->stalled_since_ns) / 1000000u : 0,
		.coalesced = s->io.coalesced + ctx->coalesced,
		.foreign_drops = ctx->foreign_drops,
		.owner_drops = ctx->owner_drops,
		.refused_drops = ctx->refused_drops,
		.link_refused = ctx->refused,
		.crypto = crypto_name(ctx->crypto),
		.tx_queue_drops = ctx->tx_queue_drops,
		.rx_queue_drops = s->rx_queue_drops,
		.port = ctx->cfg.port,
		.local_addr = ctx->cfg.local_text,
		.link = ctx->cfg.link,
		.corosync = dld_cs_state_name(&ctx->cs),
		.corosync_why = ctx->cs.configured ? "" : ctx->cs.why,
		.corosync_reloads = ctx->cs.reloads,
		.role = dl_role_name(live ? s->role : ctx->role),
		.lag_warn_ms = ctx->cfg.tun.lag_warn_ms,
		.lag_max_ms = ctx->cfg.tun.lag_max_ms,
		.pid = (int)getpid(),
		.io_pid = (int)ctx->child,
		.io_restarts = ctx->children ? ctx->children - 1 : 0,
		.uptime_s = (now - ctx->start_ns) / 1000000000u,
		.io_timeout_ms = ctx->cfg.tun.io_timeout_ms,
		.max_age_ms = ctx->cfg.tun.max_age_ms,
		.aged_read = s->aged_read,
		.aged_delivery = ctx->aged_drops,
		.knet_ping_timeout_ms = ctx->timing.ping_timeout_ms,
		.timing_warning = ctx->timing.warning,
		.tun = ctx->vnic.fd >= 0 ? &ctx->vnic.st : NULL,
		.tun_name = ctx->cfg.tun_name,
		.tun_mtu = ctx->cfg.tun_mtu,
		/* corosync mode on an IPv6 dl0 link: local_addr is prefix::N */
		.tun_prefix_len = ctx->cfg.local.ss_family == AF_INET6 ? DLD_TUN_PREFIX6_LEN :
				  DLD_TUN_PREFIX_LEN,
		.peer_count = ctx->cfg.peer_count,
	};
	v->device_state = dld_device_state(ctx, v->device_error, sizeof(v->device_error));
	for (uint32_t i = 0; i < ctx->cfg.peer_count && i < DLD_MAX_PEERS; i++)
		peer_view(ctx, i, live, now, &v->peers[i]);
}

static void emit_peer(const struct dld_peer_view *p, struct dld_status_sink *s)
{
	s->open(s, NULL, '{');
	s->u64(s, "node_id", p->node_id);
	s->str(s, "addr", p->addr);
	s->str(s, "state", p->state);
	s->i64(s, "slot", p->slot);
	s->u64(s, "generation", p->generation);
	s->i64(s, "last_block_age_ms", p->seen ? (int64_t)(p->last_block_age_ns / 1000000u) : -1);
	s->u64(s, "blocks_in", p->rs->blocks);
	s->u64(s, "dgrams_in", p->rs->dgrams);
	s->u64(s, "bytes_in", p->rs->bytes);
	s->u64(s, "dgrams_out", p->dgrams_out);
	s->u64(s, "bytes_out", p->bytes_out);
	s->u64(s, "dgrams_to_knet", p->dgrams_to_knet);
	s->u64(s, "knet_send_drops", p->knet_send_drops);
	s->u64(s, "latency_us", p->latency_us);
	s->u64(s, "torn_retries", p->rs->torn_retries);
	s->u64(s, "torn_skipped", p->rs->torn_skipped);
	s->u64(s, "invalid", p->rs->invalid);
	s->u64(s, "lost_blocks", p->rs->lost_blocks);
	s->u64(s, "overruns", p->rs->overruns);
	s->u64(s, "stale", p->rs->stale);
	s->u64(s, "gen_changes", p->rs->gen_changes);
	s->u64(s, "frag_dropped", p->rs->frag_dropped);
	s->str(s, "path", p->path);
	s->str(s, "path_error", p->path_error);
	s->str(s, "mirror", p->mirror);
	if (p->lag_known)
		s->i64(s, "lag_ms", p->lag_ms);
	else
		s->null(s, "lag_ms");
	s->boolean(s, "lag_warn", p->lag_warn);
	s->boolean(s, "lag_max_exceeded", p->lag_max_exceeded);
	s->str(s, "role", p->role);
	s->close(s, '}');
}

static void emit_io(const struct dld_status_view *v, struct dld_status_sink *s)
{
	s->open(s, "io", '{');
	s->u64(s, "writes", v->io->writes);
	s->u64(s, "reads", v->io->reads);
	s->u64(s, "errors", v->io->errors);
	s->u64(s, "write_latency_us", v->io->write_latency_us);
	s->u64(s, "read_latency_us", v->io->read_latency_us);
	s->u64(s, "stalled_ms", v->stalled_ms);
	s->u64(s, "blocks_written", v->io->blocks_written);
	s->u64(s, "dgrams_written", v->io->dgrams_written);
	s->u64(s, "coalesced", v->coalesced);
	s->u64(s, "write_drops", v->io->write_drops);
	s->close(s, '}');
}

/* Datagrams dropped by the age rules (doc/format.md, "Age rules"). */
static void emit_aged(const struct dld_status_view *v, struct dld_status_sink *s)
{
	s->u64(s, "max_age_ms", v->max_age_ms);
	s->open(s, "aged_drops", '{');
	s->u64(s, "queued", v->io->aged_queued);
	s->u64(s, "late_write", v->io->aged_late);
	s->u64(s, "read", v->aged_read);
	s->u64(s, "delivery", v->aged_delivery);
	s->close(s, '}');
}

/* TUN mode's interface (doc/vnic.md): only in TUN mode. */
static void emit_interface(const struct dld_status_view *v, struct dld_status_sink *s)
{
	const struct dld_vnic_stats *t = v->tun;

	s->open(s, "interface", '{');
	s->str(s, "name", v->tun_name);
	s->str(s, "address", v->local_addr);
	s->u64(s, "prefix_len", v->tun_prefix_len);
	s->u64(s, "mtu", v->tun_mtu);
	s->u64(s, "packets_out", t->pkts_out);
	s->u64(s, "bytes_out", t->bytes_out);
	s->u64(s, "packets_in", t->pkts_in);
	s->u64(s, "bytes_in", t->bytes_in);
	s->u64(s, "icmp_unreachable_sent", t->icmp_sent);
	s->u64(s, "bulk_drops", t->bulk_drops);
	s->u64(s, "bulk_queued", t->bulk_queued);
	s->u64(s, "queue_drops", t->queue_drops);
	s->u64(s, "bad_drops", t->bad_drops);
	s->u64(s, "rx_drops", t->rx_drops);
	s->close(s, '}');
}

void dld_status_emit(const struct dld_status_view *v, struct dld_status_sink *s)
{
	s->open(s, NULL, '{');
	s->u64(s, "format_version", DL_JSON_FORMAT_VERSION);
	s->u64(s, "node_id", v->node_id);
	s->str(s, "node_name", v->node_name);
	s->str(s, "device", v->device);
	s->str(s, "volume_uuid", v->volume_uuid);
	s->str(s, "cluster", v->cluster);
	s->i64(s, "slot", v->slot);
	s->u64(s, "generation", v->generation);
	s->str(s, "device_state", v->device_state);
	s->str(s, "device_error", v->device_error);
	emit_io(v, s);
	s->u64(s, "foreign_drops", v->foreign_drops);
	s->u64(s, "foreign_owner_drops", v->owner_drops);
	s->str(s, "crypto", v->crypto);
	s->str(s, "link_refused", v->link_refused);
	s->u64(s, "refused_drops", v->refused_drops);
	s->u64(s, "tx_queue_drops", v->tx_queue_drops);
	s->u64(s, "rx_queue_drops", v->rx_queue_drops);
	emit_aged(v, s);
	s->u64(s, "port", v->port);
	s->str(s, "local_addr", v->local_addr);
	s->i64(s, "link", v->link);
	s->str(s, "corosync", v->corosync);
	s->u64(s, "corosync_reloads", v->corosync_reloads);
	s->str(s, "role", v->role);
	s->u64(s, "lag_warn_ms", v->lag_warn_ms);
	s->u64(s, "lag_max_ms", v->lag_max_ms);
	s->i64(s, "pid", v->pid);
	s->i64(s, "io_pid", v->io_pid);
	s->u64(s, "io_restarts", v->io_restarts);
	s->u64(s, "uptime_s", v->uptime_s);
	s->u64(s, "io_timeout_ms", v->io_timeout_ms);
	s->u64(s, "knet_ping_timeout_ms", v->knet_ping_timeout_ms);
	s->str(s, "timing_warning", v->timing_warning);
	if (v->tun)
		emit_interface(v, s);
	s->open(s, "peers", '[');
	for (uint32_t i = 0; i < v->peer_count; i++)
		emit_peer(&v->peers[i], s);
	s->close(s, ']');
	s->close(s, '}');
}
