/* How many requests are in flight on the device of a volume: the block
 * layer's counters (/sys/dev/block/MAJ:MIN/inflight, reads and writes
 * started and not completed).  The parent asks it about an abandoned
 * io_uring child that exited: its requests outlive it in the kernel
 * (supervise.c, doc/design.md "I/O engine"). */
#ifndef DLD_INFLIGHT_H
#define DLD_INFLIGHT_H

#include <stdint.h>

/* The probe: the requests in flight on the block device of path (itself
 * when it is a block device, the one its filesystem sits on when it is a
 * regular file).  0 with *n, or -1 with errno: ENODEV when there are no
 * counters (a file on a filesystem with no block device of its own:
 * FUSE, NFS, tmpfs), EINVAL when path is neither; stat's errno. */
typedef int (*dld_inflight_fn)(const char *path, uint64_t *n);

int dld_inflight_read(const char *path, uint64_t *n);

/* The inflight file's text, "R W\n": 0 with *n = R + W, or -1 EINVAL. */
int dld_inflight_parse(const char *text, uint64_t *n);

#endif
