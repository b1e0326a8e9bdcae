/* TUN mode's packets (tun.h, doc/vnic.md).  Out: a packet read from the
 * interface goes, as one record, to the peer that owns its destination
 * address (a broadcast or multicast to every peer); a packet for an
 * address no peer owns, or for a peer that is not up, gets an ICMP host
 * unreachable back.  knet's UDP port and ICMP always go; the rest (bulk)
 * goes at most at tun_bulk_kib and while the tx queue is less than half
 * full, so that it can neither overrun the peers' reading of the ring nor
 * delay knet.  In: a delivered packet must be IPv4 from its peer's
 * address, to ours or to all. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ctx.h"
#include "tun.h"
#include "tun_io.h"
#include "tun_pkt.h"

#define READ_BURST  64                 /* packets per wake-up           */
#define BULK_BURST  (256u << 10)       /* bytes of bulk that may go at once */

static uint32_t v4(const struct sockaddr_storage *ss)
{
	return ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
}

static int peer_by_addr(const struct dld_ctx *ctx, uint32_t addr)
{
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++)
		if (v4(&ctx->cfg.peers[i].addr) == addr)
			return (int)i;
	return -1;
}

static int peer_by_node(const struct dld_ctx *ctx, uint32_t node)
{
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++)
		if (ctx->cfg.peers[i].node_id == node)
			return (int)i;
	return -1;
}

static bool peer_up(struct dld_ctx *ctx, uint32_t i)
{
	const struct dld_peer_status *ps = dld_peer_snap(ctx, i);

	return ps && ps->state == DLD_PEER_UP && dld_child_accepts(ctx);
}

static void unreachable(struct dld_ctx *ctx, const uint8_t *p, size_t len, uint32_t from)
{
	uint8_t out[600];
	size_t n = dld_icmp_unreach(p, len, from, DLD_ICMP_HOST_UNREACH, out, sizeof(out));

	if (n && write(ctx->vnic.fd, out, n) == (ssize_t)n)
		ctx->vnic.st.icmp_sent++;
}

/* Bulk may go: tokens at tun_bulk_kib KiB/s, and room in the queue. */
static bool bulk_ok(struct dld_ctx *ctx, size_t len)
{
	struct dld_vnic *v = &ctx->vnic;
	const struct dld_q *q = ctx->chan.tx;
	uint64_t rate = (uint64_t)ctx->cfg.tun.tun_bulk_kib << 10, now = dld_mono_ns();

	if (q && (atomic_load(&q->head) - atomic_load(&q->tail)) * 2 > q->cap)
		return false;
	if (!rate)
		return true;
	if (!v->refill_ns)
		v->tokens = BULK_BURST;        /* the first packets go at once */
	else if (now > v->refill_ns)
		v->tokens += (now - v->refill_ns) * rate / 1000000000u;
	v->refill_ns = now;
	if (v->tokens > BULK_BURST)
		v->tokens = BULK_BURST;
	if (v->tokens < len)
		return false;
	v->tokens -= len;
	return true;
}

static void push(struct dld_ctx *ctx, const uint16_t *dst, uint16_t ndst, const uint8_t *p,
		 size_t len)
{
	if (!dld_child_accepts(ctx) || dld_q_push(ctx->chan.tx, 0, dst, ndst, p, (uint32_t)len)) {
		ctx->vnic.st.queue_drops++;
		return;
	}
	ctx->vnic.st.pkts_out++;
	ctx->vnic.st.bytes_out += len;
	ctx->tx_kick = true;
}

static void packet_out(struct dld_ctx *ctx, const uint8_t *p, size_t len)
{
	struct dld_pkt_info in;
	uint16_t dst[DLD_MAX_PEERS], ndst = 0;
	int i;

	switch (dld_pkt_classify(p, len, (uint16_t)ctx->cfg.port, &in)) {
	case DLD_PKT_BAD:
		ctx->vnic.st.bad_drops++;
		return;
	case DLD_PKT_ALL:
		for (uint32_t k = 0; k < ctx->cfg.peer_count; k++)
			dst[ndst++] = (uint16_t)ctx->cfg.peers[k].node_id;
		break;
	default:
		i = peer_by_addr(ctx, in.dst);
		if (i < 0 || !peer_up(ctx, (uint32_t)i)) {
			unreachable(ctx, p, len, in.dst);
			return;
		}
		dst[ndst++] = (uint16_t)ctx->cfg.peers[i].node_id;
		break;
	}
	if (!ndst)
		return;
	if (in.cls == DLD_CLASS_BULK && !bulk_ok(ctx, len)) {
		ctx->vnic.st.bulk_drops++;
		return;
	}
	push(ctx, dst, ndst, p, len);
}

void dld_tun_on_readable(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;

	(void)events;
	for (int k = 0; k < READ_BURST; k++) {
		ssize_t n = read(fd, ctx->rxbuf, sizeof(ctx->rxbuf));

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug(DLD_SUB_TUN, "read: %s", strerror(errno));
			return;
		}
		if (n > 0)
			packet_out(ctx, ctx->rxbuf, (size_t)n);
	}
}

/* A delivered packet may enter the interface: IPv4, from peer i's
 * address, to ours or to all. */
static bool acceptable(const struct dld_ctx *ctx, int i, const uint8_t *p, size_t len)
{
	struct dld_pkt_info in;
	enum dld_pkt_kind k = dld_pkt_classify(p, len, 0, &in);

	if (i < 0 || k == DLD_PKT_BAD || in.src != v4(&ctx->cfg.peers[i].addr))
		return false;
	return k == DLD_PKT_ALL || in.dst == ctx->vnic.addr;
}

void dld_tun_deliver(struct dld_ctx *ctx)
{
	struct dld_q *q = ctx->chan.rx;
	uint64_t pos, now;
	struct dld_qmsg m;

	if (!q)
		return;
	dld_efd_drain(ctx->chan.rx_efd);
	now = dld_mono_ns();
	pos = dld_q_tail(q);
	while (dld_q_read(q, &pos, &m)) {
		if (dld_q_too_old(&m, dld_age_budget_ns(ctx->cfg.tun.max_age_ms), now)) {
			/* Age rule: it waited too long on its way here. */
			ctx->aged_drops++;
			dld_q_release(q, pos);
			continue;
		}
		if (ctx->vnic.fd >= 0 && acceptable(ctx, peer_by_node(ctx, m.node), m.data, m.len) &&
		    write(ctx->vnic.fd, m.data, m.len) == (ssize_t)m.len) {
			ctx->vnic.st.pkts_in++;
			ctx->vnic.st.bytes_in += m.len;
		} else {
			ctx->vnic.st.rx_drops++;
		}
		dld_q_release(q, pos);
	}
}
