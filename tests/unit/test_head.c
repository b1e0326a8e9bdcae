/* Heads (doc/format.md, "Head area"): round trips with inline blocks, the
 * newest blocks kept when not all fit, torn and impossible heads refused,
 * and 512-byte and 4 KiB heads. */
#include "test_util.h"

#include "crc32c.h"
#include "head.h"
#include "le.h"

#define HOFF(f) offsetof(struct dl_head_disk, f)

static uint8_t blkbuf[4][4096];
static struct dl_block blocks[4];
static uint8_t head[4096];

/* Block i: seq 10 + i, one record of len bytes to node 2 (len 0: void). */
static void make_block(unsigned i, uint32_t len)
{
	struct dl_block_builder bb;
	uint8_t uuid[16], data[4096];
	uint16_t dst = 2;
	enum dl_err why;

	test_uuid(uuid, 1);
	fill_pattern(data, len, i);
	memset(blkbuf[i], 0, sizeof(blkbuf[i]));
	dl_bb_start(&bb, blkbuf[i], 4096);
	if (len)
		assert_int_equal(dl_bb_add(&bb, &dst, 1, data, len, len, 0, i + 1), 0);
	dl_bb_seal(&bb, 3, 7, 5, 10 + i, uuid, 1000 + i);
	assert_int_equal(dl_block_decode(blkbuf[i], 4096, &blocks[i], &why), 0);
}

static void make_head(struct dl_head *h, uint64_t seq)
{
	uint8_t uuid[16];

	test_uuid(uuid, 1);
	memset(h, 0, sizeof(*h));
	h->slot_index = 3;
	h->node_id = 7;
	h->generation = 5;
	h->seq = seq;
	h->gen_blocks = seq > 3 ? 3 : (uint32_t)seq;
	memcpy(h->volume_uuid8, uuid, 8);
	h->write_time_ns = 123456789;
}

static void reseal(uint8_t *p)
{
	static const uint8_t zero[4];
	uint32_t c, len = dl_get32(p + HOFF(inline_len));

	/* An impossible inline_len (the decoder refuses it before the CRC):
	 * the seal covers what the 4096-byte head holds. */
	if (len > 4096 - 64)
		len = 4096 - 64;
	c = dl_crc32c(0, p, HOFF(crc32c));
	c = dl_crc32c(c, zero, 4);
	dl_put32(p + HOFF(crc32c), dl_crc32c(c, p + 64, len));
}

static void expect(const uint8_t *p, size_t len, enum dl_err e, int err)
{
	struct dl_head out;
	enum dl_err why = DL_OK;

	assert_int_equal(dl_head_decode(p, len, &out, &why), -1);
	assert_int_equal(why, e);
	assert_int_equal(errno, err);
}

static void assert_same_block(const struct dl_block *a, const struct dl_block *b)
{
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->generation, b->generation);
	assert_int_equal(a->payload_len, b->payload_len);
	assert_int_equal(a->rec_count, b->rec_count);
	assert_memory_equal(a->payload, b->payload, a->payload_len);
}

