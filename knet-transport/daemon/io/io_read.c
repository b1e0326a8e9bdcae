/* The I/O child's readers: find each peer's slot by node id, poll every
 * peer's ring in one wake-up (one block each when idle, a few ahead while
 * traffic flows), resynchronise on a lap or a new generation, hand the
 * datagrams addressed to us to the parent, and judge each peer's state
 * and the health of the path (mirror) it is read through.  A peer with
 * its own device (io_peerdev.c) is read there, else from the main one. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

#define MAX_READS_PER_PEER 64          /* read-ahead rounds in one wake-up */

struct deliver_ctx {
	struct dld_io *io;
	struct dld_io_peer *p;
	uint64_t origin;               /* the age of what this read returned
					* counts from here (its queue stamp) */
	bool aged;                     /* drop what this read returned       */
};

static void deliver(void *ctx, uint32_t src, const uint8_t *data, uint32_t len)
{
	struct deliver_ctx *d = ctx;

	if (src != d->p->node_id) {
		/* The slot changed hands: never relay someone else's datagram
		 * as this peer's. */
		d->p->rd.st.invalid++;
		return;
	}
	if (d->aged) {
		d->io->st.aged_read++;
		return;
	}
	if (dld_q_push_at(d->io->ch->rx, d->origin, (uint16_t)src, NULL, 0, data, len))
		d->io->st.rx_queue_drops++;
	else
		d->io->delivered = true;
}

static void peer_detach(struct dld_io_peer *p)
{
	if (p->reader_ok)
		dl_reader_free(&p->rd);
	p->reader_ok = false;
	p->slot = -1;
	p->slot_state = DL_SLOT_FREE;
}

/* The mark of node_id, new (for slot) when it has none or read another
 * slot; the table full, an entry is reused. */
static struct dld_io_mark *mark_of(struct dld_io *io, uint32_t node_id, uint32_t slot)
{
	struct dld_io_mark *m = NULL;

	for (uint32_t i = 0; i < io->nmarks && !m; i++)
		if (io->marks[i].node_id == node_id)
			m = &io->marks[i];
	if (!m)
		m = io->nmarks < DLD_IO_MARKS ? &io->marks[io->nmarks++] :
		    &io->marks[node_id % DLD_IO_MARKS];
	if (m->node_id != node_id || m->slot != slot)
		*m = (struct dld_io_mark){ .node_id = node_id, .slot = slot, .seq = 0 };
	return m;
}

/* After a poll: where reading stands. */
static void mark_read(struct dld_io *io, const struct dld_io_peer *p)
{
	struct dld_io_mark *m = p->mark ? &io->marks[p->mark - 1] : NULL;

	if (m && m->node_id == p->node_id && p->reader_ok && p->rd.synced &&
	    p->rd.next_seq > 1) {
		m->seq = p->rd.next_seq - 1;
		m->origin_ns = p->origin_ns;
	}
}

