/* The scheduler: one step takes the simulated clock to the next event
 * (a completion, a wake-up, a send, a restart), completes what is due,
 * draws the faults of the step, lets each parent send, runs the runnable
 * nodes in an order drawn from the seed, and checks the invariants. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct sim *sim_g;

static uint64_t sim_mono(void *arg)
{
	return ((const struct sim *)arg)->now_ns;
}

static uint64_t sim_real(void *arg)
{
	/* A wall clock that starts at a fixed date, so runs replay. */
	return 1767225600ull * 1000000000ull + ((const struct sim *)arg)->now_ns;
}

static uint64_t next_time(struct sim *s)
{
	uint64_t t = sim_dev_next_due(s), m = sim_mirror_next_due(s), r = sim_restart_next(s);

	if (m < t)
		t = m;
	if (r < t)
		t = r;
	for (uint32_t i = 0; i < s->nnodes; i++) {
		const struct sim_node *n = &s->nodes[i];

		uint64_t w = n->wake_ns > n->paused_until_ns ? n->wake_ns : n->paused_until_ns;

		if (n->alive && (n->state == TASK_SLEEP || n->state == TASK_IO) && w < t)
			t = w;
		if (n->alive && n->attached && !n->removed && !s->draining && n->next_send_ns < t)
			t = n->next_send_ns;
		if (!n->alive && !s->draining && n->restart_at_ns && n->restart_at_ns < t)
			t = n->restart_at_ns;
		if (n->removed && !s->draining && n->readd_at_ns && n->readd_at_ns < t)
			t = n->readd_at_ns;
	}
	return t;
}

static void wake(struct sim_node *n, uint64_t now)
{
	n->kicked = true;
	if (n->state == TASK_SLEEP)
		n->wake_ns = now;
}

/* A reload removes a node: its daemon stops (slot marked stopped), the
 * others drop it from their peer tables; later it is added back. */
static void reload(struct sim *s, struct sim_node *n)
{
	sim_trace(s, "reload: node %u removed (stop asked)", n->id);
	n->removed = true;
	n->ch.shm->stop = 1;
	wake(n, s->now_ns);
	n->readd_at_ns = s->now_ns + sim_rng_log(&s->rng, 10 * SIM_MS, 3000 * SIM_MS);
	sim_peers_publish(s);
}

static void faults(struct sim *s)
{
	const struct sim_scenario *sc = s->sc;
	struct sim_node *n = &s->nodes[sim_rng_below(&s->rng, s->nnodes)];

	if (s->draining)
		return;
	if (sc->crash_one_in && sim_rng_one_in(&s->rng, sc->crash_one_in) && n->alive) {
		sim_trace(s, "node %u incarnation %u killed", n->id, n->inc);
		sim_node_crash(s, n);
		n->restart_at_ns = s->now_ns + sim_rng_log(&s->rng, SIM_MS, 2000 * SIM_MS);
	}
	if (sc->reload_one_in && sim_rng_one_in(&s->rng, sc->reload_one_in) && n->alive &&
	    n->attached && !n->removed)
		reload(s, n);
	if (sc->stall_one_in && sim_rng_one_in(&s->rng, sc->stall_one_in))
		s->dev.stall_until_ns = s->now_ns + sim_rng_log(&s->rng, SIM_MS, 5000 * SIM_MS);
	if (sc->rdonly_one_in && sim_rng_one_in(&s->rng, sc->rdonly_one_in))
		s->dev.rdonly_until_ns = s->now_ns + sim_rng_log(&s->rng, SIM_MS, 3000 * SIM_MS);
	if (sc->mirror_one_in && sim_rng_one_in(&s->rng, sc->mirror_one_in))
		sim_mirror_event(s);
	if (sc->gone_one_in && sim_rng_one_in(&s->rng, sc->gone_one_in))
		s->dev.gone_until_ns = s->now_ns + sim_rng_log(&s->rng, SIM_MS, 3000 * SIM_MS);
	if (sc->sbflip_one_in && sim_rng_one_in(&s->rng, sc->sbflip_one_in))
		s->dev.sbflip_until_ns = s->now_ns + sim_rng_log(&s->rng, SIM_MS, 200 * SIM_MS);
	sim_restart_event(s);
}

