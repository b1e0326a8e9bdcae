/* The I/O child's io_uring block I/O (io_engine = uring): the O_DIRECT
 * device of bio_direct.c, its transfers queued as SQEs by submit and
 * handed to the kernel together, with the wait for their completions,
 * by the ops' wait (one io_uring_enter for every request submitted since
 * the last wait).  Built without liburing, or where the kernel refuses
 * a ring (no io_uring, /proc/sys/kernel/io_uring_disabled, a seccomp
 * filter), the open fails and the child uses dl_bio_direct_ops
 * (psync).  The engine's choice: dld_bio_engine. */
#ifndef DLD_BIO_URING_H
#define DLD_BIO_URING_H

#include <string.h>

#include "bio.h"

extern const struct dl_bio_ops dld_bio_uring_ops;

enum dld_io_engine { DLD_ENGINE_AUTO = 0, DLD_ENGINE_URING, DLD_ENGINE_PSYNC };

/* The io_engine key's value: 0, or -1 (an unknown name).  Inline: the
 * parent checks the key without linking liburing. */
static inline int dld_engine_parse(const char *text, enum dld_io_engine *e)
{
	if (!text || !*text || !strcmp(text, "auto"))
		*e = DLD_ENGINE_AUTO;
	else if (!strcmp(text, "uring"))
		*e = DLD_ENGINE_URING;
	else if (!strcmp(text, "psync"))
		*e = DLD_ENGINE_PSYNC;
	else
		return -1;
	return 0;
}
/* Can this process set up an io_uring (queue_init of a small ring)?
 * 0, or -1 with errno (ENOSYS: built without liburing). */
int dld_uring_probe(void);
/* The ops for engine e: PSYNC and AUTO are psync (AUTO: until a child
 * killed with requests in flight is seen to hold them, bio_uring.c);
 * URING is uring, NULL with errno when the probe fails (the caller says
 * why and stops). */
const struct dl_bio_ops *dld_bio_engine(enum dld_io_engine e);

#endif
