/* Incarnations in memory (doc/format.md "Incarnations"): a superseded
 * writer's late block (a killed or abandoned I/O child whose write lands
 * after its successor started) is never delivered, nor taken as the
 * ring's newest block, by a reader that knows the writer's generation
 * from its slot header (min_generation). */
#include "test_util.h"

#include "block.h"
#include "ring_reader.h"
#include "ring_scan.h"
#include "ring_writer.h"

#define BS 4096u
#define R  64u

static struct dl_sb sb;
static uint8_t *ring;
static uint8_t *scratch;
static uint32_t tags[256];
static uint32_t ntags;

static void deliver(void *ctx, uint32_t src, const uint8_t *data, uint32_t len)
{
	(void)ctx;
	(void)src;
	(void)len;
	assert_true(ntags < 256);
	memcpy(&tags[ntags++], data, 4);
}

static int setup(void **state)
{
	(void)state;
	test_sb(&sb, BS, 4, R);
	ring = calloc(R, BS);
	scratch = calloc(R, BS);
	ntags = 0;
	return ring && scratch ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ring);
	free(scratch);
	return 0;
}

static const uint16_t to2[] = { 2 };

/* Pack one 64-byte datagram tagged tag into a block; land it in the ring
 * now (late == NULL) or keep it for later (a write still in flight). */
static void put(struct dl_writer *w, uint32_t tag, uint8_t *late)
{
	uint8_t data[64];
	struct dl_dgram d = { .dst = to2, .dst_count = 1, .data = data, .len = sizeof(data) };
	uint64_t seq = w->next_seq;
	uint32_t blocks;
	size_t done;

	memset(data, 0x5a, sizeof(data));
	memcpy(data, &tag, 4);
	assert_int_equal(dl_writer_pack(w, &d, 1, &done, scratch, 1, &blocks, 1), 0);
	assert_int_equal(blocks, 1);
	memcpy(late ? late : ring + (seq % R) * BS, scratch, BS);
}

static void poll_once(struct dl_reader *r, uint64_t hint)
{
	uint32_t idx = dl_reader_next_index(r);
	int resync = 0;

	dl_reader_poll(r, ring + (size_t)idx * BS, R - idx, deliver, NULL, &resync);
	if (resync)
		dl_reader_resync(r, ring, hint, deliver, NULL);
}

static bool delivered(uint32_t tag)
{
	for (uint32_t i = 0; i < ntags; i++)
		if (tags[i] == tag)
			return true;
	return false;
}

static void test_late_block_of_predecessor(void **state)
{
	static uint8_t late[BS];
	struct dl_writer p, s;
	struct dl_reader r, fresh;
	struct dl_slot_hdr hdr;
	uint64_t hint;

	(void)state;
	assert_int_equal(dl_writer_open(&p, &sb, 0, 1, NULL, ring), 0);
	dl_reader_init(&r, &sb, 0, 2);
	r.torn_wait_ns = 50000000ull;
	poll_once(&r, 0);
	for (uint32_t i = 1; i <= 3; i++)
		put(&p, i, NULL);
	put(&p, 99, late);             /* seq 4, in flight when p is killed */
	poll_once(&r, 0);
	assert_int_equal(ntags, 3);

	/* The successor: a higher generation, written in its header first
	 * (hint: the header's last sequence), which the readers take as
	 * their floor. */
	dl_slot_hdr_init_free(&hdr, sb.uuid, 0, 0);
	hdr.generation = p.generation;
	hdr.last_seq = 3;
	assert_int_equal(dl_writer_open(&s, &sb, 0, 1, &hdr, ring), 0);
	assert_int_equal(s.generation, p.generation + 1);
	assert_int_equal(s.next_seq, 4);
	hint = s.next_seq - 1;
	r.min_generation = s.generation;

	/* A reader that attaches while the late block is visible and the
	 * successor wrote nothing: it starts after the header's last
	 * sequence, the late block is not its newest. */
	memcpy(ring + 4 * BS, late, BS);
	dl_reader_init(&fresh, &sb, 0, 2);
	fresh.min_generation = s.generation;
	fresh.torn_wait_ns = 50000000ull;
	poll_once(&fresh, hint);
	assert_true(fresh.synced);
	assert_int_equal(fresh.next_seq, 4);
	poll_once(&r, hint);
	poll_once(&fresh, hint);
	assert_false(delivered(99));
	assert_true(r.st.stale > 0 && fresh.st.stale > 0);

	/* The successor writes seq 4 (10) and 5 (11); the late block lands
	 * again over 4: refused, given up as torn once 5 is there; 11 is
	 * delivered, 99 never. */
	put(&s, 10, NULL);
	memcpy(ring + 4 * BS, late, BS);
	put(&s, 11, NULL);
	for (int i = 0; i < 6; i++) {
		r.now_ns += 20000000ull;
		fresh.now_ns += 20000000ull;
		poll_once(&r, hint);
		poll_once(&fresh, hint);
	}
	assert_false(delivered(99));
	assert_false(delivered(10));
	assert_int_equal(ntags, 3 + 2);
	assert_int_equal(tags[3], 11);
	assert_int_equal(tags[4], 11);
	assert_int_equal(r.st.torn_skipped, 1);
	assert_int_equal(r.generation, s.generation);
	dl_reader_free(&r);
	dl_reader_free(&fresh);
}

