/* The phase learner (ping_phase.c), fed arrival times: a period and
 * phase learned from three arrivals; jitter and drift followed; a
 * phase that stops (a peer's restart) dropped after DLD_PHASE_MAX_MISS
 * periods and the new one learned; a new period (a reload); two phases
 * of one period; a vague late sighting keeps the phase; noise between
 * the pings is no phase. */
#include "../unit/test_util.h"

#include "ping_phase.h"

#define MS 1000000ull
#define US 1000ull

/* A fresh learner fed four pings a second apart from *t on (*t moves on):
 * the period and one phase are learned. */
static void learn_1s(struct dld_phase *p, uint64_t *t)
{
	dld_phase_reset(p);
	for (int i = 0; i < 4; i++, *t += 1000 * MS)
		dld_phase_arrival(p, *t, 0);
}

static void test_learns_period_and_phase(void **state)
{
	struct dld_phase p;
	uint64_t t0 = 5000 * MS;

	(void)state;
	dld_phase_reset(&p);
	assert_int_equal(dld_phase_expect(&p, t0), UINT64_MAX);
	assert_false(dld_phase_arrival(&p, t0, 0));
	assert_false(dld_phase_arrival(&p, t0 + 1000 * MS, 0));
	assert_false(dld_phase_learned(&p));
	/* Two equal intervals: learned, the third arrival its anchor. */
	assert_false(dld_phase_arrival(&p, t0 + 2000 * MS + 300 * US, 0));
	assert_true(dld_phase_learned(&p));
	assert_true(p.period_ns >= 999 * MS && p.period_ns <= 1001 * MS);
	/* The next: a period after the anchor, also while its window is open. */
	assert_true(dld_phase_expect(&p, t0 + 2500 * MS) >= t0 + 2999 * MS);
	assert_true(dld_phase_expect(&p, t0 + 2500 * MS) <= t0 + 3001 * MS);
	assert_int_equal(dld_phase_expect(&p, t0 + 3002 * MS),
			 dld_phase_expect(&p, t0 + 2500 * MS));
	/* Arrivals on time (within the jitter of knet's tick) are hits. */
	assert_true(dld_phase_arrival(&p, t0 + 3000 * MS + 900 * US, 0));
	assert_true(dld_phase_arrival(&p, t0 + 4000 * MS - 500 * US, 0));
	assert_true(dld_phase_expect(&p, t0 + 4100 * MS) > t0 + 4995 * MS);
	assert_true(dld_phase_expect(&p, t0 + 4100 * MS) < t0 + 5002 * MS);
}

/* knet's tick is a sleep after work: the period drifts; followed. */
static void test_follows_drift_and_jitter(void **state)
{
	struct dld_phase p;
	uint64_t t = 1000 * MS, period = 1000 * MS + 700 * US;
	uint32_t hits = 0;

	(void)state;
	dld_phase_reset(&p);
	for (int i = 0; i < 200; i++) {
		uint64_t jit = (uint64_t)((i * 7919) % 1200) * US;   /* 0..1.2 ms */
		uint64_t at = t + jit;

		if (i > 3) {
			uint64_t e = dld_phase_expect(&p, at - 3 * MS);

			/* Expected within the window around the arrival. */
			assert_true(e <= at + DLD_PHASE_LEAD_NS);
			assert_true(e + DLD_PHASE_TRAIL_NS >= at);
		}
		hits += dld_phase_arrival(&p, at, 0);
		t += period;
	}
	assert_true(hits >= 196);
	assert_true(p.period_ns > 1000 * MS && p.period_ns < 1002 * MS);
	assert_int_equal(p.nanchor, 1);
}

/* A peer restarts: its old phase stops, a new one begins; one missed
 * ping is no restart. */
static void test_restart_and_missed_ping(void **state)
{
	struct dld_phase p;
	uint64_t t = 1000 * MS, e;

	(void)state;
	learn_1s(&p, &t);
	/* One lost: the next one, two periods on, still a hit. */
	t += 1000 * MS;
	assert_true(dld_phase_arrival(&p, t, 0));
	/* The restart: nothing for 5 s, then pings at another phase. */
	e = dld_phase_expect(&p, t + 5500 * MS);
	assert_int_equal(e, UINT64_MAX);        /* the old phase missed 5 */
	assert_false(dld_phase_learned(&p));
	t += 5000 * MS + 400 * MS;
	assert_false(dld_phase_arrival(&p, t, 0));
	/* The period is known: the second arrival anchors the new phase. */
	assert_false(dld_phase_arrival(&p, t + 1000 * MS, 0));
	assert_true(dld_phase_learned(&p));
	e = dld_phase_expect(&p, t + 1500 * MS);
	assert_true(e >= t + 1999 * MS && e <= t + 2001 * MS);
}

