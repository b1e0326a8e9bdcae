/* The restart scenario's event: every node's child stopped at once and
 * restarted with a new incarnation, in an order drawn from the seed.
 *
 * The stop is a kill (the sim's crash path: the slot stays active, the
 * parent keeps the child's generation for the next one, as supervise.c
 * does) or a clean stop (the slot is marked stopped; the next child is a
 * new daemon's, whose parent knows no generation, as `systemctl restart`
 * gives).  The nodes come back one after the other, gaps of 0 to 1 s
 * between them: writers before readers and readers before writers, since
 * every node is both.  A node's sends may stay paused a while after its
 * restart: its new generation has then written nothing yet when its
 * peers attach (doc/format.md, "Incarnations": the defect of 15529af).
 *
 * Or, one time in two, one writer restarts under stalled readers: every
 * other node's child is stopped (as by SIGSTOP, a read that hangs) while
 * the writer goes on writing, then the writer is killed and restarts;
 * the readers go on after its new generation claimed its slot and before
 * it writes: they find the old generation's blocks they had not read and
 * nothing of the new one (the defect of 93b130a).  The stall stays under
 * the readers' age budget (750 ms), so the delivery bound holds. */
#include "sim.h"

#define GAP_MAX_NS   (1000ull * SIM_MS)
#define PAUSE_MIN_NS (20ull * SIM_MS)
#define PAUSE_MAX_NS (1500ull * SIM_MS)

void sim_restart_init(struct sim *s)
{
	if (s->sc->restart_all_ns)
		s->restart_all_at_ns = sim_rng_log(&s->rng, 100 * SIM_MS, 1000 * SIM_MS);
}

uint64_t sim_restart_next(const struct sim *s)
{
	uint64_t t = s->sc->restart_all_ns && !s->draining ? s->restart_all_at_ns : UINT64_MAX;

	return s->stall_kill_at_ns && s->stall_kill_at_ns < t ? s->stall_kill_at_ns : t;
}

/* Every node is running, attached and has sent: old blocks in every ring. */
static bool all_running(const struct sim *s)
{
	for (uint32_t i = 0; i < s->nnodes; i++) {
		const struct sim_node *n = &s->nodes[i];

		if (!n->alive || !n->attached || n->removed || n->restart_plan_ns ||
		    n->io->w.next_seq <= 1)
			return false;
	}
	return true;
}

static void stop_one(struct sim *s, struct sim_node *n, bool kill, uint64_t at)
{
	if (kill) {
		sim_trace(s, "restart all: node %u incarnation %u killed, restarts at %llu ms",
			  n->id, n->inc, (unsigned long long)(at / SIM_MS));
		sim_node_crash(s, n);
		n->restart_at_ns = at;
		return;
	}
	sim_trace(s, "restart all: node %u incarnation %u asked to stop, restarts at %llu ms",
		  n->id, n->inc, (unsigned long long)(at / SIM_MS));
	n->ch.shm->stop = 1;
	n->kicked = true;
	if (n->state == TASK_SLEEP)
		n->wake_ns = s->now_ns;
	n->restart_plan_ns = at;
}

/* Stalled readers, first half: the readers stop (their sends too), the
 * writer sends on until it is killed. */
static void stall_readers(struct sim *s)
{
	struct sim_node *w = &s->nodes[sim_rng_below(&s->rng, s->nnodes)];

	s->stall_writer = (uint32_t)(w - s->nodes);
	s->stall_kill_at_ns = s->now_ns + sim_rng_log(&s->rng, 10 * SIM_MS, 150 * SIM_MS);
	s->restart_all_at_ns = UINT64_MAX;     /* set again by stall_kill */
	w->next_send_ns = s->now_ns;
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (&s->nodes[i] != w) {
			s->nodes[i].paused_until_ns = UINT64_MAX;
			s->nodes[i].next_send_ns = UINT64_MAX;
		}
	sim_trace(s, "stalled readers: every node but %u stopped; it is killed at %llu ms",
		  w->id, (unsigned long long)(s->stall_kill_at_ns / SIM_MS));
}

/* Second half: the writer is killed and restarts; the readers go on
 * after that, and the writer sends only once they did. */
static void stall_kill(struct sim *s)
{
	struct sim_node *w = &s->nodes[s->stall_writer];
	uint64_t up = s->now_ns + sim_rng_log(&s->rng, SIM_MS, 250 * SIM_MS);
	uint64_t resume = up + sim_rng_log(&s->rng, 5 * SIM_MS, 250 * SIM_MS);

	s->stall_kill_at_ns = 0;
	stop_one(s, w, true, up);
	w->next_send_ns = resume + sim_rng_log(&s->rng, PAUSE_MIN_NS, 500 * SIM_MS);
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (&s->nodes[i] != w) {
			s->nodes[i].paused_until_ns = resume;
			s->nodes[i].next_send_ns = resume + sim_rng_log(&s->rng, SIM_MS, 50 * SIM_MS);
		}
	sim_trace(s, "stalled readers go on at %llu ms", (unsigned long long)(resume / SIM_MS));
	s->restart_all_at_ns = resume + sim_rng_log(&s->rng, 1000 * SIM_MS,
						    s->sc->restart_all_ns);
}

void sim_restart_event(struct sim *s)
{
	uint32_t order[SIM_NODES_MAX];
	bool kill;
	uint64_t t = s->now_ns;

	if (s->stall_kill_at_ns && s->draining) {
		/* The run ends: the readers go on, the writer stays. */
		s->stall_kill_at_ns = 0;
		for (uint32_t i = 0; i < s->nnodes; i++)
			s->nodes[i].paused_until_ns = 0;
	}
	if (s->stall_kill_at_ns && s->stall_kill_at_ns <= s->now_ns)
		stall_kill(s);
	if (!s->sc->restart_all_ns || s->draining || s->stall_kill_at_ns ||
	    s->restart_all_at_ns > s->now_ns)
		return;
	if (!all_running(s)) {
		s->restart_all_at_ns = s->now_ns + sim_rng_log(&s->rng, 100 * SIM_MS,
							       1000 * SIM_MS);
		return;
	}
	if (sim_rng_one_in(&s->rng, 2)) {
		stall_readers(s);
		return;
	}
	kill = sim_rng_one_in(&s->rng, 2);
	for (uint32_t i = 0; i < s->nnodes; i++)
		order[i] = i;
	for (uint32_t i = s->nnodes - 1; i > 0; i--) {
		uint32_t j = (uint32_t)sim_rng_below(&s->rng, i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (uint32_t k = 0; k < s->nnodes; k++) {
		struct sim_node *n = &s->nodes[order[k]];

		if (!sim_rng_one_in(&s->rng, 4))
			t += sim_rng_log(&s->rng, SIM_MS, GAP_MAX_NS);
		n->next_send_ns = t;
		if (sim_rng_one_in(&s->rng, 2))
			n->next_send_ns += sim_rng_log(&s->rng, PAUSE_MIN_NS, PAUSE_MAX_NS);
		stop_one(s, n, kill, t);
	}
	s->restart_all_at_ns = t + sim_rng_log(&s->rng, 1000 * SIM_MS, s->sc->restart_all_ns);
}

/* A child asked to stop by the event ended: a new daemon starts at the
 * planned time (its parent knows no generation: the slot was marked
 * stopped, nothing of the old one is in flight). */
uint64_t sim_restart_after_stop(struct sim *s, struct sim_node *n)
{
	uint64_t at = n->restart_plan_ns > s->now_ns ? n->restart_plan_ns : s->now_ns;

	n->restart_plan_ns = 0;
	n->prev_gen = 0;
	return at;
}
