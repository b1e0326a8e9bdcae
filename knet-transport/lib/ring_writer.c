/* Ring writer. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "block.h"
#include "ring_scan.h"
#include "ring_writer.h"

int dl_writer_open(struct dl_writer *w, const struct dl_sb *sb, uint32_t slot_index,
		   uint32_t node_id, const struct dl_slot_hdr *hdr, const uint8_t *ring)
{
	struct dl_ring_newest n = { .count = 0 };
	/* Every valid block of this slot counts, whoever wrote it and
	 * wherever it lies: a slot released and claimed again must still
	 * move forward. */
	const struct dl_ring_filter f = {
		.block_size = sb->block_size,
		.ring_blocks = sb->ring_blocks,
		.slot_index = slot_index,
		.uuid = sb->uuid,
		.in_place = false,
	};
	uint64_t max_seq = 0, max_gen = 0;

	if (slot_index >= sb->slot_count || node_id == 0 || node_id > DL_NODE_ID_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(w, 0, sizeof(*w));
	w->block_size = sb->block_size;
	w->ring_blocks = sb->ring_blocks;
	w->slot_index = slot_index;
	w->node_id = node_id;
	memcpy(w->uuid, sb->uuid, 16);
	if (hdr) {
		max_seq = hdr->last_seq;
		max_gen = hdr->generation;
	}
	if (ring)
		dl_ring_newest_scan(ring, 0, sb->ring_blocks, &f, &n);
	if (n.seq > max_seq)
		max_seq = n.seq;
	if (n.max_generation > max_gen)
		max_gen = n.max_generation;
	w->generation = max_gen + 1;
	w->next_seq = max_seq + 1;
	return 0;
}

uint32_t dl_writer_blocks_for(uint32_t block_size, uint32_t dst_count, uint32_t len)
{
	uint32_t room = block_size - DL_BLOCK_HDR_SIZE - DL_REC_HDR_SIZE -
			(uint32_t)DL_ALIGN8(dst_count * 2u);

	room &= ~7u;
	return (len + room - 1) / room;
}

static int dgram_valid(const struct dl_dgram *d)
{
	if (d->len == 0 || d->len > DL_DGRAM_MAX || d->dst_count == 0 ||
	    d->dst_count > DL_DEST_MAX)
		return 0;
	for (uint32_t i = 0; i < d->dst_count; i++)
		if (d->dst[i] == 0)
			return 0;
	return 1;
}

/* Smallest fragment worth starting in a partly used block. */
#define MIN_FRAGMENT 64u

int dl_writer_pack(struct dl_writer *w, const struct dl_dgram *d, size_t n,
		   size_t *n_done, uint8_t *out, uint32_t max_blocks,
		   uint32_t *blocks, uint64_t now_ns)
{
	struct dl_block_builder bb;
	uint32_t cur = 0;
	size_t i;

	*n_done = 0;
	*blocks = 0;
	if (n == 0)
		return 0;
	if (max_blocks == 0 || max_blocks > w->ring_blocks) {
		errno = EINVAL;
		return -1;
	}
	dl_bb_start(&bb, out, w->block_size);
	for (i = 0; i < n; i++) {
		struct dl_block_builder saved = bb;
		uint32_t saved_cur = cur, off = 0;
		int fits = 1;

		if (!dgram_valid(&d[i])) {
			if (i)
				break;
			errno = EINVAL;
			return -1;
		}
		while (off < d[i].len) {
			uint32_t room = dl_bb_room(&bb, d[i].dst_count);
			uint32_t left = d[i].len - off;
			uint32_t frag = left < room ? left : room;

			if (frag == 0 || (frag < left && frag < MIN_FRAGMENT && bb.rec_count)) {
				if (cur + 1 >= max_blocks) {
					fits = 0;
					break;
				}
				/* The block is complete: seal it (a rollback that
				 * reopens it is sealed again at the end). */
				dl_bb_seal(&bb, w->slot_index, w->node_id, w->generation,
					   w->next_seq + cur, w->uuid, now_ns);
				cur++;
				dl_bb_start(&bb, out + (size_t)cur * w->block_size, w->block_size);
				continue;
			}
			dl_bb_add(&bb, d[i].dst, d[i].dst_count, d[i].data + off, frag,
				  d[i].len, off, w->next_dgram_id);
			off += frag;
		}
		if (!fits) {
			/* Roll back the partial datagram: clear what it wrote. */
			for (uint32_t k = saved_cur + 1; k <= cur; k++)
				memset(out + (size_t)k * w->block_size, 0, w->block_size);
			memset(saved.buf + saved.used, 0, w->block_size - saved.used);
			bb = saved;
			cur = saved_cur;
			if (i == 0) {
				errno = EMSGSIZE;
				return -1;
			}
			break;
		}
		w->next_dgram_id++;
	}
	*n_done = i;
	*blocks = cur + 1;
	dl_bb_seal(&bb, w->slot_index, w->node_id, w->generation, w->next_seq + cur,
		   w->uuid, now_ns);
	w->next_seq += cur + 1;
	return 0;
}

void dl_writer_void(const struct dl_writer *w, uint64_t first, uint32_t n, uint8_t *out,
		    uint64_t now_ns)
{
	for (uint32_t k = 0; k < n; k++) {
		struct dl_block_builder bb;

		dl_bb_start(&bb, out + (size_t)k * w->block_size, w->block_size);
		dl_bb_seal(&bb, w->slot_index, w->node_id, w->generation, first + k, w->uuid,
			   now_ns);
	}
}
