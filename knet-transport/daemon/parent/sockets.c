/* The UDP side: one socket per peer, bound on the peer's link address.
 * Only datagrams from the local knet's own link address and port are
 * accepted (others are counted and dropped); datagrams read from a
 * peer's ring go to the local knet from that peer's socket, since knet
 * matches links by exact source address and port.  The address is not
 * enough (any local user may bind a free 127.x address and port): both
 * ways pass only while the socket on the knet end belongs to the
 * expected uid (owner.h) and the crypto guard does not refuse the link
 * (doc/security.md). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "ctx.h"
#include "owner.h"

#define SOCK_BUF  (4u << 20)
#define RECV_BURST 64                  /* datagrams per socket per wake-up */
#define SWEEPS 4                       /* reads of every socket before a flush */
/* The owner of the knet end is looked up again after this long: the
 * window in which a socket could change hands unseen (doc/security.md). */
#define OWNER_RECHECK_NS (100ull * 1000000ull)
#define UNPRIV_PORT_FILE "/proc/sys/net/ipv4/ip_unprivileged_port_start"

static void set_buf(int fd, int opt_force, int opt)
{
	int v = SOCK_BUF;

	/* As root the FORCE variant passes net.core.*mem_max. */
	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)))
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

static void on_peer(int fd, uint32_t events, void *arg);

static int open_one(struct dld_ctx *ctx, uint32_t i)
{
	struct dld_peer_conf *p = &ctx->cfg.peers[i];
	char where[DLD_ADDR_TEXT + 8];
	int one = 1, fd;

	dld_addr_format(&p->addr, where, sizeof(where));
	fd = socket(p->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err(DLD_SUB_SOCKETS, "cannot create a UDP socket for node %u: %s",
			p->node_id, strerror(errno));
		return -1;
	}
	if (p->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* The address may not be configured yet (it is on lo for 127/8). */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	if (bind(fd, (const struct sockaddr *)&p->addr, p->addr_len)) {
		int err = errno;

		log_err(DLD_SUB_SOCKETS, "cannot bind %s for node %u: %s (%s)", where, p->node_id,
			strerror(err),
			err == EADDRINUSE ? "another disklinkd or a knet link holds it: give "
					    "each node's peers their own addresses" :
			"check the peer address");
		close(fd);
		errno = err;
		return -1;
	}
	if (dld_loop_add(&ctx->loop, fd, EPOLLIN, on_peer, ctx)) {
		log_err(DLD_SUB_SOCKETS, "cannot watch the socket of node %u: %s", p->node_id,
			strerror(errno));
		close(fd);
		return -1;
	}
	ctx->peers[i].fd = fd;
	return 0;
}

/* The coalescing window ended. */
static void on_coalesce(int fd, uint32_t events, void *arg)
{
	uint64_t exp;

	(void)events;
	if (read(fd, &exp, sizeof(exp)) < 0)
		exp = 0;
	dld_coal_expired(&((struct dld_ctx *)arg)->pend.set);
	dld_sockets_flush(arg, true);
}

int dld_sockets_init(struct dld_ctx *ctx)
{
	ctx->coalfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctx->coalfd < 0)
		return -1;
	return dld_loop_add(&ctx->loop, ctx->coalfd, EPOLLIN, on_coalesce, ctx);
}

/* Anyone may bind an unprivileged port on a free 127.x address. */
static void warn_unprivileged(const struct dld_ctx *ctx)
{
	FILE *f = fopen(UNPRIV_PORT_FILE, "re");
	unsigned start = 1024;

	if (f) {
		if (fscanf(f, "%u", &start) != 1)
			start = 1024;
		fclose(f);
	}
	if (ctx->cfg.port >= start)
		log_warn(DLD_SUB_SOCKETS, "link port %u is unprivileged (%s = %u): any local "
			 "user may bind the knet end while knet does not hold it; give the link "
			 "a port below %u (disklink corosync-link --port)", ctx->cfg.port,
			 "net.ipv4.ip_unprivileged_port_start", start, start);
}

int dld_sockets_open(struct dld_ctx *ctx)
{
	warn_unprivileged(ctx);
	ctx->knet.valid = false;
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++)
		ctx->peers[i].fd = -1;
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++)
		if (open_one(ctx, i))
			return -1;
	return 0;
}

