/* TUN mode's packets (tun.h, doc/vnic.md).  Out: a packet read from the
 * interface goes, as one record, to the peer that owns its destination
 * address (a broadcast or multicast to every peer); a packet for an
 * address no peer owns, or for a peer that is not up, gets an ICMP host
 * unreachable back.  knet's UDP port and ICMP always go at once; the
 * rest (bulk) waits in a FIFO (tun_queue.h) and goes at most at
 * tun_bulk_kib and while the tx queue is less than half full, so that it
 * can neither overrun the peers' reading of the ring nor delay knet; a
 * timerfd releases it, and it is dropped only when the FIFO is full (as
 * a qdisc does: a dropped segment costs TCP a fast retransmit, not a
 * timeout).  Without a limit (tun_bulk_kib = 0) bulk is not queued: it
 * goes while the tx queue is under half full, dropped otherwise.  In: a delivered packet must come from its peer's address
 * (IPv4, or IPv6 with tun_ipv6), to ours or to all.  IPv6: node N is
 * prefix::N; a multicast (ff00::/8) goes to every peer when it comes from
 * our address in the prefix; the kernel's own (from fe80:: or ::, such as
 * MLD reports and router solicitations) are dropped (bad_drops). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "ctx.h"
#include "tun.h"
#include "tun_io.h"
#include "tun_pkt.h"
#include "tun_plan.h"
#include "tun_queue.h"

#define READ_BURST  64                 /* packets per wake-up           */
#define BULK_BURST  (256u << 10)       /* bytes of bulk that may go at once */
#define NS_PER_S    1000000000ull
/* Queued bulk older than the writer's half of max_age_ms (doc/format.md,
 * "Age rules") is dropped; with no age limit, older than this (TCP
 * resends after a second anyway).  The queue holds this much of the rate. */
#define BULK_AGE_NS NS_PER_S
#define BULK_RETRY_NS 2000000ull       /* the tx queue half full: look again */
#define BULK_WAIT_MAX 100000000ull     /* the release looks at least this often */

static uint32_t peer_v4(const struct dld_ctx *ctx, uint32_t i)
{
	return dld_tun_v4_of(&ctx->cfg.peers[i].addr, ctx->cfg.peers[i].node_id);
}

