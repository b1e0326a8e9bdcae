/* The poll schedule of the peers' rings (doc/design.md, "Polling ahead
 * of pings"): fast while traffic flows, a reply is expected or the disk
 * carries totem; idle, on an absolute grid with a random per-node phase
 * and jitter so that two nodes never phase-lock; once every peer's
 * periodic arrivals (knet pings) are learned, densely around the next
 * expected arrival and sparsely (poll_slow_ms) otherwise.  Never a fixed
 * sleep after each poll. */
#ifndef DLD_POLL_SCHED_H
#define DLD_POLL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "dld.h"
#include "ping_phase.h"

/* What the schedule knows of one peer (io_ahead.c keeps it). */
struct dld_sched_peer {
	uint32_t node_id;              /* 0: a free entry                   */
	struct dld_phase ph;           /* its periodic arrivals             */
	uint64_t dgrams;               /* its reader's count at our last poll */
	bool     counted;              /* dgrams holds a count              */
	uint64_t last_rx_ns;           /* its last datagram to us           */
	uint64_t await_ns;             /* its answer expected until then    */
	uint64_t used_ns;              /* last seen in the peer table       */
	uint64_t since_ns;             /* first seen                        */
};

struct dld_sched {
	uint64_t fast_ns;
	uint64_t idle_ns;
	uint64_t slow_ns;              /* background once learned, 0: never */
	uint64_t window_ns;
	uint64_t fast_until_ns;        /* poll fast until then              */
	uint64_t await_until_ns;       /* an answer expected until then     */
	uint64_t win_start_ns;         /* the next window of expected arrivals, */
	uint64_t win_end_ns;           /* UINT64_MAX none                   */
	bool     learned;              /* every peer's arrivals are learned,
					* or it is quiet                    */
	bool     forced;               /* the parent: the disk carries totem */
	uint64_t last_poll_ns;         /* when the last poll began          */
	uint64_t phase_ns;             /* this node's offset on the idle grid */
	uint64_t rnd;                  /* xorshift64 state                  */
	struct dld_sched_peer peer[DLD_MAX_PEERS];
};

void dld_sched_init(struct dld_sched *s, uint32_t node_id, const struct dld_tunables *t);
/* New tunables (SIGHUP). */
void dld_sched_tune(struct dld_sched *s, const struct dld_tunables *t);
/* Traffic in or out at now: poll fast for the window. */
void dld_sched_activity(struct dld_sched *s, uint64_t now);
/* What the learners predict: the next window of expected arrivals
 * [start, end] (UINT64_MAX none) and whether every peer is predicted
 * (else the idle grid). */
void dld_sched_predict(struct dld_sched *s, uint64_t start, uint64_t end, bool learned);
bool dld_sched_is_fast(const struct dld_sched *s, uint64_t now);
/* When to poll next, after a poll at now (CLOCK_MONOTONIC ns). */
uint64_t dld_sched_next(struct dld_sched *s, uint64_t now);

#endif
