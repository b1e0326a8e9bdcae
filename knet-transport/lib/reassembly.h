/* Reassembly of a datagram whose fragments span consecutive blocks. */
#ifndef DL_REASSEMBLY_H
#define DL_REASSEMBLY_H

#include <stdint.h>

#include "block.h"

struct dl_reasm {
	uint8_t *buf;                  /* DL_DGRAM_MAX bytes */
	int      active;
	uint32_t dgram_id;
	uint32_t dgram_len;
	uint32_t have;                 /* bytes received so far */
	uint64_t dropped;              /* partial datagrams thrown away */
};

int dl_reasm_init(struct dl_reasm *r);
void dl_reasm_free(struct dl_reasm *r);

/* Forget a partial datagram (a block was lost, or the writer restarted). */
void dl_reasm_reset(struct dl_reasm *r);

/* Feed one record.  Returns 1 with data and len set when a datagram is
 * complete (pointing into the record for a single fragment, else into the
 * reassembly buffer, valid until the next call), 0 when more is needed or
 * the fragment was dropped (counted). */
int dl_reasm_feed(struct dl_reasm *r, const struct dl_rec *rec,
		  const uint8_t **data, uint32_t *len);

#endif
