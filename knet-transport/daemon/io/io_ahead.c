/* Polling ahead of the peers' periodic arrivals (io_ahead.h). */
#include "config.h"

#include "io.h"
#include "io_ahead.h"

#define PEEK_MAX 64u                   /* queued datagrams looked at */

/* The schedule's entry of node id, taken (the longest unused one) when
 * it has none. */
static struct dld_sched_peer *entry(struct dld_sched *s, uint32_t id, uint64_t now)
{
	struct dld_sched_peer *old = &s->peer[0];

	for (uint32_t i = 0; i < DLD_MAX_PEERS; i++) {
		if (s->peer[i].node_id == id) {
			s->peer[i].used_ns = now;
			return &s->peer[i];
		}
		if (s->peer[i].used_ns < old->used_ns)
			old = &s->peer[i];
	}
	*old = (struct dld_sched_peer){ .node_id = id, .used_ns = now, .since_ns = now };
	dld_phase_reset(&old->ph);
	return old;
}

static struct dld_sched_peer *find(struct dld_sched *s, uint32_t id)
{
	for (uint32_t i = 0; i < DLD_MAX_PEERS; i++)
		if (s->peer[i].node_id == id && id)
			return &s->peer[i];
	return NULL;
}

bool dld_ahead_sent(struct dld_io *io, uint64_t now)
{
	struct dld_q *q = io->ch->tx;
	uint64_t pos = dld_q_tail(q);
	struct dld_sched *s = &io->sched;
	struct dld_qmsg m;
	bool ask = false;

	for (uint32_t n = 0; n < PEEK_MAX && dld_q_read(q, &pos, &m); n++) {
		for (uint32_t i = 0; i < m.ndst && m.ndst <= DL_DEST_MAX; i++) {
			struct dld_sched_peer *e = find(s, m.dst[i]);

			if (!e || (e->last_rx_ns && now - e->last_rx_ns <= DLD_AHEAD_REPLY_NS))
				continue;      /* unknown yet, or a reply */
			e->await_ns = now + s->window_ns;
			if (e->await_ns > s->await_until_ns)
				s->await_until_ns = e->await_ns;
			ask = true;
		}
	}
	return ask;
}

/* When p's newest datagram was written, on our clock: its writer's
 * stamp (both clocks are the nodes' real time) when that falls between
 * our two polls, else the poll that found it, unc the gap before it. */
static uint64_t arrival(const struct dld_io *io, const struct dld_io_peer *p, uint64_t prev,
			uint64_t now, uint64_t *unc)
{
	uint64_t real = dl_clock_real(io->dev.clock), wt = p->rd.last_write_time_ns;
	uint64_t age = real > wt ? real - wt : 0;

	*unc = 0;
	if (wt && age <= now && now - age >= prev)
		return now - age;
	*unc = now > prev ? now - prev : 0;
	return now;
}

/* One attached peer after a poll: its arrival, its answer, what it
 * lets the schedule expect; its schedule entry.  *unexpected: it sent
 * what no phase predicted and no answer explains. */
static struct dld_sched_peer *peer_polled(struct dld_io *io, const struct dld_io_peer *p,
					  uint64_t prev, uint64_t now, bool *unexpected)
{
	struct dld_sched_peer *e = entry(&io->sched, p->node_id, now);
	uint64_t d = p->rd.st.dgrams, unc, t;

	if (e->counted && d > e->dgrams) {
		t = arrival(io, p, prev, now, &unc);
		if (!dld_phase_arrival(&e->ph, t, unc) && e->await_ns <= now)
			*unexpected = true;
		e->last_rx_ns = now;
		e->await_ns = 0;
	}
	e->dgrams = d;                 /* less: a new reader, counted anew */
	e->counted = true;
	return e;
}

/* Nothing from it for DLD_AHEAD_QUIET_NS: nothing to learn, nothing to
 * wait for (its knet is not up); the background poll watches it. */
static bool quiet(const struct dld_sched_peer *e, uint64_t now)
{
	uint64_t last = e->last_rx_ns > e->since_ns ? e->last_rx_ns : e->since_ns;

	return now - last > DLD_AHEAD_QUIET_NS;
}

void dld_ahead_polled(struct dld_io *io, uint64_t prev, uint64_t fast_before)
{
	struct dld_sched *s = &io->sched;
	uint64_t now = dl_clock_mono(io->dev.clock), start = UINT64_MAX, end = UINT64_MAX;
	uint64_t await = 0;
	bool unexpected = false, learned = s->slow_ns != 0;
	uint32_t n = 0;

	for (uint32_t i = 0; i < io->npeers; i++) {
		const struct dld_io_peer *p = &io->peers[i];
		struct dld_sched_peer *e;
		uint64_t x, lead, trail, ws;

		if (!p->reader_ok || p->slot < 0)
			continue;
		e = peer_polled(io, p, prev, now, &unexpected);
		x = dld_phase_expect(&e->ph, now);
		if (x != UINT64_MAX) {
			dld_phase_window(&e->ph, &lead, &trail);
			ws = x > lead ? x - lead : 0;
			if (ws < start) {
				start = ws;
				end = x + trail;
			}
		}
		learned &= dld_phase_learned(&e->ph) || quiet(e, now);
		await = e->await_ns > now && e->await_ns > await ? e->await_ns : await;
		n++;
	}
	s->await_until_ns = await;
	dld_sched_predict(s, start, end, learned && n);
	if (s->learned && !unexpected)
		s->fast_until_ns = fast_before;
}

void dld_ahead_forced(struct dld_io *io)
{
	io->sched.forced = atomic_load_explicit(&io->shm->disk_totem, memory_order_relaxed) != 0;
}
