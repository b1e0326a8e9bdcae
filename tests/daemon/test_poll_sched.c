/* The poll schedule (poll_sched.c): the idle period on this node's grid
 * with its jitter bounds, the fast period and the fast window after
 * traffic, and new tunables.  Times are plain numbers (the schedule
 * takes "now" from its caller: no clock to fake). */
#include "../unit/test_util.h"

#include "poll_sched.h"

#define MS 1000000ull
#define US 1000ull

static struct dld_tunables tun(uint32_t fast_us, uint32_t idle_us, uint32_t window_ms)
{
	return (struct dld_tunables){
		.poll_fast_us = fast_us, .poll_idle_us = idle_us, .fast_window_ms = window_ms,
	};
}

static void test_init_tune(void **state)
{
	struct dld_tunables t = tun(200, 20000, 500);
	struct dld_sched s;

	(void)state;
	dld_sched_init(&s, 1, &t);
	assert_int_equal(s.fast_ns, 200 * US);
	assert_int_equal(s.idle_ns, 20 * MS);
	assert_int_equal(s.window_ns, 500 * MS);
	assert_true(s.phase_ns < s.idle_ns);
	assert_false(dld_sched_is_fast(&s, 0));
	/* New tunables (SIGHUP); an idle period below the fast one is raised. */
	t = tun(1000, 500, 50);
	dld_sched_tune(&s, &t);
	assert_int_equal(s.fast_ns, 1 * MS);
	assert_int_equal(s.idle_ns, 1 * MS);
	assert_int_equal(s.window_ns, 50 * MS);
	assert_true(s.phase_ns < s.idle_ns);
}

/* Idle: the next point of the node's grid, within 1/8 period of it,
 * never sooner than one fast period from now. */
static void test_idle_grid_and_jitter(void **state)
{
	struct dld_tunables t = tun(500, 16000, 100);
	struct dld_sched s;
	uint64_t now = 1000 * MS, lo = UINT64_MAX, hi = 0;

	(void)state;
	dld_sched_init(&s, 7, &t);
	for (int i = 0; i < 5000; i++) {
		uint64_t next = dld_sched_next(&s, now), off;
		uint64_t g = (next - s.phase_ns) % s.idle_ns;   /* from the grid */

		assert_true(next >= now + s.fast_ns);
		assert_true(next <= now + s.idle_ns + s.idle_ns / 2);
		off = g <= s.idle_ns / 2 ? g : s.idle_ns - g;
		assert_true(off <= s.idle_ns / 8);
		if (next - now < lo)
			lo = next - now;
		if (next - now > hi)
			hi = next - now;
		now = next;
	}
	/* Jitter: the periods spread around the idle period. */
	assert_true(lo < s.idle_ns - s.idle_ns / 16);
	assert_true(hi > s.idle_ns + s.idle_ns / 16);
}

/* Traffic: fast for the window, then back to idle. */
static void test_fast_window(void **state)
{
	struct dld_tunables t = tun(400, 20000, 100);
	struct dld_sched s;
	uint64_t now = 5000 * MS, start = now;

	(void)state;
	dld_sched_init(&s, 2, &t);
	dld_sched_activity(&s, now);
	assert_true(dld_sched_is_fast(&s, now));
	while (now < start + 100 * MS) {
		uint64_t next = dld_sched_next(&s, now);

		assert_true(dld_sched_is_fast(&s, now));
		/* one fast period, +1/8 +- 1/8 */
		assert_true(next >= now + s.fast_ns);
		assert_true(next <= now + s.fast_ns + s.fast_ns / 4);
		now = next;
	}
	assert_false(dld_sched_is_fast(&s, now));
	/* Idle again: a point of the grid, more than a fast period away. */
	{
		uint64_t next = dld_sched_next(&s, now), g = (next - s.phase_ns) % s.idle_ns;

		assert_true(next >= now + s.fast_ns);
		assert_true(g <= s.idle_ns / 8 || g >= s.idle_ns - s.idle_ns / 8);
	}
	assert_false(dld_sched_is_fast(&s, start + 100 * MS));
	assert_true(dld_sched_is_fast(&s, start + 100 * MS - 1));
}

/* Activity extends the window, an older one never shortens it. */
static void test_window_extends(void **state)
{
	struct dld_tunables t = tun(400, 20000, 100);
	struct dld_sched s;

	(void)state;
	dld_sched_init(&s, 3, &t);
	dld_sched_activity(&s, 1000 * MS);
	dld_sched_activity(&s, 1050 * MS);
	assert_true(dld_sched_is_fast(&s, 1149 * MS));
	assert_false(dld_sched_is_fast(&s, 1150 * MS));
	dld_sched_activity(&s, 1010 * MS);
	assert_true(dld_sched_is_fast(&s, 1149 * MS));
	/* New tunables: a longer window for the next activity. */
	t = tun(400, 20000, 300);
	dld_sched_tune(&s, &t);
	dld_sched_activity(&s, 1100 * MS);
	assert_true(dld_sched_is_fast(&s, 1399 * MS));
}

