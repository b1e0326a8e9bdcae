/* The daemon's clocks.  Code that must run under a simulated clock takes a
 * struct dld_clock (clock.h) instead of calling these. */
#include "config.h"

#include <time.h>

#include "clock.h"

uint64_t dld_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t dld_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t system_mono(void *arg)
{
	(void)arg;
	return dld_mono_ns();
}

static uint64_t system_real(void *arg)
{
	(void)arg;
	return dld_real_ns();
}

const struct dld_clock dld_clock_system = {
	.mono_ns = system_mono,
	.real_ns = system_real,
	.arg = NULL,
};
