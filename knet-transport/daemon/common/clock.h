/* Time for the daemon: the system's clocks for the parent, and the
 * injectable clock (struct dl_clock, dl_clock.h) that the I/O child's
 * device access takes, so that a test or the simulator drives it. */
#ifndef DLD_CLOCK_H
#define DLD_CLOCK_H

#include <stdint.h>

#include "dl_clock.h"

uint64_t dld_mono_ns(void);   /* CLOCK_MONOTONIC, ns */
uint64_t dld_real_ns(void);   /* CLOCK_REALTIME, ns  */

#endif
