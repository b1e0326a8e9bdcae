/* Wall-clock time (lib/dl_clock.c dl_realtime_ns): nanoseconds of CLOCK_REALTIME. */
#include "test_util.h"

#include <time.h>

#include "dl_clock.h"

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static void test_between_two_readings(void **state)
{
	struct timespec before, after;
	uint64_t now;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &before);
	now = dl_realtime_ns();
	clock_gettime(CLOCK_REALTIME, &after);
	/* Unless the clock was set back in between. */
	if (ns_of(&after) < ns_of(&before))
		skip();
	assert_true(now >= ns_of(&before));
	assert_true(now <= ns_of(&after));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_between_two_readings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
