/* The system's clocks behind the injectable interface (dl_clock.h). */
#include "config.h"

#include <time.h>

#include "dl_clock.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t system_mono(void *arg)
{
	(void)arg;
	return read_clock(CLOCK_MONOTONIC);
}

static uint64_t system_real(void *arg)
{
	(void)arg;
	return read_clock(CLOCK_REALTIME);
}

uint64_t dl_realtime_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

const struct dl_clock dl_clock_system = {
	.mono_ns = system_mono,
	.real_ns = system_real,
	.arg = NULL,
};