void dld_sockets_close(struct dld_ctx *ctx)
{
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++) {
		if (ctx->peers[i].fd >= 0) {
			dld_loop_del(&ctx->loop, ctx->peers[i].fd);
			close(ctx->peers[i].fd);
		}
		ctx->peers[i].fd = -1;
	}
	if (ctx->coalfd >= 0) {
		dld_loop_del(&ctx->loop, ctx->coalfd);
		close(ctx->coalfd);
	}
	ctx->coalfd = -1;
}

static bool same_addr(const struct dld_peer_conf *a, const struct dld_peer_conf *b)
{
	return a->addr_len == b->addr_len && !memcmp(&a->addr, &b->addr, a->addr_len);
}

int dld_sockets_update(struct dld_ctx *ctx, const struct dld_config *nc)
{
	struct dld_peer_rt *nrt = calloc(DLD_MAX_PEERS, sizeof(*nrt));
	bool kept[DLD_MAX_PEERS] = { false };
	uint32_t old_count = ctx->cfg.peer_count;
	int rc = 0;

	if (!nrt) {
		log_err(DLD_SUB_SOCKETS, "out of memory for the new peer list");
		return -1;
	}
	/* What is pending was sent to the old peers: queue it now. */
	dld_sockets_flush(ctx, true);
	for (uint32_t j = 0; j < nc->peer_count; j++) {
		nrt[j].fd = -1;
		for (uint32_t i = 0; i < old_count; i++) {
			if (kept[i] || ctx->cfg.peers[i].node_id != nc->peers[j].node_id ||
			    !same_addr(&ctx->cfg.peers[i], &nc->peers[j]))
				continue;
			nrt[j] = ctx->peers[i];
			kept[i] = true;
			break;
		}
	}
	/* Close first: an address may have moved from one node to another. */
	for (uint32_t i = 0; i < old_count; i++) {
		if (kept[i] || ctx->peers[i].fd < 0)
			continue;
		dld_loop_del(&ctx->loop, ctx->peers[i].fd);
		close(ctx->peers[i].fd);
		log_notice(DLD_SUB_SOCKETS, "closed the socket of node %u (%s:%u)",
			   ctx->cfg.peers[i].node_id, ctx->cfg.peers[i].text, ctx->cfg.port);
	}
	for (uint32_t i = 0; i < DLD_MAX_PEERS; i++)
		ctx->peers[i] = i < nc->peer_count ? nrt[i] : (struct dld_peer_rt){ .fd = -1 };
	free(nrt);
	ctx->cfg.port = nc->port;
	ctx->cfg.local = nc->local;
	ctx->cfg.local_len = nc->local_len;
	memcpy(ctx->cfg.local_text, nc->local_text, sizeof(ctx->cfg.local_text));
	ctx->cfg.peer_count = nc->peer_count;
	memcpy(ctx->cfg.peers, nc->peers, sizeof(ctx->cfg.peers));
	ctx->knet.valid = false;
	/* A kept socket's handler finds its new index by its fd. */
	for (uint32_t j = 0; j < nc->peer_count; j++) {
		if (ctx->peers[j].fd >= 0)
			continue;
		if (open_one(ctx, j))
			rc = -1;
		else
			log_notice(DLD_SUB_SOCKETS, "bound %s:%u for node %u", nc->peers[j].text,
				   nc->port, nc->peers[j].node_id);
	}
	return rc;
}

static bool from_local_knet(const struct dld_ctx *ctx, const struct sockaddr_storage *from)
{
	if (from->ss_family != ctx->cfg.local.ss_family)
		return false;
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)from;
		const struct sockaddr_in *l = (const struct sockaddr_in *)&ctx->cfg.local;

		return a->sin_addr.s_addr == l->sin_addr.s_addr && a->sin_port == l->sin_port;
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
		const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)&ctx->cfg.local;

		return !memcmp(&a->sin6_addr, &l->sin6_addr, sizeof(a->sin6_addr)) &&
		       a->sin6_port == l->sin6_port;
	}
}

static uid_t expected_uid(const struct dld_ctx *ctx)
{
	return ctx->cfg.link >= 0 ? 0 : (uid_t)ctx->cfg.knet_uid;
}

void dld_sockets_recheck(struct dld_ctx *ctx)
{
	ctx->knet.valid = false;
}

/* Is the knet end held by the expected uid only?  Looked up when first
 * needed and again after OWNER_RECHECK_NS or a change. */