/* corosync-cfgtool -R with a new token timeout: a new ping interval. */
static void test_period_change(void **state)
{
	struct dld_phase p;
	uint64_t t = 1000 * MS, e;

	(void)state;
	learn_1s(&p, &t);
	for (int i = 0; i < 6; i++, t += 600 * MS)
		dld_phase_arrival(&p, t, 0);
	assert_true(dld_phase_learned(&p));
	assert_true(p.period_ns > 599 * MS && p.period_ns < 601 * MS);
	e = dld_phase_expect(&p, t - 500 * MS);
	assert_true(e >= t - 601 * MS + 600 * MS - 2 * MS && e <= t + 1 * MS);
}

/* Two phases of one period (its pings, its pongs to ours); arrivals at
 * random times are no phase. */
static void test_two_phases_and_noise(void **state)
{
	struct dld_phase p;
	uint64_t t = 1000 * MS, e;

	(void)state;
	dld_phase_reset(&p);
	for (int i = 0; i < 6; i++, t += 1000 * MS) {
		dld_phase_arrival(&p, t, 0);
		dld_phase_arrival(&p, t + 370 * MS, 0);
		if (i == 2)
			dld_phase_arrival(&p, t + 811 * MS, 0);     /* noise */
	}
	assert_int_equal(p.nanchor, 2);
	e = dld_phase_expect(&p, t - 1000 * MS + 371 * MS + DLD_PHASE_TRAIL_NS);
	assert_true(e >= t - 1 * MS && e <= t + 1 * MS);
	e = dld_phase_expect(&p, t + 10 * MS);
	assert_true(e >= t + 369 * MS && e <= t + 371 * MS);
	/* A burst on a phase (two datagrams 1 ms apart) is no new phase. */
	assert_true(dld_phase_arrival(&p, t + 1 * MS, 0));
	assert_int_equal(p.nanchor, 2);
}

/* An arrival seen late by a background poll (vague: it came within
 * 40 ms before) keeps the phase where the period puts it. */
static void test_vague_sighting(void **state)
{
	struct dld_phase p;
	uint64_t t = 1000 * MS, e;

	(void)state;
	learn_1s(&p, &t);
	assert_true(dld_phase_arrival(&p, t + 30 * MS, 40 * MS));
	e = dld_phase_expect(&p, t + 100 * MS);
	assert_true(e >= t + 999 * MS && e <= t + 1001 * MS);
}

/* A loaded sender (its pings +-4 ms off the period): the window widens
 * with the jitter seen, and still ends within an eighth of the period. */
static void test_window_follows_jitter(void **state)
{
	struct dld_phase p;
	uint64_t t = 1000 * MS, lead, trail, lead0, trail0, x = 42;
	uint32_t in = 0;

	(void)state;
	dld_phase_reset(&p);
	dld_phase_window(&p, &lead0, &trail0);
	assert_int_equal(lead0, DLD_PHASE_LEAD_NS);
	assert_int_equal(trail0, DLD_PHASE_TRAIL_NS);
	for (int i = 0; i < 100; i++, t += 1000 * MS) {
		uint64_t at;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		at = t + ((x >> 33) % 8000u) * US - 4 * MS;
		uint64_t e = dld_phase_expect(&p, at > 20 * MS ? at - 20 * MS : 0);

		dld_phase_window(&p, &lead, &trail);
		in += i > 10 && e != UINT64_MAX && at + lead >= e && at <= e + trail;
		dld_phase_arrival(&p, at, 0);
	}
	dld_phase_window(&p, &lead, &trail);
	assert_true(lead > lead0 + 2 * MS);
	assert_true(trail > trail0 + 3 * MS);
	assert_true(lead <= p.period_ns / 8 && trail <= p.period_ns / 8);
	assert_true(in >= 80);               /* of 89 */
}

/* A loaded sender's pings come late now and then (tens of ms): they
 * never replace a period that keeps matching, even when three of them
 * happen to lie a common interval apart (4: three equal intervals). */
static void test_late_pings_keep_the_period(void **state)
{
	struct dld_phase p;
	uint64_t t = 1000 * MS, e;

	(void)state;
	learn_1s(&p, &t);
	/* On time, plus late ones 1017 ms apart, 4 of them in a row. */
	for (int i = 0; i < 5; i++, t += 1000 * MS) {
		dld_phase_arrival(&p, t, 0);
		if (i >= 1)
			dld_phase_arrival(&p, t + 30 * MS + (uint64_t)(i - 1) * 17 * MS, 0);
	}
	assert_true(p.period_ns > 999 * MS && p.period_ns < 1001 * MS);
	e = dld_phase_expect(&p, t - 500 * MS);
	assert_true(e >= t - 1 * MS && e <= t + 1 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learns_period_and_phase),
		cmocka_unit_test(test_follows_drift_and_jitter),
		cmocka_unit_test(test_restart_and_missed_ping),
		cmocka_unit_test(test_period_change),
		cmocka_unit_test(test_two_phases_and_noise),
		cmocka_unit_test(test_vague_sighting),
		cmocka_unit_test(test_window_follows_jitter),
		cmocka_unit_test(test_late_pings_keep_the_period),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
