/* Wall-clock time as the volume records it (slot header update times,
 * block write times): nanoseconds since the epoch, CLOCK_REALTIME. */
#ifndef DL_REALTIME_H
#define DL_REALTIME_H

#include <stdint.h>

uint64_t dl_realtime_ns(void);

#endif
