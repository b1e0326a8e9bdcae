/* The newest valid block of a ring (lib/ring_scan.c): which blocks count
 * (slot, volume, place in the ring), the newest on ties, the highest
 * generation, scans in chunks. */
#include "test_util.h"

#include "block.h"
#include "ring_scan.h"

#define BS 4096u
#define R  64u

static struct dl_sb sb;
static uint8_t *ring;

static int setup(void **state)
{
	(void)state;
	test_sb(&sb, BS, 4, R);
	ring = calloc(R, BS);
	return ring ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ring);
	return 0;
}

/* Write a valid one-record block at ring index idx. */
static void put(uint32_t idx, uint32_t slot, uint32_t node, uint64_t gen, uint64_t seq,
		const uint8_t uuid[16])
{
	static const uint16_t dst[] = { 2 };
	static const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct dl_block_builder bb;
	uint8_t *buf = ring + (size_t)idx * BS;

	memset(buf, 0, BS);
	dl_bb_start(&bb, buf, BS);
	assert_int_equal(dl_bb_add(&bb, dst, 1, data, sizeof(data), sizeof(data), 0, 1), 0);
	dl_bb_seal(&bb, slot, node, gen, seq, uuid, 1000 + seq);
}

static struct dl_ring_filter filter(uint32_t slot, const uint8_t *uuid, bool in_place)
{
	return (struct dl_ring_filter){
		.block_size = BS,
		.ring_blocks = R,
		.slot_index = slot,
		.uuid = uuid,
		.in_place = in_place,
	};
}

static void test_empty_ring(void **state)
{
	struct dl_ring_filter f = filter(0, sb.uuid, true);
	struct dl_ring_newest n = { .count = 0 };

	(void)state;
	dl_ring_newest_scan(ring, 0, R, &f, &n);
	assert_int_equal(n.count, 0);
	assert_int_equal(n.seq, 0);
	assert_int_equal(n.max_generation, 0);
}

static void test_newest_and_generation(void **state)
{
	struct dl_ring_filter f = filter(1, sb.uuid, true);
	struct dl_ring_newest n = { .count = 0 };

	(void)state;
	put(1, 1, 7, 3, 1, sb.uuid);
	put(2, 1, 7, 3, 2, sb.uuid);
	put(4, 1, 9, 5, R + 4, sb.uuid);   /* newest, written by node 9 */
	put(5, 1, 7, 6, 5, sb.uuid);       /* older seq, higher generation */
	memset(ring + 6 * BS, 0xa5, 64);   /* torn: never counts */
	dl_ring_newest_scan(ring, 0, R, &f, &n);
	assert_int_equal(n.count, 4);
	assert_int_equal(n.seq, R + 4);
	assert_int_equal(n.index, 4);
	assert_int_equal(n.generation, 5);
	assert_int_equal(n.node_id, 9);
	assert_int_equal(n.write_time_ns, 1000 + R + 4);
	assert_int_equal(n.max_generation, 6);
}

static void test_filters(void **state)
{
	uint8_t other[16];
	struct dl_ring_filter f;
	struct dl_ring_newest n;

	(void)state;
	test_uuid(other, 9);
	put(1, 0, 1, 1, 1, sb.uuid);
	put(2, 0, 1, 1, 9, sb.uuid);        /* misplaced: 9 % 64 != 2 */
	put(3, 2, 1, 1, 3, sb.uuid);        /* another slot */
	put(4, 0, 1, 1, 12, other);         /* another volume, misplaced */
	/* Slot, volume and place. */
	f = filter(0, sb.uuid, true);
	memset(&n, 0, sizeof(n));
	dl_ring_newest_scan(ring, 0, R, &f, &n);
	assert_int_equal(n.count, 1);
	assert_int_equal(n.seq, 1);
	/* Slot and volume, anywhere (the writer's view). */
	f = filter(0, sb.uuid, false);
	memset(&n, 0, sizeof(n));
	dl_ring_newest_scan(ring, 0, R, &f, &n);
	assert_int_equal(n.count, 2);
	assert_int_equal(n.seq, 9);
	assert_int_equal(n.index, 2);
	/* Slot only, any volume, anywhere. */
	f = filter(0, NULL, false);
	memset(&n, 0, sizeof(n));
	dl_ring_newest_scan(ring, 0, R, &f, &n);
	assert_int_equal(n.count, 3);
	assert_int_equal(n.seq, 12);
	assert_int_equal(n.index, 4);
	/* Another slot. */
	f = filter(2, sb.uuid, true);
	memset(&n, 0, sizeof(n));
	dl_ring_newest_scan(ring, 0, R, &f, &n);
	assert_int_equal(n.count, 1);
	assert_int_equal(n.index, 3);
}

static void test_tie_keeps_first(void **state)
{
	struct dl_ring_filter f = filter(0, sb.uuid, false);
	struct dl_ring_newest n = { .count = 0 };

	(void)state;
	put(3, 0, 1, 1, 40, sb.uuid);
	put(8, 0, 2, 2, 40, sb.uuid);
	dl_ring_newest_scan(ring, 0, R, &f, &n);
	assert_int_equal(n.count, 2);
	assert_int_equal(n.index, 3);
	assert_int_equal(n.node_id, 1);
	assert_int_equal(n.max_generation, 2);
}

static void test_chunks_accumulate(void **state)
{
	struct dl_ring_filter f = filter(0, sb.uuid, true);
	struct dl_ring_newest whole = { .count = 0 }, parts = { .count = 0 };

	(void)state;
	for (uint32_t i = 0; i < R; i += 3)
		put(i, 0, 1, 1 + i, R + i, sb.uuid);
	dl_ring_newest_scan(ring, 0, R, &f, &whole);
	/* The same ring read as chunks of 5, 5 and the rest. */
	dl_ring_newest_scan(ring, 0, 5, &f, &parts);
	dl_ring_newest_scan(ring + 5 * BS, 5, 5, &f, &parts);
	dl_ring_newest_scan(ring + 10 * BS, 10, R - 10, &f, &parts);
	assert_int_equal(whole.count, 22);
	assert_int_equal(whole.seq, R + 63);
	assert_int_equal(whole.index, 63);
	assert_int_equal(whole.max_generation, 64);
	assert_memory_equal(&whole, &parts, sizeof(whole));
}

static void test_add(void **state)
{
	struct dl_ring_newest n = { .count = 0 };
	struct dl_block b;

	(void)state;
	put(5, 0, 3, 4, R + 5, sb.uuid);
	put(6, 0, 3, 2, R + 6, sb.uuid);
	assert_int_equal(dl_block_decode(ring + 5 * BS, BS, &b, NULL), 0);
	dl_ring_newest_add(&n, 5, &b);
	assert_int_equal(n.count, 1);
	assert_int_equal(n.seq, R + 5);
	assert_int_equal(n.index, 5);
	assert_int_equal(n.generation, 4);
	assert_int_equal(n.node_id, 3);
	/* A newer block of a lower generation: newest moves, the highest
	 * generation stays. */
	assert_int_equal(dl_block_decode(ring + 6 * BS, BS, &b, NULL), 0);
	dl_ring_newest_add(&n, 6, &b);
	assert_int_equal(n.count, 2);
	assert_int_equal(n.seq, R + 6);
	assert_int_equal(n.generation, 2);
	assert_int_equal(n.max_generation, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_and_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tie_keeps_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunks_accumulate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
