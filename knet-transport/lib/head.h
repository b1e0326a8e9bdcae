/* Heads: one per slot in the head area (doc/format.md, "Head area").  A
 * head tells a reader its writer's newest committed sequence and carries,
 * inline, copies of the newest blocks' records, so one read of the area
 * covers every peer.  A head is a hint, never the data's only copy: a
 * reader that cannot use one (torn, empty, foreign, older generation)
 * reads the ring. */
#ifndef DL_HEAD_H
#define DL_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include <disklink/format.h>

#include "block.h"
#include "fmt_error.h"

#define DL_HEAD_HDR_SIZE   ((uint32_t)sizeof(struct dl_head_disk))
#define DL_HEAD_ENTRY_SIZE ((uint32_t)sizeof(struct dl_head_entry_disk))

struct dl_head {
	uint32_t slot_index;
	uint32_t node_id;
	uint64_t generation;
	uint64_t seq;                  /* newest committed block, 0: none yet */
	uint32_t gen_blocks;           /* of them by this generation (seq -
					* gen_blocks + 1 is its first block;
					* UINT32_MAX: that many or more) */
	uint8_t  volume_uuid8[8];
	uint64_t write_time_ns;
	uint64_t inline_seq;           /* first inline block, 0: none */
	uint32_t inline_count;         /* blocks inline_seq .. seq */
	uint32_t inline_len;           /* bytes of entries */
	const uint8_t *inline_data;    /* points into the decoded buffer */
};

/* Encode a head of head_bytes (the volume's block size) into buf: the
 * fields of h (its inline_* fields are ignored) and, inline, the longest
 * run of the newest of blocks[0..n) that fits.  blocks[] are consecutive,
 * the last one is h->seq, all of h->generation; only their payload,
 * payload_len and rec_count are read.  Returns the number of blocks
 * inlined, or -1 with errno EINVAL and *why. */
int dl_head_encode(void *buf, size_t head_bytes, const struct dl_head *h,
		   const struct dl_block *blocks, uint32_t n, enum dl_err *why);

/* Decode and validate a head, its inline blocks and all their records.
 * -1 with errno EMEDIUMTYPE (no head: DL_E_EMPTY or DL_E_MAGIC), EBADMSG
 * (checksum: torn or corrupt), EINVAL (impossible field). */
int dl_head_decode(const void *buf, size_t head_bytes, struct dl_head *h,
		   enum dl_err *why);

/* The inline copy of block seq of a decoded head, as a decoded block
 * (payload points into the head's buffer): 0, or -1/ENOENT when that
 * block is not inline. */
int dl_head_block(const struct dl_head *h, uint64_t seq, struct dl_block *blk);

/* Rebuild ring block seq from its inline copy into buf (block_size
 * bytes): the same header fields and records as the ring block, the
 * head's write time; 0, or -1 with errno ENOENT (not inline) or EINVAL
 * (does not fit block_size). */
int dl_head_block_raw(const struct dl_head *h, uint64_t seq, uint8_t *buf,
		      uint32_t block_size);

#endif
