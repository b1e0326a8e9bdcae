/* Wall-clock time. */
#include "config.h"

#include <time.h>

#include "realtime.h"

uint64_t dl_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
