/* Polling ahead of pings in the I/O child (io_ahead.c with ping_phase.c
 * and poll_sched.c): the child's poll loop played on a fake clock, with
 * peers whose datagrams arrive at knet's ping interval (a reader's count
 * moving, the writer's stamp), as the loop calls it: the schedule learns
 * every peer's phase, then polls densely only around the expected
 * arrivals and at poll_slow_ms otherwise, finds each ping within a fast
 * period, relearns after a new period, stays fast while an answer is
 * expected (not after a reply of ours) and while the parent says the
 * disk carries totem; with poll_slow_ms 0 it keeps the idle grid, as
 * it does while a peer sends but is not learned yet. */
#include "../unit/test_util.h"

#include "io.h"
#include "io_ahead.h"

#define MS 1000000ull
#define US 1000ull

struct fake_clock {
	uint64_t t;
};

static uint64_t fake_now(void *arg)
{
	return ((struct fake_clock *)arg)->t;
}

/* A peer's periodic sender: period, next arrival, jitter (+-). */
struct src {
	uint64_t period, next, jitter;
	uint32_t n;
};

struct world {
	struct dld_io *io;
	struct dld_chan ch;
	struct fake_clock clk;
	struct dl_clock clock;
	struct dld_config cfg;
	struct src src[3];
	uint64_t next_poll;
	/* per run */
	uint64_t polls, arrivals, delay_sum, delay_max;
};

static struct world *world_new(uint32_t slow_ms, uint32_t npeers)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->io = calloc(1, sizeof(*w->io));
	assert_non_null(w->io);
	dld_config_defaults(&w->cfg);
	w->cfg.tun.poll_slow_ms = slow_ms;
	assert_int_equal(dld_chan_create(&w->ch, 64), 0);
	w->clk.t = 1000 * MS;
	w->clock = (struct dl_clock){ .mono_ns = fake_now, .real_ns = fake_now, .arg = &w->clk };
	w->io->cfg = &w->cfg;
	w->io->ch = &w->ch;
	w->io->shm = w->ch.shm;
	w->io->tun = w->cfg.tun;
	w->io->dev.clock = &w->clock;
	w->io->npeers = npeers;
	for (uint32_t i = 0; i < npeers; i++)
		w->io->peers[i] = (struct dld_io_peer){
			.node_id = 2 + i, .slot = (int32_t)i + 1, .reader_ok = true,
		};
	dld_sched_init(&w->io->sched, 1, &w->io->tun);
	w->next_poll = w->clk.t;
	return w;
}

static void world_free(struct world *w)
{
	dld_chan_destroy(&w->ch);
	free(w->io);
	free(w);
}

/* One poll at the fake clock's now, as io_loop.c's traffic() does it
 * (io_read.c makes the schedule fast when it consumed data). */
static void poll_once(struct world *w)
{
	struct dld_io *io = w->io;
	uint64_t now = w->clk.t, fast_before = io->sched.fast_until_ns;

	for (uint32_t i = 0; i < io->npeers; i++) {
		struct src *s = &w->src[i];

		while (s->period && s->next <= now) {
			uint64_t d = now - s->next;

			io->peers[i].rd.st.dgrams++;
			io->peers[i].rd.last_write_time_ns = s->next;
			dld_sched_activity(&io->sched, now);
			w->arrivals++;
			w->delay_sum += d;
			w->delay_max = d > w->delay_max ? d : w->delay_max;
			s->n++;
			s->next += s->period - s->jitter + (s->n * 7919u) % (2 * s->jitter + 1);
		}
	}
	dld_ahead_polled(io, io->sched.last_poll_ns, fast_before);
	io->sched.last_poll_ns = now;
	w->polls++;
	w->next_poll = dld_sched_next(&io->sched, now);
}

/* Poll until the fake clock reaches until; the figures of that span. */
static void run(struct world *w, uint64_t span)
{
	uint64_t until = w->clk.t + span;

	w->polls = w->arrivals = w->delay_sum = w->delay_max = 0;
	while (w->next_poll < until) {
		w->clk.t = w->next_poll;
		poll_once(w);
	}
	w->clk.t = until;
}

