/* An injectable clock: the block I/O layer (bio.h) and the daemon's
 * device-access module read time only through one, so that a test or a
 * deterministic simulator can drive them with a clock of its own. */
#ifndef DL_CLOCK_H
#define DL_CLOCK_H

#include <stdint.h>

struct dl_clock {
	uint64_t (*mono_ns)(void *arg);    /* CLOCK_MONOTONIC-like, ns */
	uint64_t (*real_ns)(void *arg);    /* CLOCK_REALTIME-like, ns  */
	void *arg;
};

/* The system's clocks. */
extern const struct dl_clock dl_clock_system;

/* CLOCK_REALTIME in ns, for code that stamps what it writes with the wall
 * clock and takes no injected clock (the tool, volume claims). */
uint64_t dl_realtime_ns(void);

static inline uint64_t dl_clock_mono(const struct dl_clock *c)
{
	return c->mono_ns(c->arg);
}

static inline uint64_t dl_clock_real(const struct dl_clock *c)
{
	return c->real_ns(c->arg);
}

#endif
