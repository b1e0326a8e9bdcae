/* Ring blocks and the records inside them: a pure decoder that validates
 * the whole block (header, checksum, every record) before anything is
 * used, a record iterator, and a builder for writers. */
#ifndef DL_BLOCK_H
#define DL_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include <disklink/format.h>

#include "fmt_error.h"

#define DL_BLOCK_HDR_SIZE ((uint32_t)sizeof(struct dl_block_hdr_disk))
#define DL_REC_HDR_SIZE   ((uint32_t)sizeof(struct dl_rec_hdr_disk))

struct dl_block {
	uint32_t slot_index;
	uint32_t node_id;
	uint64_t generation;
	uint64_t seq;
	uint8_t  volume_uuid8[8];
	uint32_t payload_len;
	uint32_t rec_count;
	uint64_t write_time_ns;
	const uint8_t *payload;        /* points into the decoded buffer */
};

struct dl_rec {
	uint8_t  type;
	uint8_t  flags;
	uint16_t dst_count;
	uint32_t frag_len;
	uint32_t dgram_len;
	uint32_t frag_offset;
	uint32_t dgram_id;
	const uint8_t *dst;            /* dst_count little-endian uint16 ids */
	const uint8_t *data;           /* frag_len bytes */
};

/* Decode a block of block_size bytes and validate its records.
 * -1 with errno EMEDIUMTYPE (no block here: DL_E_EMPTY or DL_E_MAGIC),
 * EBADMSG (checksum: torn or corrupt), EINVAL (impossible field). */
int dl_block_decode(const void *buf, size_t block_size, struct dl_block *blk,
		    enum dl_err *why);

/* blk's payload (payload, payload_len, rec_count) holds exactly rec_count
 * valid records filling payload_len, which fits in room bytes: 0, else
 * -1/EINVAL (DL_E_PAYLOAD or the record's reason).  Used by the block
 * decoder and for the blocks a head carries inline. */
int dl_block_records_ok(const struct dl_block *blk, uint32_t room, enum dl_err *why);

/* Iterate the records of a decoded block: *off starts at 0.  Returns 1
 * with *rec filled, 0 at the end, -1/EINVAL on a bad record. */
int dl_rec_next(const struct dl_block *blk, uint32_t *off, struct dl_rec *rec,
		enum dl_err *why);

/* Decode one record at buf[0..len); *rec_size gets its padded size. */
int dl_rec_decode(const uint8_t *buf, size_t len, struct dl_rec *rec,
		  uint32_t *rec_size, enum dl_err *why);

/* 1 when node_id is among the record's destinations. */
int dl_rec_has_dest(const struct dl_rec *rec, uint32_t node_id);

/* Padded size of a record with these counts. */
static inline uint32_t dl_rec_size(uint32_t dst_count, uint32_t frag_len)
{
	return DL_REC_HDR_SIZE + (uint32_t)DL_ALIGN8(dst_count * 2u) +
	       (uint32_t)DL_ALIGN8(frag_len);
}

/* Builder: fills a zeroed block buffer with records, then seals it. */
struct dl_block_builder {
	uint8_t *buf;
	uint32_t block_size;
	uint32_t used;                 /* bytes from the start of the block */
	uint32_t rec_count;
};

void dl_bb_start(struct dl_block_builder *bb, uint8_t *buf, uint32_t block_size);

/* Largest fragment that fits in one more record with dst_count ids. */
uint32_t dl_bb_room(const struct dl_block_builder *bb, uint32_t dst_count);

/* Append a record; -1/ENOSPC when it does not fit, EINVAL when invalid. */
int dl_bb_add(struct dl_block_builder *bb, const uint16_t *dst, uint32_t dst_count,
	      const uint8_t *data, uint32_t frag_len, uint32_t dgram_len,
	      uint32_t frag_offset, uint32_t dgram_id);

/* Write the header and checksum. */
void dl_bb_seal(struct dl_block_builder *bb, uint32_t slot_index, uint32_t node_id,
		uint64_t generation, uint64_t seq, const uint8_t volume_uuid[16],
		uint64_t write_time_ns);

#endif