/* After a take-over the successor continues the sequence: where its next
 * block goes, the ring holds its predecessor's older lap.  That is
 * nothing new, not a late write: never counted stale (a lab restart
 * counted 165 stale blocks, one per poll, when the floor was checked
 * before the lap). */
static void test_older_lap_of_predecessor(void **state)
{
	struct dl_writer p, s;
	struct dl_reader r;
	struct dl_slot_hdr hdr;
	uint32_t i, got;

	(void)state;
	assert_int_equal(dl_writer_open(&p, &sb, 0, 1, NULL, ring), 0);
	dl_reader_init(&r, &sb, 0, 2);
	r.torn_wait_ns = 50000000ull;
	poll_once(&r, 0);
	for (i = 1; i <= R + 5; i++) {
		put(&p, i, NULL);
		poll_once(&r, 0);
	}
	got = ntags;
	assert_int_equal(got, R + 5);
	dl_slot_hdr_init_free(&hdr, sb.uuid, 0, 0);
	hdr.generation = p.generation;
	hdr.last_seq = p.next_seq - 1;
	assert_int_equal(dl_writer_open(&s, &sb, 0, 1, &hdr, ring), 0);
	r.min_generation = s.generation;
	for (i = 0; i < 5; i++) {
		r.now_ns += 20000000ull;
		poll_once(&r, hdr.last_seq);
	}
	assert_int_equal(ntags, got);
	assert_int_equal(r.st.stale, 0);
	assert_int_equal(r.st.torn_skipped, 0);
	put(&s, 500, NULL);
	poll_once(&r, hdr.last_seq);
	assert_int_equal(ntags, got + 1);
	assert_int_equal(tags[got], 500);
	assert_int_equal(r.st.stale, 0);
	dl_reader_free(&r);
}

static void test_scan_floor(void **state)
{
	struct dl_writer p, s;
	struct dl_ring_newest n = { .count = 0 };
	const struct dl_ring_filter f = {
		.block_size = BS, .ring_blocks = R, .slot_index = 0, .uuid = sb.uuid,
		.in_place = true, .min_generation = 2,
	};
	struct dl_slot_hdr hdr;

	(void)state;
	dl_writer_open(&p, &sb, 0, 1, NULL, ring);
	put(&p, 1, NULL);
	dl_slot_hdr_init_free(&hdr, sb.uuid, 0, 0);
	hdr.generation = 1;
	hdr.last_seq = 1;
	dl_writer_open(&s, &sb, 0, 1, &hdr, ring);
	put(&s, 2, NULL);
	p.next_seq = 10;
	put(&p, 3, NULL);              /* generation 1, the highest sequence */
	dl_ring_newest_scan(ring, 0, R, &f, &n);
	assert_int_equal(n.count, 1);
	assert_int_equal(n.generation, 2);
	assert_int_equal(n.seq, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_late_block_of_predecessor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_lap_of_predecessor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_floor, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
