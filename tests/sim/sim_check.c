/* The invariants, checked after every step.  Each datagram the simulated
 * parents send carries (sender, incarnation, counter, length, checksum)
 * in its payload; each receiving incarnation keeps, per sender, what it
 * was delivered.  Names of the violations (--expect takes them):
 *   corrupt        payload does not check
 *   wrong-node     delivered as another node's
 *   duplicate      a datagram delivered twice
 *   reordered      a datagram older than one delivered, never delivered
 *                  before: a dropped or superseded write taken as new
 *   superseded     an older incarnation after a newer one
 *   stale          an incarnation that was superseded before the reader began
 *   uncounted-loss a gap that no counter accounts for
 *   late           benign device (healthy, restart), not delivered within
 *                  the bound once the reader is synced to a running sender
 *   double-claim   two running nodes own one slot
 *   collision      a node ended "already active" (exit 4) though it runs alone */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "sim.h"

#define MAGIC 0x44534d31u              /* "DSM1" */
#define PUSH_HIST 4096u
#define BOUND_NS (2000ull * SIM_MS)

struct payload {
	uint32_t magic, sender, inc, len;
	uint64_t counter, push_ns;
	uint32_t crc, pad;
};

struct pair {                          /* receiver incarnation x sender    */
	uint32_t rinc;
	uint32_t inc;                  /* sender incarnation last delivered */
	uint64_t last;                 /* its counter                        */
	bool     any;
	uint64_t seen;                 /* loss counters, as last read       */
	uint64_t credit;               /* counted losses no gap has used yet */
	uint64_t since_ns;             /* the pair began (receiver attached) */
	uint64_t seen_gen;             /* sender's header generation the
					* reader had seen, as of the last step */
	uint8_t  got[PUSH_HIST / 8];   /* counters delivered, a bit each    */
};

static bool got_bit(const struct pair *pr, uint64_t c)
{
	return pr->got[(c % PUSH_HIST) / 8] & (1u << (c % 8));
}

static void set_bit(struct pair *pr, uint64_t c, bool on)
{
	uint8_t *b = &pr->got[(c % PUSH_HIST) / 8];

	*b = (uint8_t)(on ? *b | (1u << (c % 8)) : *b & ~(1u << (c % 8)));
}

/* Record counter c of the current incarnation as delivered. */
static void record(struct pair *pr, uint32_t inc, uint64_t c)
{
	if (!pr->any || inc != pr->inc)
		memset(pr->got, 0, sizeof(pr->got));
	else
		for (uint64_t k = pr->last + 1; k < c && k < pr->last + PUSH_HIST; k++)
			set_bit(pr, k, false);
	set_bit(pr, c, true);
	if (!pr->any || inc != pr->inc || c > pr->last)
		pr->last = c;
	pr->any = true;
	pr->inc = inc;
}

static struct pair pairs[SIM_NODES_MAX][SIM_NODES_MAX];
static uint64_t push_ns[SIM_NODES_MAX][PUSH_HIST];
static uint8_t push_dst[SIM_NODES_MAX][PUSH_HIST];   /* receivers, a bit each */
static bool dropped[SIM_NODES_MAX][PUSH_HIST];      /* in a write that failed */
static uint64_t push_inc_first[SIM_NODES_MAX];   /* first counter of current inc */
static uint64_t superseded_at[SIM_NODES_MAX][64]; /* sender inc -> when a newer attached */
static uint64_t gen_of[SIM_NODES_MAX][64];       /* sender inc -> its generation */
static uint64_t aged_delivery[SIM_NODES_MAX];   /* the parent's age rule (sockets.c) */

struct live {                          /* receiver incarnation x sender incarnation */
	uint32_t rinc, sinc;
	bool     on;                   /* the reader is synced to the sender */
	uint64_t from;                 /* the sender's first counter due     */
};
static struct live live[SIM_NODES_MAX][SIM_NODES_MAX];

void sim_check_reset(void)
{
	memset(pairs, 0, sizeof(pairs));
	memset(push_ns, 0, sizeof(push_ns));
	memset(push_dst, 0, sizeof(push_dst));
	memset(dropped, 0, sizeof(dropped));
	memset(push_inc_first, 0, sizeof(push_inc_first));
	memset(superseded_at, 0, sizeof(superseded_at));
	memset(gen_of, 0, sizeof(gen_of));
	memset(aged_delivery, 0, sizeof(aged_delivery));
	memset(live, 0, sizeof(live));
}