/* The mean period over n polls from *now. */
static uint64_t mean_period(struct dld_sched *s, uint64_t *now, int n)
{
	uint64_t start = *now;

	for (int i = 0; i < n; i++) {
		uint64_t next = dld_sched_next(s, *now);

		assert_true(next - *now >= s->fast_ns);
		assert_true(next - *now <= s->idle_ns + s->idle_ns / 2);
		*now = next;
	}
	return (*now - start) / (uint64_t)n;
}

/* A new idle period takes effect at the next poll. */
static void test_tunables_change_period(void **state)
{
	struct dld_tunables t = tun(100, 10000, 10);
	struct dld_sched s;
	uint64_t now = 1000 * MS, mean;

	(void)state;
	dld_sched_init(&s, 4, &t);
	mean = mean_period(&s, &now, 200);
	assert_true(mean > 9 * MS && mean < 11 * MS);
	t = tun(100, 40000, 10);
	dld_sched_tune(&s, &t);
	mean_period(&s, &now, 1);              /* onto the new grid */
	mean = mean_period(&s, &now, 200);
	assert_true(mean > 38 * MS && mean < 42 * MS);
}

/* The farthest the idle grid puts the next poll: a grid point within
 * 1/4 period counts as passed, so the next is up to 5/4 period away,
 * and the jitter adds up to 1/8. */
#define GRID_MAX(idle) ((idle) + (idle) / 4 + (idle) / 8)

/* The bound above over many nodes' random phases and jitters, on the
 * grid test_ahead falls back to when not every peer is learned.  Its
 * earlier bound, 5/4 period without the jitter, failed about one run
 * in 16 (a phase 3/4 to 7/8 period behind "now" and a late jitter);
 * this loop fails it every time. */
static void test_ahead_grid_bound(void **state)
{
	struct dld_tunables t = tun(500, 5000, 10);
	uint64_t now = 1027 * MS, worst = 0;

	(void)state;
	t.poll_slow_ms = 40;
	for (uint32_t i = 0; i < 4000; i++) {
		struct dld_sched s;
		uint64_t next;

		dld_sched_init(&s, i, &t);
		dld_sched_predict(&s, now + 993 * MS, now + 999 * MS, false);
		next = dld_sched_next(&s, now);
		assert_true(next >= now + s.fast_ns);
		assert_true(next <= now + GRID_MAX(s.idle_ns));
		if (next - now > worst)
			worst = next - now;
	}
	/* The bound is reached, not just respected. */
	assert_true(worst > 5 * MS + 5 * MS / 4);
}

/* Every peer learned (poll_slow_ms): the background period until the
 * next window of expected arrivals, fast inside it; not learned: the
 * idle grid; the parent's disk_totem: fast. */
static void test_ahead(void **state)
{
	struct dld_tunables t = tun(500, 5000, 10);
	struct dld_sched s;
	uint64_t now = 1000 * MS, next;

	(void)state;
	t.poll_slow_ms = 40;
	dld_sched_init(&s, 3, &t);
	assert_int_equal(s.slow_ns, 40 * MS);
	dld_sched_predict(&s, now + 100 * MS, now + 106 * MS, true);
	next = dld_sched_next(&s, now);
	assert_true(next >= now + 35 * MS && next <= now + 45 * MS);
	dld_sched_predict(&s, now + 20 * MS, now + 26 * MS, true);
	assert_int_equal(dld_sched_next(&s, now), now + 20 * MS);
	now += 20 * MS;
	next = dld_sched_next(&s, now);                /* in the window */
	assert_true(next <= now + s.fast_ns + s.fast_ns / 4);
	now += 7 * MS;                                 /* after it */
	dld_sched_predict(&s, now + 993 * MS, now + 999 * MS, true);
	next = dld_sched_next(&s, now);
	assert_true(next >= now + 35 * MS);
	/* Not every peer learned: the 5 ms grid (test_ahead_grid_bound). */
	dld_sched_predict(&s, now + 993 * MS, now + 999 * MS, false);
	next = dld_sched_next(&s, now);
	assert_true(next <= now + GRID_MAX(5 * MS));
	/* The disk carries totem. */
	s.forced = true;
	assert_true(dld_sched_is_fast(&s, now));
	s.forced = false;
	/* poll_slow_ms 0: the grid even when learned; below the idle period: raised. */
	t.poll_slow_ms = 0;
	dld_sched_tune(&s, &t);
	dld_sched_predict(&s, now + 993 * MS, now + 999 * MS, true);
	assert_true(dld_sched_next(&s, now) <= now + GRID_MAX(5 * MS));
	t.poll_slow_ms = 2;
	dld_sched_tune(&s, &t);
	assert_int_equal(s.slow_ns, 5 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_tune),
		cmocka_unit_test(test_idle_grid_and_jitter),
		cmocka_unit_test(test_fast_window),
		cmocka_unit_test(test_window_extends),
		cmocka_unit_test(test_tunables_change_period),
		cmocka_unit_test(test_ahead),
		cmocka_unit_test(test_ahead_grid_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
