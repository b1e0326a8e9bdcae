/* The daemon's clocks: the system's, read through dl_clock_system.  Code
 * that must run under a simulated clock takes a struct dl_clock instead
 * of calling these. */
#include "config.h"

#include "clock.h"

uint64_t dld_mono_ns(void)
{
	return dl_clock_mono(&dl_clock_system);
}

uint64_t dld_real_ns(void)
{
	return dl_clock_real(&dl_clock_system);
}
