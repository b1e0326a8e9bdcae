/* Simulated nodes: each incarnation of a node's I/O child runs the real
 * daemon/io code on a ucontext stack of its own.  Whenever that code waits
 * (a block I/O request, its idle wait) it yields to the scheduler.
 *
 * After attach a node runs the daemon's own loop (dld_io_serve,
 * io_loop.c); only the process set-up of io_child.c (prctl, signals,
 * the system clock, O_DIRECT) is replaced, by io_new() below. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define STACK_BYTES (256u * 1024u)

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
		rc = dld_io_serve(io);     /* the daemon's own loop (io_loop.c) */
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
