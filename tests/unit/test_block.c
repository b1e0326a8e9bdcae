/* Block and record framing: round trips, validation, destination sets. */
#include "test_util.h"

#include "block.h"
#include "crc32c.h"
#include "le.h"

static uint8_t blk[4096];
static uint8_t uuid[16];

static void build(void)
{
	struct dl_block_builder bb;
	static const uint16_t dst1[] = { 2 };
	static const uint16_t dst3[] = { 2, 3, 9 };
	uint8_t data[300];

	test_uuid(uuid, 2);
	fill_pattern(data, sizeof(data), 5);
	dl_bb_start(&bb, blk, sizeof(blk));
	assert_int_equal(dl_bb_add(&bb, dst1, 1, data, 100, 100, 0, 1), 0);
	assert_int_equal(dl_bb_add(&bb, dst3, 3, data, 300, 300, 0, 2), 0);
	assert_int_equal(dl_bb_add(&bb, dst1, 1, data, 50, 1000, 0, 3), 0);  /* first fragment */
	dl_bb_seal(&bb, 1, 4, 2, 77, uuid, 123);
}

static void reseal(void)
{
	uint32_t c;
	static const uint8_t zero[4];

	c = dl_crc32c(0, blk, 60);
	c = dl_crc32c(c, zero, 4);
	c = dl_crc32c(c, blk + 64, sizeof(blk) - 64);
	dl_put32(blk + 60, c);
}

static void expect(enum dl_err e)
{
	struct dl_block b;
	enum dl_err why = DL_OK;

	assert_int_equal(dl_block_decode(blk, sizeof(blk), &b, &why), -1);
	assert_int_equal(why, e);
}

static void test_round_trip(void **state)
{
	struct dl_block b;
	struct dl_rec rec;
	enum dl_err why;
	uint32_t off = 0;
	uint8_t data[300];

	(void)state;
	build();
	fill_pattern(data, sizeof(data), 5);
	assert_int_equal(dl_block_decode(blk, sizeof(blk), &b, &why), 0);
	assert_int_equal(b.seq, 77);
	assert_int_equal(b.generation, 2);
	assert_int_equal(b.node_id, 4);
	assert_int_equal(b.slot_index, 1);
	assert_int_equal(b.rec_count, 3);
	assert_int_equal(b.write_time_ns, 123);
	assert_int_equal(dl_rec_next(&b, &off, &rec, &why), 1);
	assert_int_equal(rec.flags, DL_REC_FIRST | DL_REC_LAST);
	assert_int_equal(rec.frag_len, 100);
	assert_memory_equal(rec.data, data, 100);
	assert_true(dl_rec_has_dest(&rec, 2));
	assert_false(dl_rec_has_dest(&rec, 3));
	assert_int_equal(dl_rec_next(&b, &off, &rec, &why), 1);
	assert_int_equal(rec.dst_count, 3);
	assert_true(dl_rec_has_dest(&rec, 9));
	assert_memory_equal(rec.data, data, 300);
	assert_int_equal(dl_rec_next(&b, &off, &rec, &why), 1);
	assert_int_equal(rec.flags, DL_REC_FIRST);
	assert_int_equal(rec.dgram_len, 1000);
	assert_int_equal(dl_rec_next(&b, &off, &rec, &why), 0);
}

static void test_errors(void **state)
{
	struct dl_block b;
	struct dl_block_builder bb;
	enum dl_err why;
	static const uint16_t dst[] = { 2 };
	uint8_t big[5000] = { 0 };
	size_t r0 = 64;  /* first record header */

	(void)state;
	memset(blk, 0, sizeof(blk));
	expect(DL_E_EMPTY);
	build();
	blk[3000] ^= 1;
	expect(DL_E_CRC);
	build();
	memset(blk + 512, 0, sizeof(blk) - 512);  /* torn: first sector only */
	expect(DL_E_CRC);
	build();
	dl_put32(blk, 0);
	expect(DL_E_MAGIC);

	build();
	dl_put64(blk + 24, 0);
	reseal();
	expect(DL_E_SEQ);
	build();
	dl_put32(blk + 8, 0);
	reseal();
	expect(DL_E_NODE_ID);
	build();
	dl_put32(blk + 40, 5000);
	reseal();
	expect(DL_E_PAYLOAD);
	build();
	dl_put32(blk + 44, 2);
	reseal();
	expect(DL_E_PAYLOAD);
	build();
	blk[r0] = 7;
	reseal();
	expect(DL_E_REC_TYPE);
	build();
	blk[r0 + 1] = DL_REC_LAST;  /* last, but offset 0 and short */
	reseal();
	expect(DL_E_REC_FLAGS);
	build();
	dl_put16(blk + r0 + 2, 0);
	reseal();
	expect(DL_E_REC_DST);
	build();
	dl_put16(blk + r0 + 24, 0);  /* destination node 0 */
	reseal();
	expect(DL_E_REC_DST);
	build();
	dl_put32(blk + r0 + 4, 4000);  /* frag_len beyond datagram */
	reseal();
	expect(DL_E_REC_LEN);
	build();
	dl_put32(blk + r0 + 8, 70000);
	dl_put32(blk + r0 + 4, 70000);
	reseal();
	expect(DL_E_REC_LEN);

	/* Builder limits. */
	dl_bb_start(&bb, blk, sizeof(blk));
	assert_int_equal(dl_bb_add(&bb, dst, 1, big, sizeof(big), sizeof(big), 0, 1), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(dl_bb_add(&bb, dst, 0, big, 10, 10, 0, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dl_bb_room(&bb, 1), 4096 - 64 - 24 - 8);
	assert_int_equal(dl_bb_add(&bb, dst, 1, big, dl_bb_room(&bb, 1), 5000, 0, 1), 0);
	assert_int_equal(dl_bb_room(&bb, 1), 0);
	dl_bb_seal(&bb, 0, 1, 1, 1, uuid, 0);
	assert_int_equal(dl_block_decode(blk, sizeof(blk), &b, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