static int peer_by_addr(const struct dld_ctx *ctx, uint32_t addr)
{
	for (uint32_t i = 0; addr && i < ctx->cfg.peer_count; i++)
		if (peer_v4(ctx, i) == addr)
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

/* Peer i is up in the child's last status.  (A lookup of ctx->snap of
 * its own, not status_view's dld_peer_snap: status_view calls into
 * corosync_mode, which calls into tun.c: no call cycle between files.) */
static bool peer_up(struct dld_ctx *ctx, uint32_t i)
{
	uint32_t id = ctx->cfg.peers[i].node_id;
	bool up = false;

	for (uint32_t k = 0; k < ctx->snap.peer_count && k < DLD_MAX_PEERS; k++)
		if (ctx->snap.peers[k].node_id == id)
			up = ctx->snap.peers[k].state == DLD_PEER_UP;
	return up && dld_child_accepts(ctx);
}

static void unreachable(struct dld_ctx *ctx, const uint8_t *p, size_t len,
			const struct dld_pkt_info *in)
{
	uint8_t out[1280];
	size_t n = in->family == 6 ?
		dld_icmp6_unreach(p, len, in->dst6, DLD_ICMP6_ADDR_UNREACH, out, sizeof(out)) :
		dld_icmp_unreach(p, len, in->dst, DLD_ICMP_HOST_UNREACH, out, sizeof(out));

	if (n && write(ctx->vnic.fd, out, n) == (ssize_t)n)
		ctx->vnic.st.icmp_sent++;
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

static uint64_t now_ns(const struct dld_vnic *v)
{
	return v->clock ? dl_clock_mono(v->clock) : dld_mono_ns();
}

static uint64_t bulk_rate(const struct dld_ctx *ctx)
{
	return (uint64_t)ctx->cfg.tun.tun_bulk_kib << 10;
}

/* The tx queue is more than half full: bulk waits (knet keeps the rest). */
static bool tx_half_full(const struct dld_ctx *ctx)
{
	const struct dld_q *q = ctx->chan.tx;

	return q && (atomic_load(&q->head) - atomic_load(&q->tail)) * 2 > q->cap;
}

/* Tokens at rate bytes/s since the last refill, at most BULK_BURST (the
 * first packets, and those after a second of silence, go at once). */
static void refill(struct dld_vnic *v, uint64_t rate, uint64_t now)
{
	if (!v->refill_ns || now - v->refill_ns >= NS_PER_S)
		v->tokens = BULK_BURST;
	else if (now > v->refill_ns)
		v->tokens += (now - v->refill_ns) * rate / NS_PER_S;
	v->refill_ns = now;
	if (v->tokens > BULK_BURST)
		v->tokens = BULK_BURST;
}

static void on_timer(int fd, uint32_t events, void *arg)
{
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug(DLD_SUB_TUN, "bulk timer: %s", strerror(errno));
	dld_tun_bulk_release(arg);
}

/* Wake the release in wait_ns (the timer made and watched at first use);
 * without a timer the next bulk packet releases the queue. */
static void arm(struct dld_ctx *ctx, uint64_t wait_ns)
{
	struct dld_vnic *v = &ctx->vnic;
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(wait_ns / NS_PER_S),
						.tv_nsec = (long)(wait_ns % NS_PER_S) } };

	if (!v->bulk_timer) {
		v->bulk_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (v->bulk_tfd < 0 || dld_loop_add(&ctx->loop, v->bulk_tfd, EPOLLIN, on_timer, ctx)) {
			if (dld_lograte_ok(&v->bulk_log, "timer", now_ns(v), 60 * NS_PER_S))
				log_warn(DLD_SUB_TUN, "bulk queue: no release timer: %s",
					 strerror(errno));
			if (v->bulk_tfd >= 0)
				close(v->bulk_tfd);
			return;
		}
		v->bulk_timer = true;
	}
	if (wait_ns > BULK_WAIT_MAX)
		its.it_value = (struct timespec){ .tv_nsec = (long)BULK_WAIT_MAX };
	timerfd_settime(v->bulk_tfd, 0, &its, NULL);
}

/* A queued packet that may no longer go: older than its age budget, no
 * child to take it, or its (unicast) peer is not up any more. */
static bool stale(struct dld_ctx *ctx, const struct dld_tunq_pkt *h, uint64_t now)
{
	uint64_t age_ns = dld_age_budget_ns(ctx->cfg.tun.max_age_ms);
	int i;

	if (!age_ns || age_ns > BULK_AGE_NS)
		age_ns = BULK_AGE_NS;
	if (now > h->t_ns + age_ns || !dld_child_accepts(ctx))
		return true;
	if (h->ndst != 1)
		return false;          /* to all: goes as it would have */
	i = peer_by_node(ctx, h->dst[0]);
	return i < 0 || !peer_up(ctx, (uint32_t)i);
}

void dld_tun_bulk_release(struct dld_ctx *ctx)
{
	struct dld_vnic *v = &ctx->vnic;
	uint64_t rate = bulk_rate(ctx), now = now_ns(v);
	struct dld_tunq_pkt h;

	refill(v, rate, now);
	while (dld_tunq_peek(&v->bulk, &h)) {
		if (stale(ctx, &h, now)) {
			dld_tunq_pop(&v->bulk, &h, NULL);
			v->st.bulk_drops++;
			continue;
		}
		if (tx_half_full(ctx)) {
			arm(ctx, BULK_RETRY_NS);
			break;
		}
		if (rate && v->tokens < h.len) {
			arm(ctx, (h.len - v->tokens) * NS_PER_S / rate + 1);
			break;
		}
		v->tokens -= rate ? h.len : 0;
		/* rxbuf: the packet read (if any) is queued already. */
		dld_tunq_pop(&v->bulk, &h, ctx->rxbuf);
		push(ctx, h.dst, h.ndst, ctx->rxbuf, h.len);
	}
	v->st.bulk_queued = v->bulk.count;
}

/* Bulk: without a limit (and nothing queued) it goes while the tx queue
 * is under half full; with one it joins the queue, dropped when that is
 * full (at most a second of the rate), and the queue goes as tokens allow. */
