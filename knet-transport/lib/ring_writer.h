/* The writer of one slot's ring: sequence numbers, generations, recovery
 * after a restart, and packing of datagrams into blocks (with fragments
 * and destination sets). */
#ifndef DL_RING_WRITER_H
#define DL_RING_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "slot_header.h"
#include "superblock.h"

struct dl_dgram {
	const uint16_t *dst;           /* destination node ids */
	uint32_t dst_count;
	const uint8_t *data;
	uint32_t len;
};

struct dl_writer {
	uint32_t block_size;
	uint32_t ring_blocks;
	uint32_t slot_index;
	uint32_t node_id;
	uint8_t  uuid[16];
	uint64_t generation;           /* of this open */
	uint64_t next_seq;             /* seq of the next block written */
	uint32_t next_dgram_id;
};

/* Start a new generation on a slot.  hdr is the slot's current header
 * (may be NULL), ring the slot's ring_blocks blocks in index order (may
 * be NULL when unreadable: the header alone then decides).  The next
 * sequence continues after every valid block and the header's last_seq,
 * so readers never see a sequence number twice. */
int dl_writer_open(struct dl_writer *w, const struct dl_sb *sb, uint32_t slot_index,
		   uint32_t node_id, const struct dl_slot_hdr *hdr, const uint8_t *ring);

/* Pack datagrams from d[0..n) into at most max_blocks consecutive blocks
 * at out (block_size bytes each), in order, whole datagrams only.  On
 * return *n_done datagrams and *blocks blocks were used; block k has
 * sequence (first next_seq) + k and belongs at ring index seq %
 * ring_blocks.  -1/EMSGSIZE when d[0] alone needs more than max_blocks;
 * EINVAL for an invalid datagram (empty, too long, bad destinations). */
int dl_writer_pack(struct dl_writer *w, const struct dl_dgram *d, size_t n,
		   size_t *n_done, uint8_t *out, uint32_t max_blocks,
		   uint32_t *blocks, uint64_t now_ns);

/* Seal n empty blocks (no records) at out with sequences first.. : what
 * a writer puts where a write failed, so that readers consume those
 * sequence numbers at once instead of waiting on torn or old blocks
 * there.  The sequence numbers are never reused for data. */
void dl_writer_void(const struct dl_writer *w, uint64_t first, uint32_t n, uint8_t *out,
		    uint64_t now_ns);

/* Blocks needed for one datagram written alone. */
uint32_t dl_writer_blocks_for(uint32_t block_size, uint32_t dst_count, uint32_t len);

#endif
