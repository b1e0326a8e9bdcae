/* Head encode/decode (doc/format.md, "Head area"). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "crc32c.h"
#include "head.h"
#include "le.h"

#define HOFF(f) offsetof(struct dl_head_disk, f)
#define EOFF(f) offsetof(struct dl_head_entry_disk, f)
#define SEQ_LIMIT (UINT64_C(1) << 63)

/* CRC over the header and the inline bytes, the crc field taken as zero. */
static uint32_t head_crc(const uint8_t *p, uint32_t inline_len)
{
	return dl_crc32c_sealed(p, HOFF(crc32c), DL_HEAD_HDR_SIZE, inline_len);
}

static int head_size_ok(size_t head_bytes)
{
	return head_bytes >= DL_BLOCK_SIZE_MIN && head_bytes <= DL_BLOCK_SIZE_MAX;
}

/* Fields every head must have right, encoded or decoded. */
static int head_check(const struct dl_head *h, enum dl_err *why)
{
	if (h->slot_index >= DL_SLOTS_MAX)
		return dl_fail(why, DL_E_SLOT_INDEX, EINVAL);
	if (h->node_id == 0 || h->node_id > DL_NODE_ID_MAX)
		return dl_fail(why, DL_E_NODE_ID, EINVAL);
	if (h->generation == 0 || h->generation >= SEQ_LIMIT || h->seq >= SEQ_LIMIT ||
	    h->gen_blocks > h->seq)
		return dl_fail(why, DL_E_SEQ, EINVAL);
	return 0;
}

/* How many of the newest blocks fit in room bytes of entries. */
static uint32_t fitting(const struct dl_block *blocks, uint32_t n, uint32_t room)
{
	uint32_t k = 0, used = 0;

	while (k < n) {
		uint32_t need = DL_HEAD_ENTRY_SIZE + blocks[n - 1 - k].payload_len;

		if (need > room - used)
			break;
		used += need;
		k++;
	}
	return k;
}

static int blocks_ok(const struct dl_head *h, const struct dl_block *blocks, uint32_t n)
{
	if (n > h->gen_blocks)         /* inline blocks are this generation's */
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (blocks[i].payload_len % 8u || (blocks[i].payload_len && !blocks[i].payload))
			return 0;
	return 1;
}

int dl_head_encode(void *buf, size_t head_bytes, const struct dl_head *h,
		   const struct dl_block *blocks, uint32_t n, enum dl_err *why)
{
	uint8_t *p = buf, *e;
	uint32_t k, len = 0;

	if (!head_size_ok(head_bytes))
		return dl_fail(why, DL_E_SHORT, EINVAL);
	if (head_check(h, why))
		return -1;
	if (!blocks_ok(h, blocks, n))
		return dl_fail(why, DL_E_PAYLOAD, EINVAL);
	memset(p, 0, head_bytes);
	k = fitting(blocks, n, (uint32_t)head_bytes - DL_HEAD_HDR_SIZE);
	e = p + DL_HEAD_HDR_SIZE;
	for (uint32_t i = n - k; i < n; i++) {
		dl_put32(e + len + EOFF(payload_len), blocks[i].payload_len);
		dl_put32(e + len + EOFF(rec_count), blocks[i].rec_count);
		len += DL_HEAD_ENTRY_SIZE;
		if (blocks[i].payload_len)
			memcpy(e + len, blocks[i].payload, blocks[i].payload_len);
		len += blocks[i].payload_len;
	}
	dl_put32(p + HOFF(magic), DL_HEAD_MAGIC);
	dl_put32(p + HOFF(slot_index), h->slot_index);
	dl_put32(p + HOFF(node_id), h->node_id);
	dl_put32(p + HOFF(gen_blocks), h->gen_blocks);
	dl_put64(p + HOFF(generation), h->generation);
	dl_put64(p + HOFF(seq), h->seq);
	memcpy(p + HOFF(volume_uuid), h->volume_uuid8, 8);
	dl_put64(p + HOFF(write_time_ns), h->write_time_ns);
	dl_put64(p + HOFF(inline_seq), k ? h->seq - k + 1 : 0);
	dl_put32(p + HOFF(inline_len), len);
	dl_put32(p + HOFF(crc32c), head_crc(p, len));
	if (why)
		*why = DL_OK;
	return (int)k;
}

/* One inline entry at e[0..left): its records validated as a block's. */
static int entry_decode(const struct dl_head *h, const uint8_t *e, uint32_t left,
			uint64_t seq, struct dl_block *blk, enum dl_err *why)
{
	if (left < DL_HEAD_ENTRY_SIZE)
		return dl_fail(why, DL_E_PAYLOAD, EINVAL);
	memset(blk, 0, sizeof(*blk));
	blk->slot_index = h->slot_index;
	blk->node_id = h->node_id;
	blk->generation = h->generation;
	blk->seq = seq;
	memcpy(blk->volume_uuid8, h->volume_uuid8, 8);
	blk->write_time_ns = h->write_time_ns;
	blk->payload_len = dl_get32(e + EOFF(payload_len));
	blk->rec_count = dl_get32(e + EOFF(rec_count));
	blk->payload = e + DL_HEAD_ENTRY_SIZE;
	return dl_block_records_ok(blk, left - DL_HEAD_ENTRY_SIZE, why);
}

