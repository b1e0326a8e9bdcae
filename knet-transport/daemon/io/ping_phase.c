/* Learning a peer's arrival period and phases (ping_phase.h). */
#include "config.h"

#include <string.h>

#include "ping_phase.h"

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* The tolerance of a match between two arrivals of uncertainties u1,
 * u2: never a quarter period, so that k periods are never k + 1. */
static uint64_t tol(uint64_t period, uint64_t u1, uint64_t u2)
{
	uint64_t t = DLD_PHASE_TOL_NS + u1 + u2;

	return period && t > period / 4 ? period / 4 : t;
}

/* d is k periods (1 <= k <= MAX_MISS + 1) within tol: k, else 0. */
static uint64_t periods(uint64_t d, uint64_t period, uint64_t tl)
{
	uint64_t k;

	if (!period)
		return 0;
	k = (d + period / 2) / period;
	if (k < 1 || k > DLD_PHASE_MAX_MISS + 1u)
		return 0;
	return absdiff(d, k * period) <= tl ? k : 0;
}

void dld_phase_reset(struct dld_phase *p)
{
	memset(p, 0, sizeof(*p));
}

bool dld_phase_learned(const struct dld_phase *p)
{
	return p->period_ns && p->nanchor;
}

static void push_hist(struct dld_phase *p, uint64_t t, uint64_t unc)
{
	if (p->nhist == DLD_PHASE_HIST) {
		memmove(p->hist, p->hist + 1, sizeof(p->hist[0]) * (DLD_PHASE_HIST - 1u));
		memmove(p->unc, p->unc + 1, sizeof(p->unc[0]) * (DLD_PHASE_HIST - 1u));
		p->nhist--;
	}
	p->hist[p->nhist] = t;
	p->unc[p->nhist++] = unc;
}

/* A new phase at t; when all are taken, it replaces the oldest. */
static void add_anchor(struct dld_phase *p, uint64_t t, uint64_t unc)
{
	uint32_t i = p->nanchor, j;

	if (i == DLD_PHASE_ANCHORS) {
		for (i = 0, j = 1; j < DLD_PHASE_ANCHORS; j++)
			if (p->anchor[j] < p->anchor[i])
				i = j;
	} else {
		p->nanchor++;
	}
	p->anchor[i] = t;
	p->aunc[i] = unc;
}

/* Anchor i seen again k periods later at t (within unc before it): the
 * point of [t - unc, t] nearest the prediction, so that a late, vague
 * sighting keeps the phase; one period apart and both precise, the
 * period follows the drift of the sender's tick. */
static void follow(struct dld_phase *p, uint32_t i, uint64_t t, uint64_t unc, uint64_t k)
{
	uint64_t pred = p->anchor[i] + k * p->period_ns, lo = t > unc ? t - unc : 0;
	uint64_t at = pred < lo ? lo : pred > t ? t : pred;

	if (unc + p->aunc[i] <= DLD_PHASE_TOL_NS / 4) {
		uint64_t dev = absdiff(t, pred);

		p->dev_ns = p->dev_ns + dev / 8 - p->dev_ns / 8;
		at = t;
		if (k == 1) {
			int64_t err = (int64_t)(t - p->anchor[i]) - (int64_t)p->period_ns;

			p->hit1_ns = t;

			p->period_ns = (uint64_t)((int64_t)p->period_ns + err / 16);
		}
	}
	p->anchor[i] = at;
	p->aunc[i] = unc < p->aunc[i] ? unc : p->aunc[i];
}

void dld_phase_window(const struct dld_phase *p, uint64_t *lead, uint64_t *trail)
{
	uint64_t cap = p->period_ns / 8;

	*lead = DLD_PHASE_LEAD_NS + 2 * p->dev_ns;
	*trail = DLD_PHASE_TRAIL_NS + 3 * p->dev_ns;
	*lead = cap && *lead > cap ? cap : *lead;
	*trail = cap && *trail > cap ? cap : *trail;
}

/* An arrival in hist before index j, d before hist[j] (within the
 * tolerance): its index, else -1. */
