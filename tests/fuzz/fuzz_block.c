/* Fuzz target: dl_block_decode, then iteration of the records with
 * dl_rec_next.
 *
 * Input: mode byte, then the block.  Mode bits 0-1 choose the block size
 * (512 << n); the block is the rest of the input, zero-padded or cut to
 * that size, in an exact-size buffer.  Bit 2 recomputes the CRC so that
 * mutations reach the header and record checks behind it.
 * Invariants of an accepted block: its records iterate to exactly
 * rec_count and payload_len, every record lies inside the payload and
 * satisfies the framing rules, and rebuilding the block with the builder
 * from the decoded records gives a block that decodes to the same header
 * and records. */
#include "config.h"

#include <string.h>

#include "block.h"
#include "fuzz_util.h"

static void check_rec(const struct dl_block *b, uint32_t start, uint32_t end,
		      const struct dl_rec *r)
{
	const uint8_t *lo = b->payload + start, *hi = b->payload + end;

	FUZZ_CHECK(end > start && end <= b->payload_len);
	FUZZ_CHECK((end - start) % 8 == 0);
	FUZZ_CHECK(end - start == dl_rec_size(r->dst_count, r->frag_len));
	FUZZ_CHECK(r->type == DL_REC_DATAGRAM);
	FUZZ_CHECK(r->dst_count >= 1 && r->dst_count <= DL_DEST_MAX);
	FUZZ_CHECK(r->dgram_len >= 1 && r->dgram_len <= DL_DGRAM_MAX);
	FUZZ_CHECK(r->frag_len >= 1 && r->frag_offset + (uint64_t)r->frag_len <= r->dgram_len);
	FUZZ_CHECK(!(r->flags & DL_REC_FIRST) == !(r->frag_offset == 0));
	FUZZ_CHECK(!(r->flags & DL_REC_LAST) == !(r->frag_offset + r->frag_len == r->dgram_len));
	FUZZ_CHECK(r->dst >= lo && r->dst + 2u * r->dst_count <= hi);
	FUZZ_CHECK(r->data >= r->dst + 2u * r->dst_count && r->data + r->frag_len <= hi);
	for (uint32_t i = 0; i < r->dst_count; i++) {
		uint16_t id = dl_get16(r->dst + 2 * i);

		FUZZ_CHECK(id != 0);
		FUZZ_CHECK(dl_rec_has_dest(r, id) == 1);
	}
	FUZZ_CHECK(dl_rec_has_dest(r, 0) == 0);
}

static void check_rebuild(const uint8_t *buf, uint32_t bs, const struct dl_block *b)
{
	struct dl_block_builder bb;
	struct dl_block b2;
	struct dl_rec r, r2;
	uint32_t off = 0, off2 = 0;
	uint16_t dst[DL_DEST_MAX];
	uint8_t *copy = malloc(bs);
	uint8_t uuid[16] = { 0 };

	FUZZ_CHECK(copy != NULL);
	dl_bb_start(&bb, copy, bs);
	while (dl_rec_next(b, &off, &r, NULL) == 1) {
		for (uint32_t i = 0; i < r.dst_count; i++)
			dst[i] = dl_get16(r.dst + 2 * i);
		FUZZ_CHECK(dl_bb_add(&bb, dst, r.dst_count, r.data, r.frag_len, r.dgram_len,
				     r.frag_offset, r.dgram_id) == 0);
	}
	memcpy(uuid, b->volume_uuid8, 8);
	dl_bb_seal(&bb, b->slot_index, b->node_id, b->generation, b->seq, uuid,
		   b->write_time_ns);
	FUZZ_CHECK(dl_block_decode(copy, bs, &b2, NULL) == 0);
	FUZZ_CHECK(b2.slot_index == b->slot_index && b2.node_id == b->node_id &&
		   b2.generation == b->generation && b2.seq == b->seq &&
		   !memcmp(b2.volume_uuid8, b->volume_uuid8, 8) &&
		   b2.payload_len == b->payload_len && b2.rec_count == b->rec_count &&
		   b2.write_time_ns == b->write_time_ns);
	/* The header fields the builder writes are the input's. */
	FUZZ_CHECK(memcmp(copy, buf, offsetof(struct dl_block_hdr_disk, crc32c)) == 0);
	off = 0;
	while (dl_rec_next(b, &off, &r, NULL) == 1) {
		FUZZ_CHECK(dl_rec_next(&b2, &off2, &r2, NULL) == 1);
		FUZZ_CHECK(off == off2);
		FUZZ_CHECK(r.flags == r2.flags && r.dst_count == r2.dst_count &&
			   r.frag_len == r2.frag_len && r.dgram_len == r2.dgram_len &&
			   r.frag_offset == r2.frag_offset && r.dgram_id == r2.dgram_id);
		FUZZ_CHECK(!memcmp(r.dst, r2.dst, 2u * r.dst_count));
		FUZZ_CHECK(!memcmp(r.data, r2.data, r.frag_len));
	}
	FUZZ_CHECK(dl_rec_next(&b2, &off2, &r2, NULL) == 0);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_block b;
	struct dl_rec r;
	enum dl_err why = DL_E_MAX;
	uint32_t bs, off = 0, prev, n = 0;
	uint8_t *buf;
	int rc;

	if (size < 1)
		return 0;
	bs = DL_BLOCK_SIZE_MIN << (data[0] & 3u);
	buf = calloc(1, bs);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1 < bs ? size - 1 : bs);
	if (data[0] & 4u)
		fuzz_fix_block_crc(buf, bs);

	rc = dl_block_decode(buf, bs, &b, &why);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(why < DL_E_MAX);
	FUZZ_CHECK((rc == 0) == (why == DL_OK));
	if (rc == 0) {
		FUZZ_CHECK(b.payload == buf + DL_BLOCK_HDR_SIZE);
		FUZZ_CHECK(b.payload_len <= bs - DL_BLOCK_HDR_SIZE);
		FUZZ_CHECK(b.seq != 0 && b.generation != 0);
		FUZZ_CHECK(b.seq < UINT64_C(1) << 63 && b.generation < UINT64_C(1) << 63);
		FUZZ_CHECK(b.node_id >= 1 && b.node_id <= DL_NODE_ID_MAX);
		FUZZ_CHECK(b.slot_index < DL_SLOTS_MAX);
		for (;;) {
			prev = off;
			rc = dl_rec_next(&b, &off, &r, &why);
			FUZZ_CHECK(rc == 0 || rc == 1);
			if (rc == 0)
				break;
			check_rec(&b, prev, off, &r);
			n++;
		}
		FUZZ_CHECK(n == b.rec_count);
		FUZZ_CHECK(off == b.payload_len);
		check_rebuild(buf, bs, &b);
	}
	free(buf);
	return 0;
}