static void src_set(struct world *w, uint32_t i, uint64_t period, uint64_t phase,
		    uint64_t jitter)
{
	w->src[i] = (struct src){ .period = period, .next = w->clk.t + phase, .jitter = jitter };
}

/* Two peers, knet's 1 s ping tick at different phases, +-0.6 ms of
 * jitter: learned within seconds; then ~1/20 of the idle grid's polls
 * and every ping found within a fast period. */
static void test_learns_and_polls_ahead(void **state)
{
	struct world *w = world_new(40, 2);

	(void)state;
	src_set(w, 0, 1000 * MS, 123 * MS, 600 * US);
	src_set(w, 1, 1000 * MS, 611 * MS, 600 * US);
	run(w, 6000 * MS);
	assert_true(w->io->sched.learned);
	run(w, 60000 * MS);
	print_message("ahead: %lu polls/s, %lu arrivals, delay mean %lu us max %lu us\n",
		      (unsigned long)(w->polls / 60), (unsigned long)w->arrivals,
		      (unsigned long)(w->delay_sum / w->arrivals / US),
		      (unsigned long)(w->delay_max / US));
	assert_int_equal(w->arrivals, 120);
	assert_true(w->polls / 60 <= 45);
	assert_true(w->delay_max <= w->io->sched.fast_ns + w->io->sched.fast_ns / 4);
	world_free(w);
}

/* poll_slow_ms 0 is today's schedule: the idle grid, pings wait for it. */
static void test_off_is_the_idle_grid(void **state)
{
	struct world *w = world_new(0, 2);

	(void)state;
	src_set(w, 0, 1000 * MS, 123 * MS, 600 * US);
	src_set(w, 1, 1000 * MS, 611 * MS, 600 * US);
	run(w, 30000 * MS);
	assert_false(w->io->sched.learned);
	print_message("grid: %lu polls/s, delay mean %lu us\n", (unsigned long)(w->polls / 30),
		      (unsigned long)(w->delay_sum / w->arrivals / US));
	assert_true(w->polls / 30 >= 200);
	assert_true(w->delay_sum / w->arrivals > 1 * MS);
	world_free(w);
}

/* A peer that never sends holds the idle grid for DLD_AHEAD_QUIET_NS
 * (it may be starting), then leaves it to the background poll; so does
 * a cluster where no one sends (no knet on the disk link). */
static void test_quiet_peers(void **state)
{
	struct world *w = world_new(40, 2);

	(void)state;
	src_set(w, 0, 1000 * MS, 123 * MS, 0);
	run(w, 9000 * MS);
	assert_false(w->io->sched.learned);
	assert_true(w->polls / 9 >= 190);
	run(w, 2000 * MS);
	run(w, 20000 * MS);
	assert_true(w->io->sched.learned);
	assert_true(w->polls / 20 <= 40);
	assert_true(w->delay_max <= w->io->sched.fast_ns + w->io->sched.fast_ns / 4);
	world_free(w);
	w = world_new(40, 3);
	run(w, 9000 * MS);
	assert_true(w->polls / 9 >= 190);
	run(w, 2000 * MS);
	run(w, 20000 * MS);
	assert_true(w->polls / 20 <= 30);
	world_free(w);
}

/* A reload changes the ping interval, a restart the phase: a few pings
 * wait for the background poll, then the new phase is polled ahead. */
static void test_relearns(void **state)
{
	struct world *w = world_new(40, 1);

	(void)state;
	src_set(w, 0, 1000 * MS, 300 * MS, 300 * US);
	run(w, 8000 * MS);
	assert_true(w->io->sched.learned);
	src_set(w, 0, 700 * MS, 450 * MS, 300 * US);     /* the new interval */
	run(w, 5000 * MS);
	assert_true(w->delay_max <= 45 * MS + 1 * MS);   /* the background poll */
	run(w, 20000 * MS);
	assert_true(w->io->sched.learned);
	assert_true(w->delay_max <= w->io->sched.fast_ns + w->io->sched.fast_ns / 4);
	src_set(w, 0, 700 * MS, 222 * MS, 300 * US);     /* restarted */
	run(w, 8000 * MS);
	run(w, 20000 * MS);
	assert_true(w->delay_max <= w->io->sched.fast_ns + w->io->sched.fast_ns / 4);
	world_free(w);
}