static int before(const struct dld_phase *p, uint32_t j, uint64_t d, uint64_t unc)
{
	for (uint32_t i = 0; i < j; i++)
		if (absdiff(p->hist[j] - p->hist[i], d) <= tol(d, unc + p->unc[i], p->unc[j]))
			return (int)i;
	return -1;
}

/* need equal intervals ending at t (among the recent arrivals) make the
 * period: 2 when nothing is learned, 3 to replace a period whose
 * anchors still hold (a reload changed the interval, or its multiples
 * matched by chance). */
static bool learn_period(struct dld_phase *p, uint64_t t, uint64_t unc, uint32_t need)
{
	for (uint32_t j = p->nhist; j-- > 0;) {
		uint64_t d1 = t - p->hist[j];
		int i = (int)j;
		uint32_t got = 1;

		if (t <= p->hist[j] || d1 < DLD_PHASE_MIN_NS || d1 > DLD_PHASE_MAX_NS)
			continue;
		while (got < need && (i = before(p, (uint32_t)i, d1, unc)) >= 0)
			got++;
		if (got == need && (!p->period_ns || absdiff(d1, p->period_ns) >
				    tol(d1, unc, 0))) {
			p->period_ns = d1;
			p->nanchor = 0;
			add_anchor(p, t, unc);
			return true;
		}
	}
	return false;
}

/* t falls on a known phase (within tol, any number of periods away). */
static bool on_phase(const struct dld_phase *p, uint64_t t, uint64_t unc)
{
	for (uint32_t i = 0; i < p->nanchor; i++) {
		uint64_t r = (t > p->anchor[i] ? t - p->anchor[i] : p->anchor[i] - t) % p->period_ns;
		uint64_t tl = tol(p->period_ns, unc, p->aunc[i]);

		if (r <= tl || p->period_ns - r <= tl)
			return true;
	}
	return false;
}

/* The period may be learned anew at t: nothing learned, or no arrival
 * came one period after its anchor for two periods (late pings of a
 * loaded sender are no reason to doubt a period that keeps matching). */
static bool relearn(const struct dld_phase *p, uint64_t t)
{
	return !p->nanchor || !p->period_ns || t > p->hit1_ns + 2 * p->period_ns;
}

/* t is a whole number of periods after a recent arrival: a phase. */
static void new_phase(struct dld_phase *p, uint64_t t, uint64_t unc)
{
	for (uint32_t j = p->nhist; j-- > 0;)
		if (t > p->hist[j] && periods(t - p->hist[j], p->period_ns,
					      tol(p->period_ns, unc, p->unc[j]))) {
			add_anchor(p, t, unc);
			return;
		}
}

bool dld_phase_arrival(struct dld_phase *p, uint64_t t, uint64_t unc)
{
	bool hit = false;

	for (uint32_t i = 0; i < p->nanchor && !hit; i++) {
		uint64_t tl = tol(p->period_ns, unc, p->aunc[i]), k;

		if (t <= p->anchor[i] + tl) {
			hit = t + tl >= p->anchor[i];  /* the same burst */
			continue;
		}
		k = periods(t - p->anchor[i], p->period_ns, tl);
		if (k) {
			follow(p, i, t, unc, k);
			hit = true;
		}
	}
	if (!hit && !(relearn(p, t) && learn_period(p, t, unc, p->nanchor ? 3u : 2u)) &&
	    p->period_ns && !on_phase(p, t, unc))
		new_phase(p, t, unc);
	push_hist(p, t, unc);
	return hit;
}

uint64_t dld_phase_expect(struct dld_phase *p, uint64_t now)
{
	uint64_t best = UINT64_MAX, P = p->period_ns, lead, trail;

	dld_phase_window(p, &lead, &trail);
	for (uint32_t i = 0; P && i < p->nanchor;) {
		uint64_t a = p->anchor[i], k = 1, e;

		if (now > a + P + trail)
			k = (now - trail - a + P - 1) / P;
		if (k > DLD_PHASE_MAX_MISS + 1u) {    /* missed too often */
			p->anchor[i] = p->anchor[p->nanchor - 1];
			p->aunc[i] = p->aunc[p->nanchor - 1];
			p->nanchor--;
			continue;
		}
		e = a + k * P;
		if (e < best)
			best = e;
		i++;
	}
	return best;
}
