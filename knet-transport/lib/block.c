/* Ring block decode/encode and record framing. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "block.h"
#include "crc32c.h"
#include "le.h"

#define BOFF(f) offsetof(struct dl_block_hdr_disk, f)
#define ROFF(f) offsetof(struct dl_rec_hdr_disk, f)
#define SEQ_LIMIT (UINT64_C(1) << 63)

/* CRC over the whole block with the crc field taken as zero. */
static uint32_t block_crc(const uint8_t *p, size_t block_size)
{
	return dl_crc32c_sealed(p, BOFF(crc32c), DL_BLOCK_HDR_SIZE,
				block_size - DL_BLOCK_HDR_SIZE);
}

int dl_rec_decode(const uint8_t *p, size_t len, struct dl_rec *rec,
		  uint32_t *rec_size, enum dl_err *why)
{
	uint32_t size;

	memset(rec, 0, sizeof(*rec));
	if (len < DL_REC_HDR_SIZE)
		return dl_fail(why, DL_E_REC_LEN, EINVAL);
	rec->type = p[ROFF(type)];
	rec->flags = p[ROFF(flags)];
	rec->dst_count = dl_get16(p + ROFF(dst_count));
	rec->frag_len = dl_get32(p + ROFF(frag_len));
	rec->dgram_len = dl_get32(p + ROFF(dgram_len));
	rec->frag_offset = dl_get32(p + ROFF(frag_offset));
	rec->dgram_id = dl_get32(p + ROFF(dgram_id));
	if (rec->type != DL_REC_DATAGRAM)
		return dl_fail(why, DL_E_REC_TYPE, EINVAL);
	if (dl_get32(p + ROFF(reserved)))
		return dl_fail(why, DL_E_RESERVED, EINVAL);
	if (rec->flags & ~(DL_REC_FIRST | DL_REC_LAST))
		return dl_fail(why, DL_E_REC_FLAGS, EINVAL);
	if (rec->dst_count == 0 || rec->dst_count > DL_DEST_MAX)
		return dl_fail(why, DL_E_REC_DST, EINVAL);
	if (rec->dgram_len == 0 || rec->dgram_len > DL_DGRAM_MAX ||
	    rec->frag_len == 0 || rec->frag_len > rec->dgram_len ||
	    rec->frag_offset > rec->dgram_len - rec->frag_len)
		return dl_fail(why, DL_E_REC_LEN, EINVAL);
	if (((rec->flags & DL_REC_FIRST) != 0) != (rec->frag_offset == 0) ||
	    ((rec->flags & DL_REC_LAST) != 0) !=
		    (rec->frag_offset + rec->frag_len == rec->dgram_len))
		return dl_fail(why, DL_E_REC_FLAGS, EINVAL);
	size = dl_rec_size(rec->dst_count, rec->frag_len);
	if (size > len)
		return dl_fail(why, DL_E_REC_LEN, EINVAL);
	rec->dst = p + DL_REC_HDR_SIZE;
	for (uint32_t i = 0; i < rec->dst_count; i++) {
		uint16_t id = dl_get16(rec->dst + 2 * i);

		if (id == 0)
			return dl_fail(why, DL_E_REC_DST, EINVAL);
	}
	rec->data = rec->dst + DL_ALIGN8(rec->dst_count * 2u);
	if (rec_size)
		*rec_size = size;
	if (why)
		*why = DL_OK;
	return 0;
}

int dl_block_decode(const void *buf, size_t block_size, struct dl_block *blk,
		    enum dl_err *why)
{
	const uint8_t *p = buf;
	memset(blk, 0, sizeof(*blk));
	if (block_size < DL_BLOCK_SIZE_MIN || block_size > DL_BLOCK_SIZE_MAX)
		return dl_fail(why, DL_E_SHORT, EINVAL);
	if (dl_get32(p + BOFF(magic)) != DL_BLOCK_MAGIC) {
		if (dl_all_zero(p, DL_BLOCK_HDR_SIZE))
			return dl_fail(why, DL_E_EMPTY, EMEDIUMTYPE);
		/* Anything else with a wrong magic may be the end of a torn
		 * write whose first sector did not land: the caller treats
		 * it like a checksum failure when it expected a block. */
		return dl_fail(why, DL_E_MAGIC, EMEDIUMTYPE);
	}
	if (dl_get32(p + BOFF(crc32c)) != block_crc(p, block_size))
		return dl_fail(why, DL_E_CRC, EBADMSG);
	blk->slot_index = dl_get32(p + BOFF(slot_index));
	blk->node_id = dl_get32(p + BOFF(node_id));
	blk->generation = dl_get64(p + BOFF(generation));
	blk->seq = dl_get64(p + BOFF(seq));
	memcpy(blk->volume_uuid8, p + BOFF(volume_uuid), 8);
	blk->payload_len = dl_get32(p + BOFF(payload_len));
	blk->rec_count = dl_get32(p + BOFF(rec_count));
	blk->write_time_ns = dl_get64(p + BOFF(write_time_ns));
	blk->payload = p + DL_BLOCK_HDR_SIZE;
	if (dl_get32(p + BOFF(flags)) || dl_get32(p + BOFF(reserved)))
		return dl_fail(why, DL_E_RESERVED, EINVAL);
	if (blk->slot_index >= DL_SLOTS_MAX)
		return dl_fail(why, DL_E_SLOT_INDEX, EINVAL);
	if (blk->node_id == 0 || blk->node_id > DL_NODE_ID_MAX)
		return dl_fail(why, DL_E_NODE_ID, EINVAL);
	/* Counted from 1 by one per block (or open): 2^63 is never reached,
	 * and the bound keeps seq + 1 and generation + 1 from wrapping. */
	if (blk->seq == 0 || blk->generation == 0 || blk->seq >= SEQ_LIMIT ||
	    blk->generation >= SEQ_LIMIT)
		return dl_fail(why, DL_E_SEQ, EINVAL);
	if (dl_block_records_ok(blk, block_size - DL_BLOCK_HDR_SIZE, why))
		return -1;
	if (why)
		*why = DL_OK;
	return 0;
}

