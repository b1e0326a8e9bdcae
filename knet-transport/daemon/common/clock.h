/* Time for the daemon: the system's clocks, and an injectable clock for
 * code that a test or the simulator drives with a clock of its own. */
#ifndef DLD_CLOCK_H
#define DLD_CLOCK_H

#include <stdint.h>

uint64_t dld_mono_ns(void);   /* CLOCK_MONOTONIC, ns */
uint64_t dld_real_ns(void);   /* CLOCK_REALTIME, ns  */

struct dld_clock {
	uint64_t (*mono_ns)(void *arg);
	uint64_t (*real_ns)(void *arg);
	void *arg;
};

/* The system's clocks behind the injectable interface. */
extern const struct dld_clock dld_clock_system;

static inline uint64_t dld_clock_mono(const struct dld_clock *c)
{
	return c->mono_ns(c->arg);
}

static inline uint64_t dld_clock_real(const struct dld_clock *c)
{
	return c->real_ns(c->arg);
}

#endif
