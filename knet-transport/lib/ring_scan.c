/* Newest valid block of a ring. */
#include "config.h"

#include <string.h>

#include "ring_scan.h"

/* Does the decoded block b, found at ring index `index`, count? */
static bool filter_match(const struct dl_ring_filter *f, uint32_t index,
			 const struct dl_block *b)
{
	if (b->slot_index != f->slot_index || b->generation < f->min_generation)
		return false;
	if (f->uuid && memcmp(b->volume_uuid8, f->uuid, 8))
		return false;
	return !f->in_place || b->seq % f->ring_blocks == index;
}

void dl_ring_newest_add(struct dl_ring_newest *n, uint32_t index, const struct dl_block *b)
{
	if (n->count == 0 || b->seq > n->seq) {
		n->seq = b->seq;
		n->index = index;
		n->generation = b->generation;
		n->node_id = b->node_id;
		n->write_time_ns = b->write_time_ns;
	}
	if (b->generation > n->max_generation)
		n->max_generation = b->generation;
	n->count++;
}

void dl_ring_newest_scan(const uint8_t *blocks, uint32_t first_index, uint32_t n_blocks,
			 const struct dl_ring_filter *f, struct dl_ring_newest *n)
{
	for (uint32_t k = 0; k < n_blocks; k++) {
		struct dl_block b;

		if (dl_block_decode(blocks + (size_t)k * f->block_size, f->block_size, &b, NULL))
			continue;
		if (filter_match(f, first_index + k, &b))
			dl_ring_newest_add(n, first_index + k, &b);
	}
}