int dl_block_records_ok(const struct dl_block *blk, uint32_t room, enum dl_err *why)
{
	uint32_t off = 0, n = 0;
	struct dl_rec rec;
	int r;

	if (blk->payload_len > room || blk->rec_count > blk->payload_len / DL_REC_HDR_SIZE)
		return dl_fail(why, DL_E_PAYLOAD, EINVAL);
	while ((r = dl_rec_next(blk, &off, &rec, why)) == 1)
		n++;
	if (r < 0)
		return -1;
	if (n != blk->rec_count || off != blk->payload_len)
		return dl_fail(why, DL_E_PAYLOAD, EINVAL);
	return 0;
}

int dl_rec_next(const struct dl_block *blk, uint32_t *off, struct dl_rec *rec,
		enum dl_err *why)
{
	uint32_t size;

	if (*off >= blk->payload_len)
		return 0;
	if (dl_rec_decode(blk->payload + *off, blk->payload_len - *off, rec, &size, why))
		return -1;
	*off += size;
	return 1;
}

int dl_rec_has_dest(const struct dl_rec *rec, uint32_t node_id)
{
	for (uint32_t i = 0; i < rec->dst_count; i++)
		if (dl_get16(rec->dst + 2 * i) == node_id)
			return 1;
	return 0;
}

void dl_bb_start(struct dl_block_builder *bb, uint8_t *buf, uint32_t block_size)
{
	bb->buf = buf;
	bb->block_size = block_size;
	bb->used = DL_BLOCK_HDR_SIZE;
	bb->rec_count = 0;
	memset(buf, 0, block_size);
}

uint32_t dl_bb_room(const struct dl_block_builder *bb, uint32_t dst_count)
{
	uint32_t fixed = DL_REC_HDR_SIZE + (uint32_t)DL_ALIGN8(dst_count * 2u);
	uint32_t left = bb->block_size - bb->used;

	if (left <= fixed)
		return 0;
	return (left - fixed) & ~7u;
}

int dl_bb_add(struct dl_block_builder *bb, const uint16_t *dst, uint32_t dst_count,
	      const uint8_t *data, uint32_t frag_len, uint32_t dgram_len,
	      uint32_t frag_offset, uint32_t dgram_id)
{
	uint8_t *p = bb->buf + bb->used;
	uint8_t flags = 0;
	uint32_t size;

	if (dst_count == 0 || dst_count > DL_DEST_MAX || frag_len == 0 ||
	    dgram_len > DL_DGRAM_MAX || frag_offset + (uint64_t)frag_len > dgram_len) {
		errno = EINVAL;
		return -1;
	}
	size = dl_rec_size(dst_count, frag_len);
	if (size > bb->block_size - bb->used) {
		errno = ENOSPC;
		return -1;
	}
	if (frag_offset == 0)
		flags |= DL_REC_FIRST;
	if (frag_offset + frag_len == dgram_len)
		flags |= DL_REC_LAST;
	p[ROFF(type)] = DL_REC_DATAGRAM;
	p[ROFF(flags)] = flags;
	dl_put16(p + ROFF(dst_count), (uint16_t)dst_count);
	dl_put32(p + ROFF(frag_len), frag_len);
	dl_put32(p + ROFF(dgram_len), dgram_len);
	dl_put32(p + ROFF(frag_offset), frag_offset);
	dl_put32(p + ROFF(dgram_id), dgram_id);
	for (uint32_t i = 0; i < dst_count; i++)
		dl_put16(p + DL_REC_HDR_SIZE + 2 * i, dst[i]);
	memcpy(p + DL_REC_HDR_SIZE + DL_ALIGN8(dst_count * 2u), data, frag_len);
	bb->used += size;
	bb->rec_count++;
	return 0;
}

void dl_bb_seal(struct dl_block_builder *bb, uint32_t slot_index, uint32_t node_id,
		uint64_t generation, uint64_t seq, const uint8_t volume_uuid[16],
		uint64_t write_time_ns)
{
	uint8_t *p = bb->buf;

	dl_put32(p + BOFF(magic), DL_BLOCK_MAGIC);
	dl_put32(p + BOFF(slot_index), slot_index);
	dl_put32(p + BOFF(node_id), node_id);
	dl_put64(p + BOFF(generation), generation);
	dl_put64(p + BOFF(seq), seq);
	memcpy(p + BOFF(volume_uuid), volume_uuid, 8);
	dl_put32(p + BOFF(payload_len), bb->used - DL_BLOCK_HDR_SIZE);
	dl_put32(p + BOFF(rec_count), bb->rec_count);
	dl_put64(p + BOFF(write_time_ns), write_time_ns);
	dl_put32(p + BOFF(crc32c), block_crc(p, bb->block_size));
}