static bool owner_ok(struct dld_ctx *ctx)
{
	struct dld_knet_owner *k = &ctx->knet;
	uint64_t now = dld_mono_ns();
	uid_t want = expected_uid(ctx);
	struct dld_owner o;

	if (k->valid && now - k->at_ns < OWNER_RECHECK_NS)
		return k->ok;
	if (dld_owner_lookup(&ctx->cfg.local, want, &o)) {
		if (dld_lograte_ok(&ctx->owner_log, "inet_diag", now, 60ull * 1000000000ull))
			log_err(DLD_SUB_SOCKETS, "cannot look up the owner of the knet end %s:%u "
				"(inet_diag): %s; nothing is relayed (allow AF_NETLINK)",
				ctx->cfg.local_text, ctx->cfg.port, strerror(errno));
		o = (struct dld_owner){ .uid = want };
	}
	*k = (struct dld_knet_owner){
		.valid = true,
		.ok = o.count > 0 && o.uid == want,
		.count = o.count,
		.uid = o.uid,
		.inode = o.inode,
		.at_ns = now,
	};
	return k->ok;
}

bool dld_sockets_trusted(struct dld_ctx *ctx)
{
	return !ctx->refused[0] && owner_ok(ctx);
}

/* A datagram from the knet end's address ("for" node ...), or one of a
 * peer's for it ("from" node ...), but its socket is not the expected
 * uid's (or the link is refused): counted, logged per uid. */
static void refuse(struct dld_ctx *ctx, const struct dld_peer_conf *pc, const char *way)
{
	char key[32];

	if (ctx->refused[0]) {
		ctx->refused_drops++;
		return;
	}
	/* Nothing holds the knet end (corosync restarts): a datagram for it
	 * would have been lost anyway; only send_drops counts it. */
	if (!ctx->knet.count && !strcmp(way, "from"))
		return;
	ctx->foreign_drops++;
	ctx->owner_drops++;
	snprintf(key, sizeof(key), "uid %u/%u", (unsigned)ctx->knet.uid, ctx->knet.count);
	if (!dld_lograte_ok(&ctx->owner_log, key, dld_mono_ns(), 60ull * 1000000000ull))
		return;
	if (ctx->knet.count)
		log_warn(DLD_SUB_SOCKETS, "dropped a datagram %s node %u: the knet end %s:%u is "
			 "a socket of uid %u, not %u (counted as foreign_drops, owner); stop "
			 "what binds it, and give the link a privileged port", way, pc->node_id,
			 ctx->cfg.local_text, ctx->cfg.port, (unsigned)ctx->knet.uid,
			 (unsigned)expected_uid(ctx));
	else
		log_warn(DLD_SUB_SOCKETS, "dropped a datagram %s node %u: no socket holds the "
			 "knet end %s:%u (counted as foreign_drops, owner)", way, pc->node_id,
			 ctx->cfg.local_text, ctx->cfg.port);
}

/* Queue every pending record, oldest first. */
static void pend_flush(struct dld_ctx *ctx)
{
	struct dld_pending *pd = &ctx->pend;
	struct dld_coal *c = &pd->set;

	if (pd->armed) {
		static const struct itimerspec off = { .it_value = { .tv_sec = 0 } };

		timerfd_settime(ctx->coalfd, 0, &off, NULL);
		pd->armed = false;
	}
	for (uint32_t i = 0; i < c->nrec; i++) {
		const struct dld_coal_rec *r = &c->rec[i];

		if (!dld_child_accepts(ctx) ||
		    dld_q_push(ctx->chan.tx, 0, r->dst, r->ndst, c->buf + r->off, r->len))
			ctx->tx_queue_drops += r->ndst;
		else
			ctx->tx_kick = true;
	}
	dld_coal_clear(c);
}

static void pend_add(struct dld_ctx *ctx, uint16_t node, const uint8_t *data, uint32_t len)
{
	int rc = dld_coal_add(&ctx->pend.set, node, data, len);

	if (rc < 0) {
		pend_flush(ctx);
		rc = dld_coal_add(&ctx->pend.set, node, data, len);
	}
	if (rc > 0)
		ctx->coalesced++;
}

/* A peer socket is readable: receive everything, keep it for the disk.
 * Returns how many datagrams it read. */