static void test_roundtrip_inline(void **state)
{
	struct dl_head h, out;
	struct dl_block blk;
	struct dl_rec rec;
	enum dl_err why;
	uint32_t off = 0;

	(void)state;
	make_block(0, 100);
	make_block(1, 0);              /* a void block inlines too */
	make_block(2, 300);
	make_head(&h, 12);
	assert_int_equal(dl_head_encode(head, 4096, &h, blocks, 3, &why), 3);
	assert_int_equal(dl_head_decode(head, 4096, &out, &why), 0);
	assert_int_equal(why, DL_OK);
	assert_int_equal(out.seq, 12);
	assert_int_equal(out.generation, 5);
	assert_int_equal(out.node_id, 7);
	assert_int_equal(out.slot_index, 3);
	assert_int_equal(out.write_time_ns, 123456789);
	assert_int_equal(out.gen_blocks, 3);
	assert_int_equal(out.inline_seq, 10);
	assert_int_equal(out.inline_count, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(dl_head_block(&out, 10 + i, &blk), 0);
		assert_same_block(&blk, &blocks[i]);
	}
	assert_int_equal(dl_head_block(&out, 12, &blk), 0);
	assert_int_equal(dl_rec_next(&blk, &off, &rec, &why), 1);
	assert_int_equal(rec.frag_len, 300);
	assert_true(dl_rec_has_dest(&rec, 2));
	for (unsigned i = 0; i < 3; i++) {      /* rebuilt as ring blocks */
		uint8_t raw[4096];
		struct dl_block rb;

		assert_int_equal(dl_head_block_raw(&out, 10 + i, raw, 4096), 0);
		assert_int_equal(dl_block_decode(raw, 4096, &rb, &why), 0);
		assert_same_block(&rb, &blocks[i]);
		assert_int_equal(rb.slot_index, 3);
		assert_int_equal(rb.node_id, 7);
		assert_memory_equal(raw, blkbuf[i], 48);  /* header up to the time */
		assert_memory_equal(raw + 64, blkbuf[i] + 64, 4096 - 64);
	}
	assert_int_equal(dl_head_block(&out, 9, &blk), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dl_head_block(&out, 13, &blk), -1);
}

/* Only the newest blocks that fit are inline; a 512-byte head (a 512-byte
 * block size) holds less than a 4 KiB one. */
static void test_newest_that_fit(void **state)
{
	struct dl_head h, out;
	struct dl_block blk;
	enum dl_err why;

	(void)state;
	make_block(0, 2500);
	make_block(1, 1500);
	make_block(2, 200);
	make_head(&h, 12);
	assert_int_equal(dl_head_encode(head, 4096, &h, blocks, 3, &why), 2);
	assert_int_equal(dl_head_decode(head, 4096, &out, &why), 0);
	assert_int_equal(out.inline_seq, 11);
	assert_int_equal(dl_head_block(&out, 10, &blk), -1);
	assert_int_equal(dl_head_block(&out, 11, &blk), 0);
	assert_same_block(&blk, &blocks[1]);
	assert_int_equal(dl_head_encode(head, 512, &h, blocks, 3, &why), 1);
	assert_int_equal(dl_head_decode(head, 512, &out, &why), 0);
	assert_int_equal(out.inline_seq, 12);
	make_block(2, 1000);           /* the newest does not fit: none inline */
	assert_int_equal(dl_head_encode(head, 512, &h, blocks, 3, &why), 0);
	assert_int_equal(dl_head_decode(head, 512, &out, &why), 0);
	assert_int_equal(out.seq, 12);
	assert_int_equal(out.inline_seq, 0);
	assert_int_equal(out.inline_count, 0);
	assert_int_equal(dl_head_block(&out, 12, &blk), -1);
	/* nothing committed yet */
	make_head(&h, 0);
	assert_int_equal(dl_head_encode(head, 512, &h, NULL, 0, &why), 0);
	assert_int_equal(dl_head_decode(head, 512, &out, &why), 0);
	assert_int_equal(out.seq, 0);
}

/* A torn head (any byte of what the CRC covers changed, e.g. a 4 KiB head
 * whose second 512-byte sector did not land) is refused. */
static void test_torn(void **state)
{
	struct dl_head h;
	enum dl_err why;
	uint8_t copy[4096];

	(void)state;
	make_block(0, 1000);
	make_head(&h, 10);
	assert_int_equal(dl_head_encode(head, 4096, &h, blocks, 1, &why), 1);
	for (size_t at = 0; at < 64 + 8 + 1000; at += 97) {
		if (at < 4)            /* the magic: another error */
			continue;
		memcpy(copy, head, sizeof(copy));
		copy[at] ^= 0x10;
		expect(copy, 4096, DL_E_CRC, EBADMSG);
	}
	memcpy(copy, head, sizeof(copy));
	memset(copy + 512, 0, 512);    /* the second sector is the old one */
	expect(copy, 4096, DL_E_CRC, EBADMSG);
	memcpy(copy, head, sizeof(copy));
	copy[3000] ^= 1;               /* beyond the inline bytes: not covered */
	assert_int_equal(dl_head_decode(copy, 4096, &h, &why), 0);
	memset(copy, 0, sizeof(copy));
	expect(copy, 4096, DL_E_EMPTY, EMEDIUMTYPE);
	copy[0] = 1;
	expect(copy, 4096, DL_E_MAGIC, EMEDIUMTYPE);
	expect(head, 100, DL_E_SHORT, EINVAL);
}

