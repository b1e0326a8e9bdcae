/* Mirror paths: each reading node may read its peers through a mirror of
 * the shared store ("sim:mirror-K", K the reader's index), as a node
 * reads a peer's send volume through its R2 (--peer-device).  A mirror
 * receives every write that lands on the store, in order, after a delay
 * that follows its state: healthy (µs), lagging (up to seconds), frozen
 * (nothing until it thaws), split (writes are lost to it until it heals
 * with a full copy).  Its superblock may also read invalid for a while. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static void entry_free(struct sim_mirror_w *e)
{
	free(e->data);
	e->data = NULL;
}

int sim_mirror_init(struct sim *s)
{
	for (uint32_t k = 0; k < s->nmirrors; k++) {
		struct sim_mirror *m = &s->mirrors[k];

		*m = (struct sim_mirror){ .state = MIRROR_HEALTHY };
		m->store = malloc(s->dev.size);
		if (!m->store)
			return -1;
		memcpy(m->store, s->dev.store, s->dev.size);
	}
	return 0;
}

void sim_mirror_free(struct sim *s)
{
	for (uint32_t k = 0; k < s->nmirrors; k++) {
		struct sim_mirror *m = &s->mirrors[k];

		while (m->tail != m->head)
			entry_free(&m->q[m->tail++ % SIM_MIRROR_Q]);
		free(m->store);
		m->store = NULL;
	}
}

static uint64_t delay(struct sim *s, const struct sim_mirror *m)
{
	switch (m->state) {
	case MIRROR_LAGGING:
		return sim_rng_log(&s->rng, SIM_MS, m->lag_max_ns);
	case MIRROR_FROZEN:
		return UINT64_MAX;
	default:
		return sim_rng_log(&s->rng, SIM_US, 200 * SIM_US);
	}
}

void sim_mirror_landed(struct sim *s, uint64_t off, const uint8_t *data, uint32_t len)
{
	for (uint32_t k = 0; k < s->nmirrors; k++) {
		struct sim_mirror *m = &s->mirrors[k];
		struct sim_mirror_w *e;
		uint64_t d = delay(s, m);

		if (!m->store)
			continue;      /* formatting: the mirrors copy the result */
		if (m->state == MIRROR_SPLIT || m->head - m->tail >= SIM_MIRROR_Q) {
			m->diverged = true;    /* a full copy when it heals */
			continue;
		}
		e = &m->q[m->head % SIM_MIRROR_Q];
		*e = (struct sim_mirror_w){ .off = off, .len = len, .data = malloc(len) };
		if (!e->data) {
			m->diverged = true;
			continue;
		}
		memcpy(e->data, data, len);
		/* in order: never before the write ahead of it */
		e->due_ns = d == UINT64_MAX ? UINT64_MAX : s->now_ns + d;
		if (m->head != m->tail && m->q[(m->head - 1) % SIM_MIRROR_Q].due_ns > e->due_ns)
			e->due_ns = m->q[(m->head - 1) % SIM_MIRROR_Q].due_ns;
		m->head++;
	}
}

uint64_t sim_mirror_next_due(const struct sim *s)
{
	uint64_t t = UINT64_MAX;

	for (uint32_t k = 0; k < s->nmirrors; k++) {
		const struct sim_mirror *m = &s->mirrors[k];

		if (m->head != m->tail && m->q[m->tail % SIM_MIRROR_Q].due_ns < t)
			t = m->q[m->tail % SIM_MIRROR_Q].due_ns;
		if (m->until_ns && m->until_ns < t)
			t = m->until_ns;
	}
	return t;
}

/* Which supersessions this mirror now shows: those whose successor's
 * header it applied, or all of them with a full copy. */
static void shown(struct sim *s, struct sim_mirror *m, bool copied)
{
	for (uint32_t i = 0; i < SIM_NODES_MAX; i++)
		for (uint32_t j = 0; j < 64; j++) {
			struct sim_mirror_sup *u = &m->sup[i][j];

			if (u->pending && (copied || (!u->on_copy &&
						      (int32_t)(m->tail - u->idx) >= 0))) {
				u->at_ns = s->now_ns;
				u->pending = false;
			}
		}
}