static int recv_peer(struct dld_ctx *ctx, uint32_t idx)
{
	struct dld_peer_rt *rt = &ctx->peers[idx];
	const struct dld_peer_conf *pc = &ctx->cfg.peers[idx];
	int k;

	if (rt->fd < 0)
		return 0;
	for (k = 0; k < RECV_BURST; k++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		n = recvfrom(rt->fd, ctx->rxbuf, sizeof(ctx->rxbuf), MSG_TRUNC,
			     (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug(DLD_SUB_SOCKETS, "receive on node %u's socket: %s",
					  pc->node_id, strerror(errno));
			return k;
		}
		if (!from_local_knet(ctx, &from)) {
			char who[DLD_ADDR_TEXT + 8];

			ctx->foreign_drops++;
			if (dld_lograte_ok(&ctx->foreign_log, "foreign", 0, 0)) {
				dld_addr_format(&from, who, sizeof(who));
				log_warn(DLD_SUB_SOCKETS, "dropped a datagram from %s on node "
					 "%u's address: only the local knet (%s:%u) may send "
					 "here (counted as foreign_drops)", who, pc->node_id,
					 ctx->cfg.local_text, ctx->cfg.port);
			}
			continue;
		}
		if (n == 0 || (size_t)n > DL_DGRAM_MAX)
			continue;
		if (!dld_sockets_trusted(ctx)) {
			refuse(ctx, pc, "for");
			continue;
		}
		rt->dgrams_out++;
		rt->bytes_out += (uint64_t)n;
		if (!dld_child_accepts(ctx)) {
			ctx->tx_queue_drops++;
			continue;
		}
		pend_add(ctx, (uint16_t)pc->node_id, ctx->rxbuf, (uint32_t)n);
	}
	return k;
}

static void on_peer(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;

	(void)events;
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++)
		if (ctx->peers[i].fd == fd) {
			recv_peer(ctx, i);
			return;
		}
}

/* Read what every peer socket holds by now (copies of a broadcast that
 * arrived after this wake-up began), until a sweep finds nothing. */
static void sweep(struct dld_ctx *ctx)
{
	for (int pass = 0; pass < SWEEPS; pass++) {
		int got = 0;

		for (uint32_t i = 0; i < ctx->cfg.peer_count; i++)
			got += recv_peer(ctx, i);
		if (!got)
			return;
	}
}

void dld_sockets_flush(struct dld_ctx *ctx, bool force)
{
	struct dld_pending *pd = &ctx->pend;
	uint32_t us = ctx->cfg.tun.coalesce_us, peers = ctx->cfg.peer_count;

	/* knet sends a broadcast as one buffer to each destination in turn:
	 * the copies for the other peers follow within microseconds.  Those
	 * already in their sockets merge now; with coalesce_us only a
	 * broadcast seen on some but not all peers, or a lone datagram to the
	 * peer broadcasts were seen to start with, waits for the rest. */
	if (!force && pd->set.nrec && peers > 1)
		sweep(ctx);
	if (!force && us && dld_coal_partial(&pd->set, peers)) {
		struct itimerspec its = { .it_value = { .tv_nsec = (long)us * 1000 } };

		if (pd->armed || timerfd_settime(ctx->coalfd, 0, &its, NULL) == 0) {
			pd->armed = true;
			return;
		}
	}
	pend_flush(ctx);
	if (ctx->tx_kick && ctx->chan.shm)
		dld_efd_kick(ctx->chan.tx_efd);
	ctx->tx_kick = false;
}

static int peer_index(const struct dld_ctx *ctx, uint32_t node)
{
	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++)
		if (ctx->cfg.peers[i].node_id == node)
			return (int)i;
	return -1;
}

void dld_sockets_deliver(struct dld_ctx *ctx)
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
		int i = peer_index(ctx, m.node);

		if (dld_q_too_old(&m, dld_age_budget_ns(ctx->cfg.tun.max_age_ms), now)) {
			/* Age rule: it waited too long on its way here. */
			ctx->aged_drops++;
			dld_q_release(q, pos);
			continue;
		}
		if (i >= 0 && !dld_sockets_trusted(ctx)) {
			/* Nothing goes to a knet end we do not trust. */
			refuse(ctx, &ctx->cfg.peers[i], "from");
			ctx->peers[i].send_drops++;
		} else if (i >= 0 && sendto(ctx->peers[i].fd, m.data, m.len, 0,
				     (const struct sockaddr *)&ctx->cfg.local,
				     ctx->cfg.local_len) == (ssize_t)m.len) {
			ctx->peers[i].dgrams_in++;
			ctx->peers[i].bytes_in += m.len;
		} else if (i >= 0) {
			ctx->peers[i].send_drops++;
		}
		dld_q_release(q, pos);
	}
}
