/* Adaptive poll schedule (poll_sched.h). */
#include "config.h"

#include <sys/random.h>

#include "poll_sched.h"

static uint64_t rnd_next(struct dld_sched *s)
{
	uint64_t x = s->rnd;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->rnd = x;
	return x;
}

/* Uniform in [-span, +span]. */
static int64_t jitter(struct dld_sched *s, uint64_t span)
{
	if (!span)
		return 0;
	return (int64_t)(rnd_next(s) % (2 * span + 1)) - (int64_t)span;
}

void dld_sched_tune(struct dld_sched *s, const struct dld_tunables *t)
{
	s->fast_ns = (uint64_t)t->poll_fast_us * 1000u;
	s->idle_ns = (uint64_t)t->poll_idle_us * 1000u;
	if (s->idle_ns < s->fast_ns)
		s->idle_ns = s->fast_ns;
	s->window_ns = (uint64_t)t->fast_window_ms * 1000000u;
	s->slow_ns = (uint64_t)t->poll_slow_ms * 1000000u;
	if (s->slow_ns && s->slow_ns < s->idle_ns)
		s->slow_ns = s->idle_ns;
	s->phase_ns = rnd_next(s) % s->idle_ns;
}

void dld_sched_init(struct dld_sched *s, uint32_t node_id, const struct dld_tunables *t)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = 0;
	s->rnd = (seed ^ ((uint64_t)node_id * 0x9e3779b97f4a7c15ull)) | 1u;
	s->fast_until_ns = 0;
	s->await_until_ns = 0;
	s->win_start_ns = s->win_end_ns = UINT64_MAX;
	s->learned = false;
	s->forced = false;
	s->last_poll_ns = 0;
	for (uint32_t i = 0; i < DLD_MAX_PEERS; i++)
		s->peer[i] = (struct dld_sched_peer){ .node_id = 0 };
	dld_sched_tune(s, t);
}

void dld_sched_activity(struct dld_sched *s, uint64_t now)
{
	if (now + s->window_ns > s->fast_until_ns)
		s->fast_until_ns = now + s->window_ns;
}

void dld_sched_predict(struct dld_sched *s, uint64_t start, uint64_t end, bool learned)
{
	s->win_start_ns = start;
	s->win_end_ns = end;
	s->learned = learned;
}

bool dld_sched_is_fast(const struct dld_sched *s, uint64_t now)
{
	return s->forced || now < s->fast_until_ns || now < s->await_until_ns;
}

static uint64_t fast_next(struct dld_sched *s, uint64_t now)
{
	return now + s->fast_ns + (uint64_t)((int64_t)s->fast_ns / 8 + jitter(s, s->fast_ns / 8));
}

/* Every peer learned: fast in the window around the next expected
 * arrival, else the background period or the window's start. */
static uint64_t ahead_next(struct dld_sched *s, uint64_t now)
{
	uint64_t ws = s->win_start_ns, t;

	if (now + s->fast_ns >= ws && now <= s->win_end_ns)
		return fast_next(s, now);
	t = (uint64_t)((int64_t)(now + s->slow_ns) + jitter(s, s->slow_ns / 8));
	return t < ws ? t : ws;
}

uint64_t dld_sched_next(struct dld_sched *s, uint64_t now)
{
	uint64_t k, t;

	if (dld_sched_is_fast(s, now))
		return fast_next(s, now);
	if (s->slow_ns && s->learned)
		return ahead_next(s, now);
	/* The next point of this node's idle grid, jittered by 1/8 period.
	 * A poll up to 1/4 period early (jittered) counts as the grid
	 * point it was for: the next one is a period later, not the same
	 * point again (which made idle polls 1.5 times as frequent). */
	k = (now + s->idle_ns / 4 - (now < s->phase_ns ? 0 : s->phase_ns)) / s->idle_ns + 1;
	t = s->phase_ns + k * s->idle_ns;
	t = (uint64_t)((int64_t)t + jitter(s, s->idle_ns / 8));
	if (t < now + s->fast_ns)
		t += s->idle_ns;
	return t;
}