void sim_fail(struct sim *s, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = true;
	s->fail_ns = s->now_ns;
	s->fail_step = s->step;
	snprintf(s->what, sizeof(s->what), "%s", what);
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

void sim_trace(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->verbose < 2)
		return;
	printf("[%llu %llu.%06llu] ", (unsigned long long)s->step,
	       (unsigned long long)(s->now_ns / SIM_MS),
	       (unsigned long long)(s->now_ns % SIM_MS));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void sim_check_attached(struct sim *s, struct sim_node *n)
{
	uint32_t i = (uint32_t)(n - s->nodes);

	for (uint32_t k = 1; k < n->inc && k < 64; k++)
		if (!superseded_at[i][k])
			superseded_at[i][k] = s->now_ns;
	sim_mirror_supersede(s, i, n->inc);
	if (n->inc < 64)
		gen_of[i][n->inc] = n->io->w.generation;
	sim_trace(s, "node %u incarnation %u attached: slot %u generation %llu, next seq %llu",
		  n->id, n->inc, n->io->slot, (unsigned long long)n->io->w.generation,
		  (unsigned long long)n->io->w.next_seq);
}

void sim_check_push(struct sim *s, struct sim_node *n)
{
	uint8_t buf[3000];
	struct payload p;
	uint16_t dst[DLD_MAX_PEERS], ndst = 0;
	uint32_t len = (uint32_t)(sizeof(p) + sim_rng_below(&s->rng, 1400));
	uint32_t idx = (uint32_t)(n - s->nodes);
	uint8_t mask = 0;

	if (sim_rng_one_in(&s->rng, 50))
		len = (uint32_t)sizeof(buf);   /* more than a block: fragments */
	for (uint32_t j = 0; j < s->nnodes; j++)
		if (&s->nodes[j] != n && !s->nodes[j].removed) {
			dst[ndst++] = (uint16_t)s->nodes[j].id;
			mask |= (uint8_t)(1u << j);
		}
	if (!ndst)
		return;
	for (uint32_t i = sizeof(p); i < len; i++)
		buf[i] = (uint8_t)sim_rng_next(&s->rng);
	p = (struct payload){
		.magic = MAGIC, .sender = n->id, .inc = n->inc, .len = len,
		.counter = n->counter, .push_ns = s->now_ns,
	};
	if (push_inc_first[idx] == 0 || n->counter == 0)
		push_inc_first[idx] = n->counter + 1;
	memcpy(buf, &p, sizeof(p));
	p.crc = dl_crc32c(0, buf + sizeof(p), len - sizeof(p)) ^ (uint32_t)p.counter;
	memcpy(buf, &p, sizeof(p));
	if (dld_q_push_at(n->ch.tx, s->now_ns, 0, dst, ndst, buf, len) == 0) {
		push_ns[idx][n->counter % PUSH_HIST] = s->now_ns;
		push_dst[idx][n->counter % PUSH_HIST] = mask;
		dropped[idx][n->counter % PUSH_HIST] = false;
		s->pushed++;
		sim_trace(s, "node %u sends %u/%u/%llu (%u bytes)", n->id, n->id, n->inc,
			  (unsigned long long)n->counter, len);
		n->counter++;
	}
	n->kicked = true;
	if (n->state == TASK_SLEEP)
		n->wake_ns = s->now_ns;
}

/* A write of node index ni failed: the datagrams that start in it are
 * the ones its writer counts as dropped (write_drops). */
void sim_check_write_failed(struct sim *s, uint32_t ni, uint32_t inc, const uint8_t *data,
			    uint32_t len)
{
	for (uint32_t o = 0; o + sizeof(struct payload) <= len; o++) {
		struct payload p;

		if (data[o] != (MAGIC & 0xffu))
			continue;
		memcpy(&p, data + o, sizeof(p));
		if (p.magic == MAGIC && p.sender == s->nodes[ni].id && p.inc == inc)
			dropped[ni][p.counter % PUSH_HIST] = true;
	}
}

/* Was one of the counters in [from, to) of sender si sent to ri and not
 * counted as dropped by the sender? */
static bool addressed(uint32_t si, uint64_t from, uint64_t to, uint32_t ri)
{
	if (to - from >= PUSH_HIST)
		return true;
	for (uint64_t c = from; c < to; c++)
		if ((push_dst[si][c % PUSH_HIST] & (1u << ri)) && !dropped[si][c % PUSH_HIST])
			return true;
	return false;
}

/* Every counter that says a datagram from sender was not delivered. */
static uint64_t losses(struct sim *s, struct sim_node *r, struct sim_node *snd)
{
	uint64_t l = r->io ? r->io->st.rx_queue_drops + r->io->st.aged_read : 0;

	/* The age rules' drops (max_age): the reader's, the delivery
	 * path's, the sender's. */
	l += aged_delivery[r - s->nodes];
	if (snd->io)
		l += snd->io->st.io.aged_queued + snd->io->st.io.aged_late;

	for (uint32_t i = 0; r->io && i < r->io->npeers; i++) {
		const struct dld_io_peer *p = &r->io->peers[i];

		if (p->node_id == snd->id)
			l += p->rd.st.lost_blocks + p->rd.st.torn_skipped + p->rd.st.frag_dropped +
			     p->rd.st.overruns + p->rd.st.stale + p->rd.st.invalid +
			     p->rd.st.gen_changes;
	}
	(void)snd;                     /* its write_drops: dropped[] */
	return l;
}

/* The age rules' bound (doc/format.md, "Age rules"): max_age, plus the
 * silence a reader needs to see a writer stuck (the larger of max_age and
 * 3 header intervals) for a write that landed before it completed. */
static uint64_t aged_bound_ns(const struct dld_tunables *t)
{
	uint64_t quiet = (uint64_t)t->max_age_ms > 3ull * t->header_interval_ms ?
			 t->max_age_ms : 3ull * t->header_interval_ms;

	return ((uint64_t)t->max_age_ms + quiet) * SIM_MS;
}

static void check_dgram(struct sim *s, struct sim_node *r, const struct dld_qmsg *m,
			struct sim_node **sndp)
{
	struct payload p;
	struct sim_node *snd;
	struct pair *pr;
	uint64_t sup;

	if (m->len < sizeof(p))
		return sim_fail(s, "corrupt", "node %u got %u bytes", r->id, m->len);
	memcpy(&p, m->data, sizeof(p));
	snd = sim_node_by_id(s, p.sender);
	*sndp = snd;
	if (p.magic != MAGIC || p.len != m->len || !snd ||
	    (dl_crc32c(0, m->data + sizeof(p), m->len - sizeof(p)) ^ (uint32_t)p.counter) != p.crc)
		return sim_fail(s, "corrupt", "node %u got a datagram that does not check "
				"(from %u)", r->id, m->node);
	if (m->node != p.sender || p.sender == r->id)
		return sim_fail(s, "wrong-node", "node %u got node %u's datagram %llu as node "
				"%u's", r->id, p.sender, (unsigned long long)p.counter, m->node);
	pr = &pairs[r - s->nodes][snd - s->nodes];
	if (pr->any && p.inc < pr->inc)
		return sim_fail(s, "superseded", "node %u got node %u incarnation %u's datagram "
				"%llu after incarnation %u's", r->id, p.sender, p.inc,
				(unsigned long long)p.counter, pr->inc);
	if (pr->any && p.inc == pr->inc && p.counter <= pr->last &&
	    (pr->last - p.counter >= PUSH_HIST || got_bit(pr, p.counter)))
		return sim_fail(s, "duplicate", "node %u got node %u's datagram %llu "
				"(incarnation %u) again, after %llu", r->id, p.sender,
				(unsigned long long)p.counter, p.inc,
				(unsigned long long)pr->last);
	if (pr->any && p.inc == pr->inc && p.counter < pr->last)
		return sim_fail(s, "reordered", "node %u got node %u's datagram %llu "
				"(incarnation %u, never delivered) after %llu", r->id, p.sender,
				(unsigned long long)p.counter, p.inc,
				(unsigned long long)pr->last);
	/* A reader on a mirror learns of a supersession when its path shows
	 * the successor's header (doc/simulator.md, "stale"). */
	sup = s->nmirrors ? sim_mirror_superseded_at(s, (uint32_t)(r - s->nodes),
						       (uint32_t)(snd - s->nodes), p.inc) :
	      p.inc < 64 ? superseded_at[snd - s->nodes][p.inc] : 0;
	if (p.inc < 64 && gen_of[snd - s->nodes][p.inc] &&
	    gen_of[snd - s->nodes][p.inc] < pr->seen_gen)
		return sim_fail(s, "stale", "node %u got node %u's datagram %llu of incarnation "
				"%u (generation %llu) after it saw generation %llu in its header",
				r->id, p.sender, (unsigned long long)p.counter, p.inc,
				(unsigned long long)gen_of[snd - s->nodes][p.inc],
				(unsigned long long)pr->seen_gen);
	if (sup && sup < pr->since_ns)
		return sim_fail(s, "stale", "node %u (started at %llu ms) got node %u's datagram "
				"%llu of incarnation %u, superseded at %llu ms", r->id,
				(unsigned long long)(pr->since_ns / SIM_MS), p.sender,
				(unsigned long long)p.counter, p.inc,
				(unsigned long long)(sup / SIM_MS));
	if (pr->any && p.inc == pr->inc && p.counter > pr->last + 1 &&
	    addressed((uint32_t)(snd - s->nodes), pr->last + 1, p.counter,
		      (uint32_t)(r - s->nodes)) && pr->credit-- == 0)
		return sim_fail(s, "uncounted-loss", "node %u got node %u's datagram %llu "
				"after %llu (incarnation %u): %llu lost, no counter moved", r->id,
				p.sender,
				(unsigned long long)p.counter, (unsigned long long)pr->last, p.inc,
				(unsigned long long)(p.counter - pr->last - 1));
	if (r->cfg.tun.max_age_ms && s->now_ns - p.push_ns > aged_bound_ns(&r->cfg.tun))
		return sim_fail(s, "aged", "node %u got node %u's datagram %llu (incarnation %u) "
				"%llu ms after it was sent: max_age_ms is %u", r->id, p.sender,
				(unsigned long long)p.counter, p.inc,
				(unsigned long long)((s->now_ns - p.push_ns) / SIM_MS),
				r->cfg.tun.max_age_ms);
	s->delivered++;
	sim_trace(s, "node %u delivered %u/%u/%llu", r->id, p.sender, p.inc,
		  (unsigned long long)p.counter);
	record(pr, p.inc, p.counter);
}

/* Node r's running incarnation's peer id with a ring reader, if any. */
static const struct dld_io_peer *peer_of(const struct sim_node *r, uint32_t id)
{
	for (uint32_t i = 0; r->io && i < r->io->npeers; i++) {
		const struct dld_io_peer *p = &r->io->peers[i];

		if (p->node_id == id && p->reader_ok)
			return p;
	}
	return NULL;
}

/* Which known hole a violation at receiver r of sender snd shows. */
static int attribute(struct sim *s, struct sim_node *r, const struct sim_node *snd)
{
	const struct dld_io_peer *p = peer_of(r, snd->id);
	bool late_attach = p && p->rd.attach_gen;

	if (!strcmp(s->what, "uncounted-loss"))
		return snd->failed_writes ? HOLE_SEQ_REUSE :
		       late_attach ? HOLE_LATE_ATTACH : HOLE_NONE;
	if (late_attach)
		return HOLE_LATE_ATTACH;
	if (snd->failed_writes)
		return HOLE_SEQ_REUSE;
	/* an older incarnation's write landed, or is landing */
	return snd->late_writes || sim_dev_orphan_writes(s, (uint32_t)(snd - s->nodes)) ?
	       HOLE_LATE_WRITE : HOLE_NONE;
}

static void check_one(struct sim *s, struct sim_node *r, const struct dld_qmsg *m)
{
	struct sim_node *snd = NULL;
	bool before = s->failed;

	check_dgram(s, r, m, &snd);
	if (!before && s->failed && snd && strcmp(s->what, "corrupt") &&
	    strcmp(s->what, "wrong-node"))
		s->hole = attribute(s, r, snd);
}

/* Every loss counted (a counter may start again at 0 with a new reader
 * or a new sender incarnation) is a credit one gap may use. */
static void count_losses(struct sim *s, struct sim_node *r)
{
	for (uint32_t j = 0; j < s->nnodes; j++) {
		struct pair *pr = &pairs[r - s->nodes][j];
		uint64_t l = losses(s, r, &s->nodes[j]);

		pr->credit += l >= pr->seen ? l - pr->seen : l;
		pr->seen = l;
	}
}

/* The generation each sender's header showed this reader: from the
 * next step on, an older incarnation's datagram is one it had not read
 * when it saw the new generation (doc/format.md, "Incarnations"). */
static void note_seen(struct sim *s, struct sim_node *r)
{
	uint32_t ri = (uint32_t)(r - s->nodes);

	for (uint32_t j = 0; j < s->nnodes; j++) {
		const struct dld_io_peer *p = peer_of(r, s->nodes[j].id);

		if (p && p->generation > pairs[ri][j].seen_gen)
			pairs[ri][j].seen_gen = p->generation;
	}
}

void sim_check_deliveries(struct sim *s, struct sim_node *r)
{
	uint32_t ri = (uint32_t)(r - s->nodes);
	uint64_t pos;
	struct dld_qmsg m;

	if (!r->ch.shm)
		return;
	for (uint32_t j = 0; j < s->nnodes; j++)
		if (pairs[ri][j].rinc != r->inc)
			pairs[ri][j] = (struct pair){ .rinc = r->inc, .since_ns = s->now_ns };
	count_losses(s, r);
	pos = dld_q_tail(r->ch.rx);
	while (dld_q_read(r->ch.rx, &pos, &m)) {
		/* The parent's delivery path (sockets.c): its age rule. */
		if (dld_q_too_old(&m, dld_age_budget_ns(r->cfg.tun.max_age_ms), s->now_ns))
			aged_delivery[ri]++;
		else
			check_one(s, r, &m);
		dld_q_release(r->ch.rx, pos);
	}
	dld_efd_drain(r->ch.rx_efd);
	note_seen(s, r);
}

/* The ring reader of node r's running incarnation for peer id, if any. */
static const struct dl_reader *reader_of(const struct sim_node *r, uint32_t id)
{
	const struct dld_io_peer *p = peer_of(r, id);

	return p && p->slot >= 0 ? &p->rd : NULL;
}

/* The reader of the running node r has synced to snd's ring (its first
 * resync ran): from the next datagram snd pushes on, nothing of snd's
 * current incarnation may wait longer than the bound. */
static void live_note(struct sim *s, uint32_t ri, uint32_t si)
{
	const struct sim_node *r = &s->nodes[ri], *snd = &s->nodes[si];
	struct live *lv = &live[ri][si];
	const struct dl_reader *rd;

	if (lv->rinc != r->inc || lv->sinc != snd->inc)
		*lv = (struct live){ .rinc = r->inc, .sinc = snd->inc };
	rd = reader_of(r, snd->id);
	if (!lv->on && rd && rd->synced) {
		lv->on = true;
		lv->from = snd->counter;
	}
}

/* The delivery bound (late), benign device: what a running sender pushed
 * is delivered in time to every running reader synced to it: the datagram
 * after the last one delivered of the sender's incarnation, or, none yet,
 * the first it pushed once the reader was synced (both running). */
static void check_bound(struct sim *s, uint32_t ri, uint32_t si)
{
	const struct pair *pr = &pairs[ri][si];
	const struct sim_node *snd = &s->nodes[si];
	const struct live *lv = &live[ri][si];
	bool none = !pr->any || pr->inc != snd->inc;
	const struct dl_reader *rd;
	uint64_t next, t;

	live_note(s, ri, si);
	if (none && !lv->on)
		return;
	next = none ? lv->from : pr->last + 1;
	if (next >= snd->counter || snd->counter - next >= PUSH_HIST)
		return;
	t = push_ns[si][next % PUSH_HIST];
	if (t + BOUND_NS >= s->now_ns || !(push_dst[si][next % PUSH_HIST] & (1u << ri)))
		return;
	rd = reader_of(&s->nodes[ri], snd->id);
	sim_fail(s, "late", "node %u has not got node %u's datagram %llu (incarnation %u), "
		 "sent %llu ms ago%s; its reader waits at seq %llu (generation %llu), %llu "
		 "stale", s->nodes[ri].id, snd->id, (unsigned long long)next, snd->inc,
		 (unsigned long long)((s->now_ns - t) / SIM_MS),
		 none ? ": none of that incarnation delivered since the reader synced" : "",
		 (unsigned long long)(rd ? rd->next_seq : 0),
		 (unsigned long long)(rd ? rd->min_generation : 0),
		 (unsigned long long)(rd ? rd->st.stale : 0));
}

void sim_check_global(struct sim *s)
{
	for (uint32_t i = 0; i < s->nnodes; i++) {
		const struct sim_node *a = &s->nodes[i];

		if (!a->alive || !a->attached)
			continue;
		for (uint32_t j = i + 1; j < s->nnodes; j++) {
			const struct sim_node *b = &s->nodes[j];

			if (b->alive && b->attached && a->io->slot == b->io->slot && !s->failed) {
				sim_fail(s, "double-claim", "nodes %u and %u both own slot %u",
					 a->id, b->id, a->io->slot);
				s->hole = HOLE_CLAIM_TWICE;
				return;
			}
		}
		if (!s->sc->bound)
			continue;
		for (uint32_t j = 0; j < s->nnodes; j++)
			if (j != i && s->nodes[j].alive && s->nodes[j].attached &&
			    !s->nodes[j].removed && !a->removed)
				check_bound(s, i, j);
	}
}
