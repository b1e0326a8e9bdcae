/* Fuzz target: dl_rec_decode, the framing of one record.
 *
 * Input: the record bytes, exactly allocated.
 * Invariants of an accepted record: it fits in the input, its padded
 * size is a multiple of 8 that covers header, destinations and data, the
 * fragment lies inside the datagram with flags that match its position,
 * and the builder encodes the same header, destinations and data. */
#include "config.h"

#include <string.h>

#include "block.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_block_builder bb;
	struct dl_rec r;
	enum dl_err why = DL_E_MAX;
	uint32_t rec_size = 0;
	uint16_t dst[DL_DEST_MAX];
	uint8_t *buf, *blk;
	size_t dst_pad;
	int rc;

	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = dl_rec_decode(buf, size, &r, &rec_size, &why);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(why < DL_E_MAX);
	FUZZ_CHECK((rc == 0) == (why == DL_OK));
	if (rc == 0) {
		dst_pad = DL_ALIGN8(2u * r.dst_count);
		FUZZ_CHECK(rec_size <= size);
		FUZZ_CHECK(rec_size % 8 == 0);
		FUZZ_CHECK(rec_size == DL_REC_HDR_SIZE + dst_pad + DL_ALIGN8(r.frag_len));
		FUZZ_CHECK(r.dst == buf + DL_REC_HDR_SIZE);
		FUZZ_CHECK(r.data == r.dst + dst_pad);
		FUZZ_CHECK(r.data + r.frag_len <= buf + size);
		FUZZ_CHECK(r.dgram_len >= 1 && r.dgram_len <= DL_DGRAM_MAX);
		FUZZ_CHECK(r.frag_len >= 1 && r.frag_offset + (uint64_t)r.frag_len <= r.dgram_len);
		FUZZ_CHECK(!(r.flags & DL_REC_FIRST) == !(r.frag_offset == 0));
		FUZZ_CHECK(!(r.flags & DL_REC_LAST) == !(r.frag_offset + r.frag_len == r.dgram_len));
		FUZZ_CHECK(r.dst_count >= 1 && r.dst_count <= DL_DEST_MAX);
		for (uint32_t i = 0; i < r.dst_count; i++) {
			dst[i] = dl_get16(r.dst + 2 * i);
			FUZZ_CHECK(dst[i] != 0 && dl_rec_has_dest(&r, dst[i]));
		}
		/* Re-encode into a block big enough for the largest record. */
		blk = calloc(1, DL_BLOCK_HDR_SIZE + rec_size);
		FUZZ_CHECK(blk != NULL);
		dl_bb_start(&bb, blk, DL_BLOCK_HDR_SIZE + rec_size);
		FUZZ_CHECK(dl_bb_add(&bb, dst, r.dst_count, r.data, r.frag_len, r.dgram_len,
				     r.frag_offset, r.dgram_id) == 0);
		FUZZ_CHECK(bb.used == DL_BLOCK_HDR_SIZE + rec_size);
		FUZZ_CHECK(!memcmp(blk + DL_BLOCK_HDR_SIZE, buf, DL_REC_HDR_SIZE));
		FUZZ_CHECK(!memcmp(blk + DL_BLOCK_HDR_SIZE + DL_REC_HDR_SIZE, r.dst,
				   2u * r.dst_count));
		FUZZ_CHECK(!memcmp(blk + DL_BLOCK_HDR_SIZE + DL_REC_HDR_SIZE + dst_pad, r.data,
				   r.frag_len));
		free(blk);
	}
	free(buf);
	return 0;
}