static void peer_attach(struct dld_io *io, struct dld_io_peer *p, uint32_t slot,
			const struct dl_slot_hdr *h, uint64_t now)
{
	uint64_t real = dl_clock_real(io->dev.clock);
	uint64_t fresh = 3ull * io->tun.header_interval_ms * 1000000u;
	struct dl_volume *v = dld_io_peer_vol(io, p);
	struct dld_io_mark *m;

	peer_detach(p);
	if (!v)
		return;
	if (dl_reader_init(&p->rd, &v->sb, slot, io->cfg->node_id)) {
		log_err(DLD_SUB_IO, "cannot read the ring of node %u: %s", p->node_id,
			strerror(errno));
		return;
	}
	p->rd.torn_limit = io->tun.torn_limit;
	p->rd.torn_wait_ns = io->tun.torn_wait_ms * 1000000ull;
	p->rd.min_generation = h->generation;  /* incarnations: doc/format.md */
	m = mark_of(io, p->node_id, slot);
	p->mark = (uint32_t)(m - io->marks) + 1u;
	if (io->peers_scanned) {
		/* The peer claimed its slot after we started looking: all of
		 * its current generation is new to us, but for what we read
		 * of it before (a re-attach). */
		p->rd.attach_gen = h->generation;
		p->rd.attach_after_seq = m->seq;
	} else {
		/* Where this node stopped reading before it (re)started:
		 * what the peer wrote since is counted as lost. */
		for (uint32_t i = 0; i < io->claimed.ack_count; i++)
			if (io->claimed.acks[i].node_id == p->node_id)
				p->rd.resume_seq = io->claimed.acks[i].seq + 1;
	}
	/* Where the age of what it holds counts from (max_age): at the
	 * child's first scan, its predecessor's last loop turn; for a peer
	 * found later, the last scan that found no slot of it (its blocks
	 * came after), or on a re-attach where reading stopped; else unknown:
	 * what it holds may be old. */
	if (!io->peers_scanned)
		p->origin_ns = io->shm->prev_alive_ns;
	else
		p->origin_ns = m->seq ? m->origin_ns : p->absent_ns;
	if (io->peers_scanned && !p->origin_ns)
		p->origin_ns = 1;
	p->reader_ok = true;
	p->slot = (int32_t)slot;
	p->slot_state = h->state;
	p->role = h->role;
	p->hdr_seq = h->hdr_seq;
	p->generation = h->generation;
	p->hdr_last_seq = h->last_seq;
	p->resync = true;
	p->ahead = 1;
	/* Until the header moves under our eyes, its own time stamp says
	 * whether it is fresh. */
	p->last_change_ns = (h->state == DL_SLOT_ACTIVE && h->update_time_ns + fresh > real) ?
			    now : 0;
	/* An active header that is not fresh: its writer is stuck or gone
	 * (silent).  A stopped one (a clean stop, or a claim in progress)
	 * has no write in flight. */
	p->alive_ns = h->state == DL_SLOT_ACTIVE ? p->last_change_ns : now;
	p->hdr_read_ns = now;
	log_info(DLD_SUB_IO, "node %u ('%s') found in slot %d (%s, generation %llu), "
		 "reading %s", p->node_id, h->node_name, (int)slot, dl_slot_state_name(h->state),
		 (unsigned long long)h->generation,
		 p->rd.attach_gen ? "its whole generation" :
		 p->rd.resume_seq ? "on from where this node stopped" : "from its newest block");
}

/* One pass over the slot headers for the peers without a slot. */
static void find_absent(struct dld_io *io, uint64_t now)
{
	uint32_t absent = 0;

	for (uint32_t i = 0; i < io->npeers; i++) {
		struct dld_io_peer *p = &io->peers[i];
		struct dl_slot_hdr h;
		uint32_t s;

		if (p->slot >= 0)
			continue;
		if (!p->dev) {
			absent++;
			continue;
		}
		/* Its own device, when usable: look there. */
		if (dld_io_peer_vol(io, p) && dld_io_pdev_find(io, p, &s, &h) == 0)
			peer_attach(io, p, s, &h, now);
	}
	for (uint32_t s = 0; absent && s < io->dev.vol.sb.slot_count; s++) {
		struct dl_slot_hdr h;

		if (s == io->slot || dld_dev_read_slot(&io->dev, s, &h) || h.state == DL_SLOT_FREE)
			continue;
		for (uint32_t i = 0; i < io->npeers; i++) {
			struct dld_io_peer *p = &io->peers[i];

			if (p->slot < 0 && !p->dev && p->node_id == h.node_id) {
				peer_attach(io, p, s, &h, now);
				absent--;
				break;
			}
		}
	}
	for (uint32_t i = 0; i < io->npeers; i++)
		if (io->peers[i].slot < 0)
			io->peers[i].absent_ns = now;
}

