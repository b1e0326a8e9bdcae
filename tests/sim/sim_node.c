/* Simulated nodes: each incarnation of a node's I/O child runs the real
 * daemon/io code on a ucontext stack of its own.  Whenever that code waits
 * (a block I/O request, its idle wait) it yields to the scheduler.
 *
 * The loop below follows io_child.c's run() and tick() step for step
 * (io_child.c's own loop is bound to the process: prctl, signals, the
 * system clock and O_DIRECT); every step it takes is the real module's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define STACK_BYTES (256u * 1024u)
#define PUBLISH_NS  100000000ull

void sim_task_yield(struct sim *s)
{
	struct sim_node *n = s->cur;

	s->cur = NULL;
	swapcontext(&n->uc, &s->sched_uc);
	s->cur = n;
}

/* The idle wait (dld_io.wait_tx): until the timeout or a kick.  A loop
 * turn costs a little simulated CPU time, so that time moves. */
static int sim_wait_tx(struct dld_io *io, uint64_t timeout_ns)
{
	struct sim *s = sim_g;
	struct sim_node *n = s->cur;
	uint64_t cpu = 1 + sim_rng_below(&s->rng, 20 * SIM_US);

	(void)io;
	if (timeout_ns < cpu)
		timeout_ns = cpu;
	if (!n->kicked) {
		n->state = TASK_SLEEP;
		n->wake_ns = s->now_ns + timeout_ns;
		sim_task_yield(s);
	}
	n->kicked = false;
	return 0;
}

static uint64_t now_ns(const struct dld_io *io)
{
	return dl_clock_mono(io->dev.clock);
}

static void publish(struct dld_io *io, uint64_t now)
{
	dld_io_peers_status(io, now);
	io->st.next_seq = io->w.next_seq;
	dld_status_publish(io->shm, &io->st);
	io->next_pub_ns = now + PUBLISH_NS;
	io->dev.changed = false;
}

static uint64_t next_deadline(struct dld_io *io)
{
	uint64_t t = io->next_poll_ns;

	if (io->next_hdr_ns < t)
		t = io->next_hdr_ns;
	if (io->next_sb_ns < t)
		t = io->next_sb_ns;
	if (io->next_pub_ns < t || io->dev.changed)
		t = io->dev.changed ? 0 : io->next_pub_ns;
	if (!dld_q_empty(io->ch->tx))
		t = 0;
	return t;
}

static void traffic(struct dld_io *io, uint64_t *now)
{
	uint64_t before = io->w.next_seq;

	dld_io_drain_tx(io);
	*now = now_ns(io);
	if (io->w.next_seq != before) {
		dld_sched_activity(&io->sched, *now);
		if (io->next_poll_ns > *now + io->sched.fast_ns)
			io->next_poll_ns = *now + io->sched.fast_ns;
	}
	if (*now >= io->next_poll_ns) {
		dld_io_poll_peers(io, *now);
		*now = now_ns(io);
		io->next_poll_ns = dld_sched_next(&io->sched, *now);
	}
	io->delivered = false;
}

static int tick(struct dld_io *io, int *exit_code)
{
	uint64_t now = now_ns(io);

	atomic_store_explicit(&io->shm->alive_ns, now, memory_order_relaxed);
	dld_io_peers_check(io, now);
	dld_io_paths_upkeep(io, now);
	if (dld_io_role_check(io, exit_code) && *exit_code) {
		publish(io, now_ns(io));
		return -1;
	}
	traffic(io, &now);
	if (now >= io->next_hdr_ns) {
		if (dld_io_write_header(io, DL_SLOT_ACTIVE, exit_code) && *exit_code)
			return -1;
		dld_io_peer_headers(io, now);
		io->next_hdr_ns = now + io->tun.header_interval_ms * SIM_MS;
	}
	if (now >= io->next_sb_ns) {
		if (dld_io_check_volume(io, exit_code) && *exit_code) {
			publish(io, now);
			return -1;
		}
		io->next_sb_ns = now + io->tun.sb_check_ms * SIM_MS;
	}
	if (now >= io->next_pub_ns || io->dev.changed)
		publish(io, now);
	return 0;
}

static int run(struct dld_io *io)
{
	uint64_t now = now_ns(io);
	int exit_code = DLD_EXIT_OK;

	io->next_poll_ns = now;
	io->next_hdr_ns = now + io->tun.header_interval_ms * SIM_MS;
	io->next_sb_ns = now + io->tun.sb_check_ms * SIM_MS;
	io->next_pub_ns = 0;
	while (!dld_chan_stop_asked(io->ch)) {
		uint64_t t = next_deadline(io);

		now = now_ns(io);
		dld_io_wait_tx(io, t > now ? t - now : 0);
		if (dld_chan_stop_asked(io->ch))
			break;
		if (tick(io, &exit_code))
			return exit_code;
	}
	dld_io_write_header(io, DL_SLOT_STOPPED, &exit_code);
	return DLD_EXIT_OK;
}

