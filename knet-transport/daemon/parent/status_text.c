/* The status reply as a table for people (`disklink status`): the
 * status view, printed. */
#include "config.h"

#include <stdio.h>

#include "ctx.h"
#include "status_view.h"

static unsigned long long u(uint64_t v)
{
	return (unsigned long long)v;
}

static void header(const struct dld_status_view *v, FILE *out)
{
	fprintf(out, "node %u (%s), link %s:%u\n", v->node_id, v->node_name, v->local_addr,
		v->port);
	if (v->link >= 0)
		fprintf(out, "corosync link %d: %s%s%s\n", v->link, v->corosync,
			v->corosync_why[0] ? ": " : "", v->corosync_why);
	if (v->link_refused[0])
		fprintf(out, "link refused: %s\n", v->link_refused);
	fprintf(out, "device %s: %s%s%s\n", v->device, v->device_state,
		v->device_error[0] ? ": " : "", v->device_error);
	if (v->timing_warning[0])
		fprintf(out, "warning: %s\n", v->timing_warning);
	if (v->tun)
		fprintf(out, "interface %s: %s/%u, mtu %u; out %llu packets (%llu bytes), in %llu "
			"(%llu bytes); icmp unreachable %llu; drops: %llu bulk, %llu queue, "
			"%llu bad, %llu rx\n", v->tun_name, v->local_addr, v->tun_prefix_len,
			v->tun_mtu, u(v->tun->pkts_out), u(v->tun->bytes_out), u(v->tun->pkts_in),
			u(v->tun->bytes_in), u(v->tun->icmp_sent), u(v->tun->bulk_drops),
			u(v->tun->queue_drops), u(v->tun->bad_drops), u(v->tun->rx_drops));
	if (v->volume_uuid[0])
		fprintf(out, "volume %s, cluster '%s', slot %d, generation %llu, role %s\n",
			v->volume_uuid, v->cluster, v->slot, u(v->generation), v->role);
	fprintf(out, "io: %llu writes (%llu us), %llu reads (%llu us), %llu errors; "
		"drops: %llu foreign, %llu tx queue, %llu rx queue\n",
		u(v->io->writes), u(v->io->write_latency_us), u(v->io->reads),
		u(v->io->read_latency_us), u(v->io->errors), u(v->foreign_drops),
		u(v->tx_queue_drops), u(v->rx_queue_drops));
	fprintf(out, "max age %u ms; aged drops: %llu queued, %llu late write, %llu read, "
		"%llu delivery\n\n", v->max_age_ms, u(v->io->aged_queued), u(v->io->aged_late),
		u(v->aged_read), u(v->aged_delivery));
}

static void links(const struct dld_status_view *v, FILE *out)
{
	fprintf(out, "%-6s %-16s %-8s %5s %10s %10s %10s %9s %8s %s\n", "NODE", "ADDRESS",
		"STATE", "SLOT", "LAST BLOCK", "DGRAMS IN", "DGRAMS OUT", "LATENCY", "LOST",
		"ERRORS");
	for (uint32_t i = 0; i < v->peer_count; i++) {
		const struct dld_peer_view *p = &v->peers[i];
		char age[24] = "never", lat[24];

		if (p->seen)
			snprintf(age, sizeof(age), "%.1fs ago", (double)p->last_block_age_ns / 1e9);
		snprintf(lat, sizeof(lat), "%.1fms", (double)p->latency_us / 1000.0);
		fprintf(out, "%-6u %-16s %-8s %5d %10s %10llu %10llu %9s %8llu %llu\n",
			p->node_id, p->addr, p->state, p->slot, age, u(p->rs->dgrams),
			u(p->dgrams_out), lat, u(p->rs->lost_blocks + p->rs->torn_skipped),
			u(p->rs->invalid + p->rs->frag_dropped));
	}
}

/* The paths the peers' rings are read through (doc/replication.md). */
static void paths(const struct dld_status_view *v, FILE *out)
{
	fprintf(out, "\n%-6s %-9s %-8s %-10s %s\n", "NODE", "MIRROR", "LAG", "ROLE", "PATH");
	for (uint32_t i = 0; i < v->peer_count; i++) {
		const struct dld_peer_view *p = &v->peers[i];
		char lag[32] = "-";

		if (p->lag_known)
			snprintf(lag, sizeof(lag), "%lldms%s", (long long)p->lag_ms,
				 p->lag_max_exceeded ? "!!" : p->lag_warn ? "!" : "");
		fprintf(out, "%-6u %-9s %-8s %-10s %s%s%s\n", p->node_id, p->mirror, lag,
			p->role, p->path, p->path_error[0] ? ": " : "", p->path_error);
	}
}

void dld_status_text(struct dld_ctx *ctx, FILE *out)
{
	struct dld_status_view v;

	dld_status_view(ctx, &v);
	header(&v, out);
	links(&v, out);
	paths(&v, out);
}
