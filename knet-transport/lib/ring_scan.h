/* The newest valid block of a ring: which blocks count (a slot, maybe a
 * volume, maybe only blocks at their place) and what the newest of them
 * is.  Shared by the ring writer (where to continue), the reader (where
 * to resynchronise), the tool and the daemon. */
#ifndef DL_RING_SCAN_H
#define DL_RING_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "block.h"

/* Which decoded blocks count. */
struct dl_ring_filter {
	uint32_t block_size;
	uint32_t ring_blocks;
	uint32_t slot_index;           /* written for this slot                */
	const uint8_t *uuid;           /* and for this volume (its first 8
					* bytes, as blocks carry); NULL: any  */
	bool in_place;                 /* and only at index seq % ring_blocks  */
	uint64_t min_generation;       /* and of at least this generation
					* (0: any)                             */
};

/* The blocks that counted.  Zero it before the first dl_ring_newest_add
 * or dl_ring_newest_scan (count == 0: none, all fields 0). */
struct dl_ring_newest {
	uint32_t count;                /* blocks that counted                  */
	uint64_t seq;                  /* the newest one (highest seq; the
					* first in index order on a tie)      */
	uint32_t index;
	uint64_t generation;
	uint32_t node_id;
	uint64_t write_time_ns;
	uint64_t max_generation;       /* highest generation of any of them    */
};

/* Count the block b (found at index) into *n; b must be one that counts
 * (the tool classifies blocks itself and adds the valid ones). */
void dl_ring_newest_add(struct dl_ring_newest *n, uint32_t index, const struct dl_block *b);

/* Decode blocks[0..n_blocks) (ring indexes first_index, first_index + 1,
 * ...) and count those that decode and match f into *n, which is not
 * reset first, so a ring read in chunks is scanned chunk by chunk. */
void dl_ring_newest_scan(const uint8_t *blocks, uint32_t first_index, uint32_t n_blocks,
			 const struct dl_ring_filter *f, struct dl_ring_newest *n);

#endif