void dld_io_peers_init(struct dld_io *io)
{
	uint32_t ids[DLD_MAX_PEERS], n = 0;

	io->peers_seq = 0;
	if (!dld_peers_read(io->shm, &io->peers_seq, ids, &n))
		n = 0;
	io->npeers = n;
	for (uint32_t i = 0; i < io->npeers; i++) {
		io->peers[i].node_id = ids[i];
		io->peers[i].slot = -1;
		io->peers[i].lag_ms = -1;
		dld_io_pdev_setup(io, &io->peers[i]);
	}
	dld_io_paths_upkeep(io, dl_clock_mono(io->dev.clock));
	find_absent(io, dl_clock_mono(io->dev.clock));
	io->peers_scanned = true;
	io->st.peer_count = io->npeers;
}

/* The parent changed the peer list (a corosync reload): keep the readers
 * of the peers that stay, forget the removed ones, look for the new ones'
 * slots.  Status entries move with their peers. */
void dld_io_peers_check(struct dld_io *io, uint64_t now)
{
	uint32_t ids[DLD_MAX_PEERS], n = 0;
	struct dld_io_peer *np;
	struct dld_peer_status *ns;
	bool kept[DLD_MAX_PEERS] = { false };

	if (!dld_peers_read(io->shm, &io->peers_seq, ids, &n))
		return;
	np = calloc(DLD_MAX_PEERS, sizeof(*np));
	ns = calloc(DLD_MAX_PEERS, sizeof(*ns));
	if (!np || !ns) {
		log_err(DLD_SUB_IO, "out of memory for the new peer list");
		io->peers_seq--;       /* retry at the next turn */
		free(np);
		free(ns);
		return;
	}
	for (uint32_t j = 0; j < n; j++) {
		np[j].node_id = ids[j];
		np[j].slot = -1;
		np[j].lag_ms = -1;
		for (uint32_t i = 0; i < io->npeers; i++) {
			if (kept[i] || io->peers[i].node_id != ids[j])
				continue;
			np[j] = io->peers[i];
			ns[j] = io->st.peers[i];
			kept[i] = true;
			break;
		}
	}
	for (uint32_t i = 0; i < io->npeers; i++) {
		if (kept[i])
			continue;
		log_notice(DLD_SUB_IO, "node %u is no longer a peer", io->peers[i].node_id);
		peer_detach(&io->peers[i]);
		dld_io_pdev_free(&io->peers[i]);
	}
	memcpy(io->peers, np, sizeof(io->peers));
	memcpy(io->st.peers, ns, sizeof(io->st.peers));
	free(np);
	free(ns);
	io->npeers = n;
	io->st.peer_count = n;
	for (uint32_t i = 0; i < n; i++)
		dld_io_pdev_setup(io, &io->peers[i]);
	log_notice(DLD_SUB_IO, "peer list updated: %u peers", n);
	dld_dev_resize(&io->dev, io->npeers);
	dld_io_paths_upkeep(io, now);
	find_absent(io, now);
	io->next_pub_ns = 0;
}

void dld_io_peers_free(struct dld_io *io)
{
	dld_io_heads_free(io);
	dld_io_prefetch_free(io);
	for (uint32_t i = 0; i < io->npeers; i++) {
		peer_detach(&io->peers[i]);
		dld_io_pdev_free(&io->peers[i]);
	}
}

static void note_consumed(struct dld_io *io, struct dld_io_peer *p, uint64_t now)
{
	uint64_t real = dl_clock_real(io->dev.clock), wt = p->rd.last_write_time_ns;
	uint64_t us = wt && real > wt ? (real - wt) / 1000u : 0;
	struct dld_peer_status *ps = &io->st.peers[p - io->peers];

	p->last_block_ns = now;
	p->last_change_ns = now;
	/* The replication lag as this reader sees it: the newest block's
	 * age when it was read (both nodes' clocks). */
	p->lag_ms = wt ? (int64_t)((real > wt ? real - wt : 0) / 1000000u) : -1;
	ps->latency_us = ps->latency_us ? (ps->latency_us * 7u + us) / 8u : us;
	dld_sched_activity(&io->sched, now);
}

