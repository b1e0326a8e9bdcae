/* Fuzz target: dl_head_decode, then the inline blocks with dl_head_block
 * and dl_rec_next.
 *
 * Input: mode byte, then the head.  Mode bits 0-1 choose the head size
 * (512 << n); the head is the rest of the input, zero-padded or cut to
 * that size, in an exact-size buffer.  Bit 2 recomputes the CRC so that
 * mutations reach the field and record checks behind it.
 * Invariants of an accepted head: its fields are in range, exactly the
 * blocks inline_seq .. seq are inline and their records iterate to
 * rec_count and payload_len inside the inline bytes, and encoding the
 * decoded head with its inline blocks gives the same covered bytes. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "head.h"

static void fix_head_crc(uint8_t *p, size_t head_bytes)
{
	static const uint8_t zero[4];
	const size_t at = offsetof(struct dl_head_disk, crc32c);
	uint32_t c, len = dl_get32(p + offsetof(struct dl_head_disk, inline_len));

	if (len > head_bytes - DL_HEAD_HDR_SIZE)
		return;
	c = dl_crc32c(0, p, at);
	c = dl_crc32c(c, zero, sizeof(zero));
	dl_put32(p + at, dl_crc32c(c, p + DL_HEAD_HDR_SIZE, len));
}

static void check_block(const struct dl_head *h, const struct dl_block *b)
{
	const uint8_t *end = h->inline_data + h->inline_len;
	struct dl_rec r;
	uint32_t off = 0, n = 0;

	FUZZ_CHECK(b->payload >= h->inline_data && b->payload + b->payload_len <= end);
	FUZZ_CHECK(b->generation == h->generation && b->node_id == h->node_id);
	while (dl_rec_next(b, &off, &r, NULL) == 1) {
		FUZZ_CHECK(r.data + r.frag_len <= b->payload + b->payload_len);
		n++;
	}
	FUZZ_CHECK(n == b->rec_count && off == b->payload_len);
}

static void check_reencode(const uint8_t *buf, size_t hb, const struct dl_head *h)
{
	struct dl_block *blocks = calloc(h->inline_count + 1, sizeof(*blocks));
	uint8_t *copy = malloc(hb);
	struct dl_head h2;

	FUZZ_CHECK(blocks && copy);
	for (uint32_t i = 0; i < h->inline_count; i++)
		FUZZ_CHECK(dl_head_block(h, h->inline_seq + i, &blocks[i]) == 0);
	FUZZ_CHECK(dl_head_encode(copy, hb, h, blocks, h->inline_count, NULL) ==
		   (int)h->inline_count);
	FUZZ_CHECK(memcmp(copy, buf, DL_HEAD_HDR_SIZE + h->inline_len) == 0);
	FUZZ_CHECK(dl_head_decode(copy, hb, &h2, NULL) == 0);
	FUZZ_CHECK(h2.seq == h->seq && h2.inline_seq == h->inline_seq &&
		   h2.inline_len == h->inline_len);
	free(copy);
	free(blocks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_head h;
	struct dl_block b;
	enum dl_err why = DL_E_MAX;
	uint32_t hb;
	uint8_t *buf;
	int rc;

	if (size < 1)
		return 0;
	hb = DL_BLOCK_SIZE_MIN << (data[0] & 3u);
	buf = calloc(1, hb);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1 < hb ? size - 1 : hb);
	if (data[0] & 4u)
		fix_head_crc(buf, hb);

	rc = dl_head_decode(buf, hb, &h, &why);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(why < DL_E_MAX);
	FUZZ_CHECK((rc == 0) == (why == DL_OK));
	if (rc == 0) {
		FUZZ_CHECK(h.generation != 0 && h.generation < UINT64_C(1) << 63);
		FUZZ_CHECK(h.seq < UINT64_C(1) << 63 && h.gen_blocks <= h.seq);
		FUZZ_CHECK(h.inline_count <= h.gen_blocks);
		FUZZ_CHECK(h.node_id >= 1 && h.node_id <= DL_NODE_ID_MAX);
		FUZZ_CHECK(h.slot_index < DL_SLOTS_MAX);
		FUZZ_CHECK(h.inline_len <= hb - DL_HEAD_HDR_SIZE);
		FUZZ_CHECK(h.inline_data == buf + DL_HEAD_HDR_SIZE);
		FUZZ_CHECK((h.inline_count == 0) == (h.inline_seq == 0));
		FUZZ_CHECK(!h.inline_count || h.inline_seq + h.inline_count - 1 == h.seq);
		for (uint32_t i = 0; i < h.inline_count; i++) {
			FUZZ_CHECK(dl_head_block(&h, h.inline_seq + i, &b) == 0);
			FUZZ_CHECK(b.seq == h.inline_seq + i);
			check_block(&h, &b);
		}
		FUZZ_CHECK(dl_head_block(&h, h.seq + 1, &b) == -1 && errno == ENOENT);
		check_reencode(buf, hb, &h);
	}
	free(buf);
	return 0;
}