/* What io_child.c's io_new() does, with the simulator's clock and device. */
static struct dld_io *io_new(struct sim *s, struct sim_node *n)
{
	struct dld_io *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	io->cfg = &n->cfg;
	io->ch = &n->ch;
	io->shm = n->ch.shm;
	io->tun = n->ch.shm->tun;
	io->tun_seq = atomic_load(&n->ch.shm->tun_seq);
	io->st.slot = -1;
	io->st.device_state = DLD_DEV_STARTING;
	dld_dev_init(&io->dev, &s->clock, &sim_bio_ops, &n->ch.shm->io_start_ns, &io->st);
	dld_sched_init(&io->sched, n->cfg.node_id, &io->tun);
	/* Its phase from the seed, not from getrandom(). */
	io->sched.rnd = sim_rng_next(&s->rng) | 1u;
	dld_sched_tune(&io->sched, &io->tun);
	io->wait_tx = sim_wait_tx;
	return io;
}

static void task_main(void)
{
	struct sim *s = sim_g;
	struct sim_node *n = s->cur;
	struct dld_io *io = n->io;
	int rc = DLD_EXIT_OK;

	if (dld_io_attach(io, &rc) == 0) {
		n->attached = true;
		dld_io_peers_init(io);
		dld_dev_ok(&io->dev);
		publish(io, now_ns(io));
		atomic_store_explicit(&io->shm->ready, 1, memory_order_release);
		rc = run(io);
	}
	dld_status_publish(io->shm, &io->st);
	n->exit_code = rc;
	n->state = TASK_DONE;
	s->cur = NULL;
	/* uc_link: back to the scheduler */
}

struct sim_node *sim_node_by_id(struct sim *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].id == id)
			return &s->nodes[i];
	return NULL;
}

void sim_node_setup(struct sim *s, struct sim_node *n, uint32_t id)
{
	memset(n, 0, sizeof(*n));
	n->id = id;
	dld_config_defaults(&n->cfg);
	snprintf(n->cfg.device, sizeof(n->cfg.device), "sim:main");
	n->cfg.node_id = n->id;
	snprintf(n->cfg.node_name, sizeof(n->cfg.node_name), "n%u", n->id);
	n->cfg.peer_count = s->nnodes - 1;
	n->cfg.tun.queue_kib = 256;
	n->cfg.tun.frozen_ms = 0;
}

int sim_node_start(struct sim *s, struct sim_node *n)
{
	/* A fresh channel for each child, as supervise.c makes. */
	if (n->ch.shm)
		dld_chan_destroy(&n->ch);
	if (dld_chan_create(&n->ch, n->cfg.tun.queue_kib))
		return -1;
	n->ch.shm->tun = n->cfg.tun;
	n->ch.shm->prev_generation = n->prev_gen;
	sim_peers_publish(s);
	n->inc++;
	n->late_writes = 0;
	n->io = io_new(s, n);
	n->stack = malloc(STACK_BYTES);
	if (!n->io || !n->stack)
		return -1;
	getcontext(&n->uc);
	n->uc.uc_stack.ss_sp = n->stack;
	n->uc.uc_stack.ss_size = STACK_BYTES;
	n->uc.uc_link = &s->sched_uc;
	makecontext(&n->uc, task_main, 0);
	n->alive = true;
	n->attached = false;
	n->was_attached = false;
	n->completions = 0;
	n->kicked = false;
	n->state = TASK_SLEEP;
	n->wake_ns = s->now_ns;
	n->restart_at_ns = 0;
	sim_trace(s, "node %u incarnation %u starts", n->id, n->inc);
	return 0;
}

void sim_node_resume(struct sim *s, struct sim_node *n)
{
	n->state = TASK_RUN;
	s->cur = n;
	swapcontext(&s->sched_uc, &n->uc);
	s->cur = NULL;
}

/* The incarnation ends (killed, or its task returned): what it left in
 * flight still lands; the parent keeps its last generation. */
void sim_node_free(struct sim *s, struct sim_node *n)
{
	sim_dev_orphan(s, (uint32_t)(n - s->nodes));
	if (n->io) {
		if (n->attached)
			n->prev_gen = n->io->w.generation;
		dld_io_peers_free(n->io);
		dld_io_batch_free(n->io);
		dld_dev_close(&n->io->dev);
		free(n->io);
	}
	free(n->stack);
	n->io = NULL;
	n->stack = NULL;
	n->alive = false;
	n->attached = false;
	n->state = TASK_NONE;
}

void sim_node_crash(struct sim *s, struct sim_node *n)
{
	n->exit_code = -1;
	sim_node_free(s, n);
}

void sim_peers_publish(struct sim *s)
{
	for (uint32_t i = 0; i < s->nnodes; i++) {
		uint32_t ids[DLD_MAX_PEERS], k = 0;

		for (uint32_t j = 0; j < s->nnodes; j++)
			if (j != i && !s->nodes[j].removed)
				ids[k++] = s->nodes[j].id;
		if (s->nodes[i].ch.shm)
			dld_peers_publish(s->nodes[i].ch.shm, ids, k);
	}
}