/* How long a peer's header may stand still before its writer counts as
 * stuck: max_age, at least three header intervals (its refresh period,
 * seen through ours). */
static uint64_t quiet_ns(const struct dld_io *io)
{
	uint64_t quiet = (uint64_t)io->tun.max_age_ms * 1000000u;
	uint64_t three = 3ull * io->tun.header_interval_ms * 1000000u;

	return quiet < three ? three : quiet;
}

/* A peer whose writer was not seen alive within quiet_ns is silent: it
 * is stuck, or gone, and a block that appears may be a write of it that
 * lands late.  Alive: its header moved between two of our reads of it
 * that were at most quiet_ns apart (a move seen after a longer gap, ours
 * or its, may be old); at attach, a fresh header. */
static bool silent(const struct dld_io *io, const struct dld_io_peer *p, uint64_t now)
{
	return !p->alive_ns || dld_q_age(p->alive_ns, now) > quiet_ns(io);
}

/* The age rules of a reader (doc/format.md, "Age rules"), on this
 * child's clock.  A block that a read of p's ring did not find was
 * written after that read began: what later reads return is no older
 * than the start of the last read that found no new block (p->origin_ns;
 * at a child's first scan, its predecessor's last loop turn).  What a
 * read returns when that lies more than the reader's budget (half of
 * max_age) back is consumed (never read again as new) but dropped and
 * counted: a read that took that long, or the first read after a gap in
 * reading, drops the blocks up to the ring's newest; those after it are
 * delivered.  So is what appears while p is silent (above).  The origin
 * goes with each datagram to the parent, whose delivery path applies
 * the same budget.  d: the read issued at start, just returned. */
static void read_aged(struct dld_io *io, struct dld_io_peer *p, uint64_t start,
		      struct deliver_ctx *d)
{
	uint64_t budget = dld_age_budget_ns(io->tun.max_age_ms);
	uint64_t end = dl_clock_mono(io->dev.clock);

	d->origin = p->origin_ns ? p->origin_ns : start;
	d->aged = budget && (dld_q_age(d->origin, end) > budget || silent(io, p, end));
}

static void resync(struct dld_io *io, struct dld_io_peer *p, uint64_t now)
{
	struct deliver_ctx d = { .io = io, .p = p };
	uint64_t before = p->rd.st.blocks;
	uint8_t *ring = dld_io_peer_ring(io, p);
	uint64_t start = dl_clock_mono(io->dev.clock);

	p->resync = false;
	if (dld_io_peer_read_blocks(io, p, 0, p->rd.ring_blocks, ring)) {
		io->read_failed |= !p->dev;
		p->resync = true;
		return;
	}
	read_aged(io, p, start, &d);
	/* The header's last_seq: where the peer's generation starts when it
	 * has written nothing yet (it restarted and continues the sequence
	 * after it); the reader uses it at its first sync and when the
	 * header showed a generation newer than what it consumed. */
	dl_reader_resync(&p->rd, ring, p->hdr_last_seq, deliver, &d);
	p->origin_ns = start;          /* the whole ring was read */
	mark_read(io, p);
	if (p->rd.st.blocks != before)
		note_consumed(io, p, now);
}

/* The size of p's next read while its ring holds data (doc/design.md,
 * "Read size"): read_ahead blocks at least; after a read that came back
 * full, twice that read; at the next poll, what this one found in all;
 * never more than DLD_READ_BURST_BYTES (a 64 KiB datagram, 17 blocks,
 * is then one read rather than three). */
static uint32_t read_size(const struct dld_io *io, uint32_t want)
{
	uint32_t cap = DLD_READ_BURST_BYTES / io->dev.vol.sb.block_size;

	if (cap < io->tun.read_ahead)
		cap = io->tun.read_ahead;
	if (want < io->tun.read_ahead)
		want = io->tun.read_ahead;
	return want < cap ? want : cap;
}