/* Node ni's incarnation inc attached (its header landed on the store):
 * its older incarnations are superseded on each mirror once the mirror
 * has applied that header, or with its next full copy when the header
 * was lost to it (split, or its queue overflowed). */
void sim_mirror_supersede(struct sim *s, uint32_t ni, uint32_t inc)
{
	for (uint32_t k = 0; k < s->nmirrors; k++) {
		struct sim_mirror *m = &s->mirrors[k];

		for (uint32_t j = 1; j < inc && j < 64; j++) {
			struct sim_mirror_sup *u = &m->sup[ni][j];

			if (u->at_ns || u->pending)
				continue;
			*u = (struct sim_mirror_sup){ .pending = true, .idx = m->head,
						      .on_copy = m->diverged ||
								 m->state == MIRROR_SPLIT };
		}
		shown(s, m, false);
	}
}

/* When node ni's incarnation inc was superseded as mirror k shows it
 * (0: not yet): a reader on that path cannot know of it before. */
uint64_t sim_mirror_superseded_at(const struct sim *s, uint32_t k, uint32_t ni, uint32_t inc)
{
	return inc < 64 ? s->mirrors[k].sup[ni][inc].at_ns : 0;
}

/* The state ends: back to healthy; what waited is due now, and a split
 * mirror heals with a full copy. */
static void heal(struct sim *s, struct sim_mirror *m)
{
	sim_trace(s, "mirror %u healthy again%s", (uint32_t)(m - s->mirrors),
		  m->diverged ? " (full copy)" : "");
	m->state = MIRROR_HEALTHY;
	m->until_ns = 0;
	for (uint32_t i = m->tail; i != m->head; i++)
		if (m->q[i % SIM_MIRROR_Q].due_ns > s->now_ns)
			m->q[i % SIM_MIRROR_Q].due_ns = s->now_ns;
	if (m->diverged) {
		while (m->tail != m->head)
			entry_free(&m->q[m->tail++ % SIM_MIRROR_Q]);
		memcpy(m->store, s->dev.store, s->dev.size);
		m->diverged = false;
		shown(s, m, true);
	}
}

void sim_mirror_apply_due(struct sim *s)
{
	for (uint32_t k = 0; k < s->nmirrors; k++) {
		struct sim_mirror *m = &s->mirrors[k];

		if (m->until_ns && m->until_ns <= s->now_ns)
			heal(s, m);
		while (m->head != m->tail && m->q[m->tail % SIM_MIRROR_Q].due_ns <= s->now_ns) {
			struct sim_mirror_w *e = &m->q[m->tail++ % SIM_MIRROR_Q];

			memcpy(m->store + e->off, e->data, e->len);
			entry_free(e);
		}
		shown(s, m, false);
	}
}

void sim_mirror_event(struct sim *s)
{
	struct sim_mirror *m = &s->mirrors[sim_rng_below(&s->rng, s->nmirrors)];
	static const char *const names[] = { "healthy", "lagging", "frozen", "split",
					     "superblock invalid" };
	uint32_t what = (uint32_t)sim_rng_below(&s->rng, 5);
	uint64_t len = sim_rng_log(&s->rng, 10 * SIM_MS, 5000 * SIM_MS);

	sim_trace(s, "mirror %u: %s for %llu ms", (uint32_t)(m - s->mirrors), names[what],
		  (unsigned long long)(len / SIM_MS));
	if (what == 4) {
		m->sbflip_until_ns = s->now_ns + len;
		return;
	}
	if (what == MIRROR_HEALTHY) {
		heal(s, m);
		return;
	}
	m->state = what;
	m->lag_max_ns = sim_rng_log(&s->rng, 10 * SIM_MS, 3000 * SIM_MS);
	m->until_ns = s->now_ns + len;
}

void sim_mirror_read(struct sim *s, uint32_t k, uint64_t off, uint8_t *buf, uint32_t len)
{
	const struct sim_mirror *m = &s->mirrors[k];

	memcpy(buf, m->store + off, len);
	if (off == 0 && m->sbflip_until_ns > s->now_ns)
		buf[8] ^= 0x5a;        /* the superblock does not decode */
}