/* Checksummed heads with impossible fields. */
static void test_impossible(void **state)
{
	struct dl_head h;
	enum dl_err why;
	uint8_t copy[4096];

	(void)state;
	make_block(0, 64);
	make_head(&h, 10);
	assert_int_equal(dl_head_encode(head, 4096, &h, blocks, 1, &why), 1);
#define BREAK(stmt, e) do { memcpy(copy, head, 4096); stmt; reseal(copy); \
		expect(copy, 4096, e, EINVAL); } while (0)
	BREAK(dl_put32(copy + HOFF(gen_blocks), 11), DL_E_SEQ);  /* > seq */
	BREAK(dl_put32(copy + HOFF(gen_blocks), 0), DL_E_SEQ);   /* inline: older */
	BREAK(dl_put32(copy + HOFF(slot_index), DL_SLOTS_MAX), DL_E_SLOT_INDEX);
	BREAK(dl_put32(copy + HOFF(node_id), 0), DL_E_NODE_ID);
	BREAK(dl_put64(copy + HOFF(generation), 0), DL_E_SEQ);
	BREAK(dl_put64(copy + HOFF(seq), UINT64_C(1) << 63), DL_E_SEQ);
	BREAK(dl_put64(copy + HOFF(inline_seq), 11), DL_E_SEQ);
	BREAK(dl_put64(copy + HOFF(inline_seq), 0), DL_E_SEQ);
	BREAK(dl_put64(copy + HOFF(inline_seq), 9), DL_E_PAYLOAD);
	BREAK(dl_put64(copy + HOFF(seq), 11), DL_E_PAYLOAD);
	BREAK(dl_put32(copy + HOFF(inline_len), 4096), DL_E_PAYLOAD);
	BREAK(dl_put32(copy + HOFF(inline_len), 8 + 64 + 8), DL_E_PAYLOAD);
	BREAK(dl_put32(copy + 64 + 4, 2), DL_E_PAYLOAD);    /* rec_count */
	BREAK(dl_put32(copy + 64, 4000), DL_E_PAYLOAD);     /* payload_len */
	BREAK(copy[64 + 8] = 9, DL_E_REC_TYPE);
	BREAK(dl_put32(copy + HOFF(inline_len), 0), DL_E_SEQ);
#undef BREAK
	/* the encoder refuses what the decoder would */
	h.node_id = 0;
	assert_int_equal(dl_head_encode(head, 4096, &h, blocks, 1, &why), -1);
	assert_int_equal(why, DL_E_NODE_ID);
	make_head(&h, 0);
	assert_int_equal(dl_head_encode(head, 4096, &h, blocks, 1, &why), -1);
	assert_int_equal(why, DL_E_PAYLOAD);
	make_head(&h, 10);             /* more blocks than this generation's */
	h.gen_blocks = 1;
	assert_int_equal(dl_head_encode(head, 4096, &h, blocks, 2, &why), -1);
	assert_int_equal(why, DL_E_PAYLOAD);
	assert_int_equal(dl_head_encode(head, 100, &h, NULL, 0, &why), -1);
	assert_int_equal(why, DL_E_SHORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_inline),
		cmocka_unit_test(test_newest_that_fit),
		cmocka_unit_test(test_torn),
		cmocka_unit_test(test_impossible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