/* The parent's side: restarts, re-adds, sends, the stall detector. */
static void parents(struct sim *s)
{
	for (uint32_t i = 0; i < s->nnodes && !s->draining; i++) {
		struct sim_node *n = &s->nodes[i];
		uint64_t io_start;

		if (n->removed && n->readd_at_ns && n->readd_at_ns <= s->now_ns) {
			n->removed = false;
			n->readd_at_ns = 0;
			sim_trace(s, "reload: node %u added back", n->id);
			sim_peers_publish(s);
			if (!n->alive)
				n->restart_at_ns = s->now_ns + sim_rng_log(&s->rng, SIM_US,
									   2000 * SIM_MS);
		}
		if (!n->alive && !n->removed && n->restart_at_ns && n->restart_at_ns <= s->now_ns &&
		    sim_node_start(s, n)) {
			sim_fail(s, "sim", "cannot start node %u", n->id);
			return;
		}
		if (n->alive && n->attached && !n->removed && n->next_send_ns <= s->now_ns) {
			sim_check_push(s, n);
			n->next_send_ns = s->now_ns + sim_rng_log(&s->rng, 50 * SIM_US,
								  s->sc->send_max_ns);
		}
		io_start = n->ch.shm ? n->ch.shm->io_start_ns : 0;
		if (n->alive && n->state == TASK_IO && n->cfg.tun.abandon_ms && io_start &&
		    s->now_ns - io_start > n->cfg.tun.abandon_ms * SIM_MS) {
			/* Stuck in D state: abandoned, a new child started. */
			sim_trace(s, "node %u incarnation %u abandoned in D state", n->id, n->inc);
			sim_node_crash(s, n);
			n->restart_at_ns = s->now_ns + n->cfg.tun.restart_min_ms * SIM_MS;
		}
	}
}

static void ended(struct sim *s, struct sim_node *n)
{
	sim_trace(s, "node %u incarnation %u ended: exit %d", n->id, n->inc, n->exit_code);
	if (n->exit_code == DLD_EXIT_COLLISION && !s->failed) {
		sim_fail(s, "collision", "node %u incarnation %u ended with exit %d (\"already "
			 "active\") though no other daemon runs for it", n->id, n->inc,
			 n->exit_code);
		/* an older incarnation's write landed, or is landing */
		if (n->late_writes || sim_dev_orphan_writes(s, (uint32_t)(n - s->nodes)))
			s->hole = HOLE_LATE_WRITE;
	}
	sim_check_deliveries(s, n);
	sim_node_free(s, n);
	if (n->restart_plan_ns)
		n->restart_at_ns = sim_restart_after_stop(s, n);
	else if (!n->removed)
		n->restart_at_ns = s->now_ns + n->cfg.tun.restart_min_ms * SIM_MS +
				   sim_rng_below(&s->rng, 100 * SIM_MS);
}

static bool runnable(const struct sim *s, const struct sim_node *n)
{
	if (!n->alive || n->paused_until_ns > s->now_ns)
		return false;
	if (n->state == TASK_IO)
		return n->completions || n->wake_ns <= s->now_ns;
	return n->state == TASK_SLEEP && n->wake_ns <= s->now_ns;
}

static void run_nodes(struct sim *s)
{
	uint32_t first = (uint32_t)sim_rng_below(&s->rng, s->nnodes);

	for (uint32_t k = 0; k < s->nnodes && (!s->failed || s->draining); k++) {
		struct sim_node *n = &s->nodes[(first + k) % s->nnodes];

		if (!runnable(s, n))
			continue;
		sim_node_resume(s, n);
		if (n->state == TASK_DONE) {
			ended(s, n);
			continue;
		}
		if (n->attached && !n->was_attached) {
			n->was_attached = true;
			sim_check_attached(s, n);
		}
		sim_check_deliveries(s, n);
	}
}