/* Every inline entry, and that they are exactly inline_seq .. seq. */
static int inline_decode(struct dl_head *h, enum dl_err *why)
{
	struct dl_block blk;
	uint32_t off = 0;
	uint64_t seq = h->inline_seq;

	if (h->inline_len == 0)
		return h->inline_seq ? dl_fail(why, DL_E_SEQ, EINVAL) : 0;
	if (h->inline_seq == 0 || h->inline_seq > h->seq ||
	    h->seq - h->inline_seq >= h->gen_blocks)
		return dl_fail(why, DL_E_SEQ, EINVAL);
	while (off < h->inline_len) {
		if (seq > h->seq)
			return dl_fail(why, DL_E_PAYLOAD, EINVAL);
		if (entry_decode(h, h->inline_data + off, h->inline_len - off, seq, &blk, why))
			return -1;
		off += DL_HEAD_ENTRY_SIZE + blk.payload_len;
		seq++;
	}
	if (seq != h->seq + 1)
		return dl_fail(why, DL_E_PAYLOAD, EINVAL);
	h->inline_count = (uint32_t)(h->seq - h->inline_seq + 1);
	return 0;
}

int dl_head_decode(const void *buf, size_t head_bytes, struct dl_head *h,
		   enum dl_err *why)
{
	const uint8_t *p = buf;

	memset(h, 0, sizeof(*h));
	if (!head_size_ok(head_bytes))
		return dl_fail(why, DL_E_SHORT, EINVAL);
	if (dl_get32(p + HOFF(magic)) != DL_HEAD_MAGIC) {
		if (dl_all_zero(p, DL_HEAD_HDR_SIZE))
			return dl_fail(why, DL_E_EMPTY, EMEDIUMTYPE);
		return dl_fail(why, DL_E_MAGIC, EMEDIUMTYPE);
	}
	h->inline_len = dl_get32(p + HOFF(inline_len));
	if (h->inline_len > head_bytes - DL_HEAD_HDR_SIZE)
		return dl_fail(why, DL_E_PAYLOAD, EINVAL);
	if (dl_get32(p + HOFF(crc32c)) != head_crc(p, h->inline_len))
		return dl_fail(why, DL_E_CRC, EBADMSG);
	h->slot_index = dl_get32(p + HOFF(slot_index));
	h->node_id = dl_get32(p + HOFF(node_id));
	h->gen_blocks = dl_get32(p + HOFF(gen_blocks));
	h->generation = dl_get64(p + HOFF(generation));
	h->seq = dl_get64(p + HOFF(seq));
	memcpy(h->volume_uuid8, p + HOFF(volume_uuid), 8);
	h->write_time_ns = dl_get64(p + HOFF(write_time_ns));
	h->inline_seq = dl_get64(p + HOFF(inline_seq));
	h->inline_data = p + DL_HEAD_HDR_SIZE;
	if (head_check(h, why) || inline_decode(h, why))
		return -1;
	if (why)
		*why = DL_OK;
	return 0;
}

int dl_head_block(const struct dl_head *h, uint64_t seq, struct dl_block *blk)
{
	uint32_t off = 0;

	if (!h->inline_count || seq < h->inline_seq || seq > h->seq) {
		errno = ENOENT;
		return -1;
	}
	for (uint64_t s = h->inline_seq; s < seq; s++)
		off += DL_HEAD_ENTRY_SIZE + dl_get32(h->inline_data + off + EOFF(payload_len));
	return entry_decode(h, h->inline_data + off, h->inline_len - off, seq, blk, NULL);
}

int dl_head_block_raw(const struct dl_head *h, uint64_t seq, uint8_t *buf,
		      uint32_t block_size)
{
	struct dl_block_builder bb;
	struct dl_block b;
	uint8_t uuid[16] = { 0 };

	if (dl_head_block(h, seq, &b))
		return -1;
	if (block_size < DL_BLOCK_SIZE_MIN || block_size > DL_BLOCK_SIZE_MAX ||
	    b.payload_len > block_size - DL_BLOCK_HDR_SIZE) {
		errno = EINVAL;
		return -1;
	}
	dl_bb_start(&bb, buf, block_size);
	memcpy(buf + DL_BLOCK_HDR_SIZE, b.payload, b.payload_len);
	bb.used += b.payload_len;
	bb.rec_count = b.rec_count;
	memcpy(uuid, h->volume_uuid8, 8);
	dl_bb_seal(&bb, h->slot_index, h->node_id, h->generation, seq, uuid,
		   h->write_time_ns);
	return 0;
}
