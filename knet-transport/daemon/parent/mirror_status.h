/* Mirror health names and corosync's view of it (mirror_status.c). */
#ifndef DLD_MIRROR_STATUS_H
#define DLD_MIRROR_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "shm_queue.h"

struct dld_ctx;

const char *dld_mirror_name(uint32_t mirror);
/* The mirror state of a peer's path as reported: the child's judgement;
 * in corosync mode a frozen path of a peer corosync no longer has is
 * "gone". */
uint32_t dld_mirror_of(struct dld_ctx *ctx, const struct dld_peer_status *ps, bool live);

#endif