static void bulk_out(struct dld_ctx *ctx, const uint16_t *dst, uint16_t ndst, const uint8_t *p,
		     size_t len)
{
	struct dld_vnic *v = &ctx->vnic;
	uint64_t rate = bulk_rate(ctx), cap = rate * BULK_AGE_NS / NS_PER_S;
	struct dld_tunq_pkt h = { .t_ns = now_ns(v), .len = (uint32_t)len, .ndst = ndst };

	if (!rate && !v->bulk.count) {
		if (tx_half_full(ctx))
			v->st.bulk_drops++;
		else
			push(ctx, dst, ndst, p, len);
		return;
	}
	memcpy(h.dst, dst, ndst * sizeof(*dst));
	if (dld_tunq_put(&v->bulk, rate ? cap : DLD_TUNQ_BYTES, &h, p))
		v->st.bulk_drops++;
	dld_tun_bulk_release(ctx);
}

void dld_tun_io_stop(struct dld_ctx *ctx)
{
	struct dld_vnic *v = &ctx->vnic;

	v->st.bulk_drops += dld_tunq_free(&v->bulk);
	v->st.bulk_queued = 0;
	if (!v->bulk_timer)
		return;
	dld_loop_del(&ctx->loop, v->bulk_tfd);
	close(v->bulk_tfd);
	v->bulk_timer = false;
}

/* The peer owning a unicast destination, or -1. */
static int owner(const struct dld_ctx *ctx, const struct dld_pkt_info *in)
{
	uint32_t node;

	if (in->family == 4)
		return peer_by_addr(ctx, in->dst);
	if (dld_tun_node6_of(ctx->vnic.prefix6, in->dst6, &node))
		return -1;
	return peer_by_node(ctx, node);
}

/* Not ours to carry: not IP, IPv6 when it is not on, no IPv4 address, or
 * the kernel's own IPv6 multicast (ND, MLD: not from our address). */
static bool refused(const struct dld_ctx *ctx, const struct dld_pkt_info *in)
{
	if (in->kind == DLD_PKT_BAD)
		return true;
	if (in->family == 4)
		return !ctx->vnic.addr;
	if (!ctx->vnic.v6)
		return true;
	return in->kind == DLD_PKT_ALL && memcmp(in->src6, ctx->vnic.addr6, 16);
}

static void packet_out(struct dld_ctx *ctx, const uint8_t *p, size_t len)
{
	struct dld_pkt_info in;
	uint16_t dst[DLD_MAX_PEERS], ndst = 0;
	int i;

	dld_pkt_classify(p, len, (uint16_t)ctx->cfg.port, &in);
	if (refused(ctx, &in)) {
		ctx->vnic.st.bad_drops++;
		return;
	}
	if (in.kind == DLD_PKT_ALL) {
		for (uint32_t k = 0; k < ctx->cfg.peer_count; k++)
			dst[ndst++] = (uint16_t)ctx->cfg.peers[k].node_id;
	} else {
		i = owner(ctx, &in);
		if (i < 0 || !peer_up(ctx, (uint32_t)i)) {
			unreachable(ctx, p, len, &in);
			return;
		}
		dst[ndst++] = (uint16_t)ctx->cfg.peers[i].node_id;
	}
	if (!ndst)
		return;
	if (in.cls == DLD_CLASS_BULK)
		bulk_out(ctx, dst, ndst, p, len);
	else
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

/* A delivered packet may enter the interface: from peer i's address,
 * to ours or to all. */
static bool acceptable(const struct dld_ctx *ctx, int i, const uint8_t *p, size_t len)
{
	struct dld_pkt_info in;
	enum dld_pkt_kind k = dld_pkt_classify(p, len, 0, &in);
	uint8_t a6[16];

	if (i < 0 || k == DLD_PKT_BAD)
		return false;
	if (in.family == 4)
		return ctx->vnic.addr && in.src == peer_v4(ctx, (uint32_t)i) &&
		       (k == DLD_PKT_ALL || in.dst == ctx->vnic.addr);
	if (!ctx->vnic.v6)
		return false;
	dld_tun_addr6_of(ctx->vnic.prefix6, ctx->cfg.peers[i].node_id, a6);
	return !memcmp(in.src6, a6, 16) &&
	       (k == DLD_PKT_ALL || !memcmp(in.dst6, ctx->vnic.addr6, 16));
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
