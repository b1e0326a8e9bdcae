/* The poll schedule of the peers' rings (doc/design.md, "Latency"):
 * fast while traffic flows or a reply is expected, slow when idle, on an
 * absolute grid with a random per-node phase and jitter so that two
 * nodes never phase-lock; never a fixed sleep after each poll. */
#ifndef DLD_POLL_SCHED_H
#define DLD_POLL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "dld.h"

struct dld_sched {
	uint64_t fast_ns;
	uint64_t idle_ns;
	uint64_t window_ns;
	uint64_t fast_until_ns;        /* poll fast until then              */
	uint64_t phase_ns;             /* this node's offset on the idle grid */
	uint64_t rnd;                  /* xorshift64 state                  */
};

void dld_sched_init(struct dld_sched *s, uint32_t node_id, const struct dld_tunables *t);
/* New tunables (SIGHUP). */
void dld_sched_tune(struct dld_sched *s, const struct dld_tunables *t);
/* Traffic in or out at now (a write expects a reply): poll fast for the window. */
void dld_sched_activity(struct dld_sched *s, uint64_t now);
bool dld_sched_is_fast(const struct dld_sched *s, uint64_t now);
/* When to poll next, after a poll at now (CLOCK_MONOTONIC ns). */
uint64_t dld_sched_next(struct dld_sched *s, uint64_t now);

#endif
