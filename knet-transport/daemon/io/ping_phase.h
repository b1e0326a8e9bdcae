/* The phase learner of one peer's periodic arrivals (doc/design.md,
 * "Polling ahead of pings"): knet pings each peer at its link's fixed
 * interval, on its heartbeat tick, so what a peer sends us while the
 * cluster is idle arrives with one period and a few phases (its pings,
 * its pongs to our pings).  Fed the arrival times (with how uncertain
 * each is: the time since the poll before), it learns the period and
 * one anchor per phase, and tells when the next arrival is expected.
 * Pure: times are plain numbers from the caller, no clock. */
#ifndef DLD_PING_PHASE_H
#define DLD_PING_PHASE_H

#include <stdbool.h>
#include <stdint.h>

#define DLD_PHASE_HIST       8u        /* recent arrivals kept            */
#define DLD_PHASE_ANCHORS    4u        /* phases of one period            */
#define DLD_PHASE_MAX_MISS   3u        /* periods an anchor may miss      */
#define DLD_PHASE_TOL_NS     5000000ull   /* an arrival matches within    */
#define DLD_PHASE_MIN_NS     50000000ull  /* periods learned: 50 ms ..    */
#define DLD_PHASE_MAX_NS     20000000000ull /* .. 20 s                    */
#define DLD_PHASE_LEAD_NS    1500000ull   /* dense polling from expected - lead */
#define DLD_PHASE_TRAIL_NS   4000000ull   /* .. until it came, or expected + trail;
					     * both widened by the jitter seen */

struct dld_phase {
	uint64_t period_ns;            /* 0: not learned                    */
	uint64_t hist[DLD_PHASE_HIST]; /* recent arrivals, oldest first     */
	uint64_t unc[DLD_PHASE_HIST];  /* their uncertainty                 */
	uint32_t nhist;
	uint64_t anchor[DLD_PHASE_ANCHORS]; /* the last arrival of each phase */
	uint64_t aunc[DLD_PHASE_ANCHORS];
	uint32_t nanchor;
	uint64_t dev_ns;               /* mean distance from the prediction */
	uint64_t hit1_ns;              /* last arrival one period after its anchor */
};

void dld_phase_reset(struct dld_phase *p);
/* An arrival at t, known to within unc before it: true when it came
 * where a learned phase expected it. */
bool dld_phase_arrival(struct dld_phase *p, uint64_t t, uint64_t unc);
/* The window around an expected arrival: from *lead before it to
 * *trail after it (the jitter seen widens both). */
void dld_phase_window(const struct dld_phase *p, uint64_t *lead, uint64_t *trail);
/* The next expected arrival whose window has not passed at now;
 * UINT64_MAX when nothing is learned.  Anchors that missed
 * DLD_PHASE_MAX_MISS periods are dropped (a restart, a reload that
 * changed the period). */
uint64_t dld_phase_expect(struct dld_phase *p, uint64_t now);
/* A period and at least one phase are known. */
bool dld_phase_learned(const struct dld_phase *p);

#endif