static void poll_peer(struct dld_io *io, struct dld_io_peer *p, uint64_t now)
{
	struct deliver_ctx d = { .io = io, .p = p };
	const uint32_t R = p->rd.ring_blocks;
	uint8_t *ring = dld_io_peer_ring(io, p);
	const uint8_t *hb = NULL;
	uint32_t total = 0, hn = 0;
	int hagain = 0, rc = 0;

	if (p->resync) {
		resync(io, p, now);
		return;
	}
	/* The head area first (io_head.c): nothing new, or the new blocks
	 * inline; else, or when they do not all go, the ring. */
	switch (dld_io_head_use(io, p, now, &hb, &hn)) {
	case DLD_HEAD_IDLE:
		return;
	case DLD_HEAD_INLINE:
		p->rd.now_ns = dl_clock_mono(io->dev.clock);
		read_aged(io, p, now, &d);     /* the age rules as for a ring read */
		total = dl_reader_poll(&p->rd, hb, hn, deliver, &d, &hagain);
		if (total == hn && !hagain)
			goto done;
		break;
	case DLD_HEAD_RING:
		break;
	}
	for (int round = 0; round < MAX_READS_PER_PEER; round++) {
		uint32_t idx = dl_reader_next_index(&p->rd);
		uint32_t n = p->ahead < R - idx ? p->ahead : R - idx, k;
		uint64_t start = dl_clock_mono(io->dev.clock);
		const uint8_t *got = round ? NULL : dld_io_prefetched(io, p, idx, n, &rc, &start);
		int again = 0;

		if (!got) {            /* not read with the poll's other reads */
			rc = dld_io_peer_read_blocks(io, p, idx, n, ring);
			got = ring;
		}
		if (rc) {
			io->read_failed |= !p->dev;
			return;
		}
		p->rd.now_ns = dl_clock_mono(io->dev.clock);
		read_aged(io, p, start, &d);
		k = dl_reader_poll(&p->rd, got, n, deliver, &d, &again);
		if (k < n && !again)
			p->origin_ns = start;  /* nothing newer was there */
		total += k;
		if (again) {
			resync(io, p, now);
			break;
		}
		if (k < n)
			break;
		p->ahead = read_size(io, 2 * n);   /* the ring may hold more */
	}
done:
	mark_read(io, p);
	if (total)
		note_consumed(io, p, now);
	p->ahead = total ? read_size(io, total) : 1;
}

void dld_io_poll_peers(struct dld_io *io, uint64_t now)
{
	io->read_failed = false;
	dld_io_prefetch(io);           /* the area and the busy rings at once */
	for (uint32_t i = 0; i < io->npeers; i++) {
		struct dld_io_peer *p = &io->peers[i];

		/* Its path's upkeep ran this turn: tested once. */
		if (p->reader_ok && p->slot >= 0 && dld_io_peer_vol(io, p))
			poll_peer(io, p, now);
	}
}

void dld_io_peer_headers(struct dld_io *io, uint64_t now)
{
	for (uint32_t i = 0; i < io->npeers; i++) {
		struct dld_io_peer *p = &io->peers[i];
		struct dl_slot_hdr h;

		if (p->slot < 0 || !dld_io_peer_vol(io, p))
			continue;
		if (dld_io_peer_read_slot(io, p, (uint32_t)p->slot, &h))
			continue;      /* torn or unreadable: next time */
		if (h.state == DL_SLOT_FREE || h.node_id != p->node_id) {
			log_notice(DLD_SUB_IO, "node %u released slot %d", p->node_id, p->slot);
			peer_detach(p);
			continue;
		}
		if (h.hdr_seq != p->hdr_seq) {
			p->last_change_ns = now;
			if (dld_q_age(p->hdr_read_ns, now) <= quiet_ns(io))
				p->alive_ns = now;     /* its writer is there */
		}
		p->hdr_read_ns = now;
		p->hdr_last_seq = h.last_seq;
		if (h.generation != p->generation) {
			log_info(DLD_SUB_IO, "node %u restarted (generation %llu -> %llu)",
				 p->node_id, (unsigned long long)p->generation,
				 (unsigned long long)h.generation);
			p->resync = true;
		}
		if (h.generation > p->rd.min_generation)
			p->rd.min_generation = h.generation;
		if (h.state != p->slot_state)
			log_info(DLD_SUB_IO, "node %u is %s", p->node_id,
				 dl_slot_state_name(h.state));
		if (h.role != p->role)
			log_notice(DLD_SUB_IO, "node %u claims the replication role %s", p->node_id,
				   dl_role_name(h.role));
		p->hdr_seq = h.hdr_seq;
		p->generation = h.generation;
		p->slot_state = h.state;
		p->role = h.role;
	}
	find_absent(io, now);
}