static int setup(struct sim *s)
{
	enum dl_err why = DL_OK;
	uint8_t uuid[16];
	struct dl_bio bio;
	int rc;

	for (uint32_t i = 0; i < 16; i++)
		uuid[i] = (uint8_t)sim_rng_next(&s->rng);
	if (dl_sb_init(&s->sb, "sim", 4096, s->nnodes + 1, s->sc->ring_blocks,
		       DL_VOLUME_SHARED, uuid, 1767225600ull, &why) || sim_dev_init(s))
		return -1;
	s->clock = (struct dl_clock){ .mono_ns = sim_mono, .real_ns = sim_real, .arg = s };
	if (dl_bio_open(&bio, &sim_bio_ops, "sim:main",
			&(struct dl_bio_opts){ .clock = &s->clock }))
		return -1;
	/* Formatting runs outside any node: its writes land at once. */
	s->sync_io = true;
	rc = dl_volume_format(&bio, &s->sb, &why);
	s->sync_io = false;
	dl_bio_close(&bio);
	return rc ? rc : sim_mirror_init(s);
}

static void step(struct sim *s)
{
	uint64_t t = next_time(s);

	if (t == UINT64_MAX) {
		s->idle = true;
		return;
	}
	if (t > s->now_ns)
		s->now_ns = t;
	sim_dev_complete_due(s);
	sim_mirror_apply_due(s);
	faults(s);
	parents(s);
	run_nodes(s);
	for (uint32_t i = 0; i < s->nnodes && !s->failed; i++)
		sim_check_deliveries(s, &s->nodes[i]);
	if (!s->failed)
		sim_check_global(s);
}

/* The end: every node asked to stop, run until their tasks return (a
 * task freed in the middle of a call would leak what its frames hold). */
static void drain(struct sim *s)
{
	bool failed = s->failed;

	s->draining = true;
	s->failed = true;              /* no more checks */
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].alive) {
			s->nodes[i].ch.shm->stop = 1;
			s->nodes[i].kicked = true;
		}
	s->idle = false;
	for (uint64_t k = 0; k < 1000000 && !s->idle; k++) {
		bool any = false;

		for (uint32_t i = 0; i < s->nnodes; i++)
			any |= s->nodes[i].alive;
		if (!any)
			break;
		step(s);
	}
	s->failed = failed;
}

static void teardown(struct sim *s)
{
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];

		if (n->alive)
			sim_node_free(s, n);
		if (n->ch.shm)
			dld_chan_destroy(&n->ch);
	}
	sim_mirror_free(s);
	sim_dev_free(s);
}

static void start_nodes(struct sim *s)
{
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];
		uint32_t id;
		bool taken;

		/* Node ids from the seed: their preferred slots may collide. */
		do {
			id = 1 + (uint32_t)sim_rng_below(&s->rng, 3 * s->nnodes);
			taken = sim_node_by_id(s, id) != NULL;
		} while (taken);
		sim_node_setup(s, n, id);
		/* At the same instant, or spread over a second. */
		n->restart_at_ns = s->sc->same_instant ? 1 :
				   sim_rng_log(&s->rng, SIM_US, 1000 * SIM_MS);
	}
	/* Mirror paths: node i reads every peer through mirror i. */
	for (uint32_t i = 0; i < s->nmirrors; i++) {
		struct dld_config *c = &s->nodes[i].cfg;

		for (uint32_t j = 0; j < s->nnodes; j++) {
			struct dld_peer_dev *d = &c->peer_devs[c->peer_dev_count];

			if (j == i)
				continue;
			d->node_id = s->nodes[j].id;
			snprintf(d->path, sizeof(d->path), "sim:mirror-%u", i);
			c->peer_dev_count++;
		}
	}
}

int sim_run(struct sim *s, const struct sim_scenario *sc, uint64_t seed, uint64_t steps,
	    int verbose)
{
	memset(s, 0, sizeof(*s));
	sim_g = s;
	s->sc = sc;
	s->seed = seed;
	s->max_steps = steps;
	s->verbose = verbose;
	s->nnodes = sc->nodes;
	s->nmirrors = sc->mirrors ? sc->nodes : 0;
	sim_rng_seed(&s->rng, seed);
	sim_check_reset();
	start_nodes(s);
	sim_restart_init(s);
	if (setup(s)) {
		sim_fail(s, "sim", "cannot set the simulated volume up: %s", strerror(errno));
		teardown(s);
		return -1;
	}
	for (s->step = 0; s->step < s->max_steps && !s->failed && !s->idle; s->step++)
		step(s);
	drain(s);
	teardown(s);
	return s->failed ? -1 : 0;
}