/* What was not expected waits at most one background period, and
 * makes polling fast for the window (the rest of a burst). */
static void test_unexpected(void **state)
{
	struct world *w = world_new(40, 1);
	uint64_t t0;

	(void)state;
	src_set(w, 0, 1000 * MS, 100 * MS, 0);
	run(w, 8000 * MS);
	assert_true(w->io->sched.learned);
	/* One datagram at +450 ms of the phase. */
	t0 = w->clk.t + 450 * MS;
	run(w, 450 * MS);
	w->io->peers[0].rd.st.dgrams++;
	w->io->peers[0].rd.last_write_time_ns = t0;
	while (w->next_poll < t0 + 50 * MS && !dld_sched_is_fast(&w->io->sched, w->clk.t)) {
		w->clk.t = w->next_poll;
		dld_sched_activity(&w->io->sched, w->clk.t);   /* io_read.c: data */
		poll_once(w);
	}
	assert_true(dld_sched_is_fast(&w->io->sched, w->clk.t));
	assert_true(w->clk.t - t0 <= 40 * MS + 5 * MS);
	world_free(w);
}

static void push(struct world *w, uint16_t dst)
{
	uint8_t d[64] = { 0 };

	assert_int_equal(dld_q_push(w->ch.tx, 0, &dst, 1, d, sizeof(d)), 0);
}

/* The child wrote what was queued. */
static void drain(struct world *w)
{
	uint64_t pos = dld_q_tail(w->ch.tx);
	struct dld_qmsg m;

	while (dld_q_read(w->ch.tx, &pos, &m))
		;
	dld_q_release(w->ch.tx, pos);
}

/* A ping of ours: fast until its pong came, not for the whole window;
 * a pong of ours (a reply within DLD_AHEAD_REPLY_NS): no fast polling;
 * the parent's word that the disk carries totem: fast. */
static void test_answers_and_forced(void **state)
{
	struct world *w = world_new(40, 1);
	struct dld_sched *s = &w->io->sched;
	uint64_t t;

	(void)state;
	src_set(w, 0, 1000 * MS, 100 * MS, 0);
	run(w, 8000 * MS);
	assert_true(s->learned);
	run(w, 500 * MS);
	assert_false(dld_sched_is_fast(s, w->clk.t));
	push(w, 2);
	assert_true(dld_ahead_sent(w->io, w->clk.t));
	assert_true(dld_sched_is_fast(s, w->clk.t));
	t = w->clk.t;
	w->clk.t += 300 * US;                            /* the pong */
	w->io->peers[0].rd.st.dgrams++;
	w->io->peers[0].rd.last_write_time_ns = w->clk.t - 100 * US;
	poll_once(w);
	assert_false(dld_sched_is_fast(s, w->clk.t));
	assert_true(w->next_poll - t > 10 * MS);
	/* Our pong to its ping, 2 ms after it. */
	drain(w);
	run(w, w->src[0].next + 2 * MS - w->clk.t);
	push(w, 2);
	assert_false(dld_ahead_sent(w->io, w->clk.t));
	assert_false(dld_sched_is_fast(s, w->clk.t));
	/* The disk carries totem. */
	atomic_store(&w->ch.shm->disk_totem, 1u);
	dld_ahead_forced(w->io);
	assert_true(dld_sched_is_fast(s, w->clk.t));
	assert_true(dld_sched_next(s, w->clk.t) <= w->clk.t + s->fast_ns + s->fast_ns / 4);
	atomic_store(&w->ch.shm->disk_totem, 0u);
	dld_ahead_forced(w->io);
	assert_false(dld_sched_is_fast(s, w->clk.t));
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learns_and_polls_ahead),
		cmocka_unit_test(test_off_is_the_idle_grid),
		cmocka_unit_test(test_quiet_peers),
		cmocka_unit_test(test_relearns),
		cmocka_unit_test(test_unexpected),
		cmocka_unit_test(test_answers_and_forced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