/* The path's health as this reader sees it (doc/replication.md). */
static uint32_t mirror_state(const struct dld_io *io, const struct dld_io_peer *p,
			     uint64_t now)
{
	uint64_t frozen_ns = (uint64_t)(io->tun.frozen_ms ? io->tun.frozen_ms :
					3u * io->tun.header_interval_ms) * 1000000u;

	if ((p->dev && p->dev->failed) || (!p->dev && io->read_failed) ||
	    io->st.device_state == DLD_DEV_FAILED)
		return DLD_MIRROR_UNKNOWN;
	if (p->slot < 0 || p->slot_state != DL_SLOT_ACTIVE)
		return DLD_MIRROR_GONE;
	if (!p->last_change_ns || now - p->last_change_ns > frozen_ns)
		return DLD_MIRROR_FROZEN;
	if (p->lag_ms >= 0 && (uint64_t)p->lag_ms > io->tun.lag_warn_ms)
		return DLD_MIRROR_LAGGING;
	return DLD_MIRROR_HEALTHY;
}

static void path_status(const struct dld_io *io, const struct dld_io_peer *p,
			struct dld_peer_status *ps, uint64_t now)
{
	const char *path = p->dev ? (p->dev->resolved[0] ? p->dev->resolved : p->dev->path) :
			   io->device;

	snprintf(ps->path, sizeof(ps->path), "%.*s", (int)sizeof(ps->path) - 1, path ? path : "");
	ps->path_ok = !(p->dev && p->dev->failed);
	snprintf(ps->path_error, sizeof(ps->path_error), "%s",
		 p->dev && p->dev->failed ? p->dev->error : "");
	ps->mirror = mirror_state(io, p, now);
	ps->lag_ms = p->lag_ms;
	ps->role = p->slot >= 0 ? p->role : DL_ROLE_NONE;
}

void dld_io_peers_status(struct dld_io *io, uint64_t now)
{
	uint64_t up_ns = 3ull * io->tun.header_interval_ms * 1000000u;

	io->st.peer_count = io->npeers;
	io->st.generation = io->w.generation;
	for (uint32_t i = 0; i < io->npeers; i++) {
		const struct dld_io_peer *p = &io->peers[i];
		struct dld_peer_status *ps = &io->st.peers[i];

		ps->node_id = p->node_id;
		ps->slot = p->slot;
		ps->slot_state = p->slot_state;
		ps->generation = p->generation;
		ps->last_block_mono_ns = p->last_block_ns;
		if (p->reader_ok)
			ps->rs = p->rd.st;
		path_status(io, p, ps, now);
		if ((!p->dev && io->read_failed) || !ps->path_ok ||
		    io->st.device_state == DLD_DEV_FAILED)
			ps->state = DLD_PEER_UNKNOWN;
		else if (p->slot < 0 || p->slot_state != DL_SLOT_ACTIVE)
			ps->state = DLD_PEER_DOWN;
		else if (p->last_change_ns && now - p->last_change_ns < up_ns)
			ps->state = DLD_PEER_UP;
		else
			ps->state = DLD_PEER_STALE;
	}
}
