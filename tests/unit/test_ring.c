/* Ring writer and reader in memory: delivery, fragments, destination
 * sets, wrap-around, overrun, torn blocks, generation changes, restart
 * without replay, stale laps. */
#include "test_util.h"

#include "block.h"
#include "ring_reader.h"
#include "ring_writer.h"

#define BS 4096u
#define R  64u

static struct dl_sb sb;
static uint8_t *ring;
static uint8_t *scratch;

struct got {
	uint32_t n;
	uint32_t len[4096];
	uint32_t tag[4096];          /* first 4 bytes of each datagram */
	uint32_t src[4096];
};
static struct got got;

static void deliver(void *ctx, uint32_t src, const uint8_t *data, uint32_t len)
{
	struct got *g = ctx;

	assert_true(g->n < 4096);
	g->len[g->n] = len;
	memcpy(&g->tag[g->n], data, 4);
	g->src[g->n] = src;
	g->n++;
}

static int setup(void **state)
{
	(void)state;
	test_sb(&sb, BS, 4, R);
	ring = calloc(R, BS);
	scratch = calloc(R, BS);
	memset(&got, 0, sizeof(got));
	return ring && scratch ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ring);
	free(scratch);
	return 0;
}

/* Write one datagram of len bytes tagged with tag to dst; returns blocks. */
static uint32_t put(struct dl_writer *w, uint32_t tag, uint32_t len,
		    const uint16_t *dst, uint32_t ndst)
{
	static uint8_t data[DL_DGRAM_MAX];
	struct dl_dgram d = { .dst = dst, .dst_count = ndst, .data = data, .len = len };
	uint64_t first = w->next_seq;
	uint32_t blocks;
	size_t done;

	fill_pattern(data, len, tag);
	memcpy(data, &tag, 4);
	assert_int_equal(dl_writer_pack(w, &d, 1, &done, scratch, R, &blocks, 1), 0);
	assert_int_equal(done, 1);
	for (uint32_t k = 0; k < blocks; k++)
		memcpy(ring + ((first + k) % R) * BS, scratch + (size_t)k * BS, BS);
	return blocks;
}

static const uint16_t to2[] = { 2 };

/* One poll the way the daemon does it: contiguous blocks from the next
 * index to the end of the ring, then a resync when asked. */
static void poll_once(struct dl_reader *r)
{
	uint32_t idx = dl_reader_next_index(r);
	int resync = 0;

	dl_reader_poll(r, ring + (size_t)idx * BS, R - idx, deliver, &got, &resync);
	if (resync)
		dl_reader_resync(r, ring, 0, deliver, &got);
}

static void drain(struct dl_reader *r)
{
	for (int i = 0; i < 8; i++)
		poll_once(r);
}

static void test_basic(void **state)
{
	struct dl_writer w;
	struct dl_reader r;

	(void)state;
	assert_int_equal(dl_writer_open(&w, &sb, 0, 1, NULL, ring), 0);
	assert_int_equal(w.generation, 1);
	assert_int_equal(w.next_seq, 1);
	assert_int_equal(dl_reader_init(&r, &sb, 0, 2), 0);
	drain(&r);
	assert_int_equal(got.n, 0);
	put(&w, 11, 100, to2, 1);
	put(&w, 12, 1400, to2, 1);
	put(&w, 13, 1, to2, 1);
	drain(&r);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.tag[0], 11);
	assert_int_equal(got.tag[2], 13);
	assert_int_equal(got.len[1], 1400);
	assert_int_equal(got.src[0], 1);
	assert_int_equal(r.st.lost_blocks, 0);
	/* Nothing new: no duplicate on further polls (older laps ignored). */
	drain(&r);
	assert_int_equal(got.n, 3);
	dl_reader_free(&r);
}

static void test_fragments_and_destinations(void **state)
{
	struct dl_writer w;
	struct dl_reader r2, r3, r4;
	static const uint16_t to23[] = { 2, 3 };
	static const uint16_t to4[] = { 4 };
	uint32_t blocks;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	dl_reader_init(&r2, &sb, 0, 2);
	dl_reader_init(&r3, &sb, 0, 3);
	dl_reader_init(&r4, &sb, 0, 4);
	drain(&r2);
	drain(&r3);
	drain(&r4);
	blocks = put(&w, 21, DL_DGRAM_MAX, to23, 2);
	assert_int_equal(blocks, dl_writer_blocks_for(BS, 2, DL_DGRAM_MAX));
	assert_true(blocks >= 16);
	put(&w, 22, 5000, to4, 1);
	drain(&r2);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.len[0], DL_DGRAM_MAX);
	assert_int_equal(got.tag[0], 21);
	drain(&r3);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.len[1], DL_DGRAM_MAX);
	drain(&r4);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.tag[2], 22);
	assert_int_equal(got.len[2], 5000);
	/* Many datagrams packed into one block (group commit). */
	{
		static uint8_t small[200];
		struct dl_dgram d[10];
		size_t done;
		uint64_t first = w.next_seq;

		for (int i = 0; i < 10; i++) {
			uint32_t tag = 100 + (uint32_t)i;

			d[i] = (struct dl_dgram){ .dst = to23, .dst_count = 2, .data = small, .len = 200 };
			(void)tag;
		}
		memcpy(small, &(uint32_t){ 100 }, 4);
		assert_int_equal(dl_writer_pack(&w, d, 10, &done, scratch, R, &blocks, 1), 0);
		assert_int_equal(done, 10);
		assert_int_equal(blocks, 1);
		memcpy(ring + (first % R) * BS, scratch, BS);
		drain(&r3);
		assert_int_equal(got.n, 13);
	}
	dl_reader_free(&r2);
	dl_reader_free(&r3);
	dl_reader_free(&r4);
}

static void test_wrap_around(void **state)
{
	struct dl_writer w;
	struct dl_reader r;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	dl_reader_init(&r, &sb, 0, 2);
	drain(&r);
	for (uint32_t i = 0; i < 3 * R + 5; i++) {
		put(&w, i, 64, to2, 1);
		if (i % 7 == 0)
			drain(&r);
	}
	drain(&r);
	assert_int_equal(got.n, 3 * R + 5);
	for (uint32_t i = 0; i < got.n; i++)
		assert_int_equal(got.tag[i], i);
	assert_int_equal(r.st.lost_blocks, 0);
	assert_int_equal(r.st.overruns, 0);
	dl_reader_free(&r);
}

static void test_overrun(void **state)
{
	struct dl_writer w;
	struct dl_reader r;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	dl_reader_init(&r, &sb, 0, 2);
	drain(&r);
	put(&w, 0, 64, to2, 1);
	drain(&r);
	assert_int_equal(got.n, 1);
	/* The writer laps the reader: R + 10 blocks without a poll. */
	for (uint32_t i = 1; i <= R + 10; i++)
		put(&w, i, 64, to2, 1);
	drain(&r);
	assert_int_equal(r.st.overruns, 1);
	assert_int_equal(r.st.lost_blocks, 10);
	/* The newest R blocks arrive, in order, none twice. */
	assert_int_equal(got.n, 1 + R);
	for (uint32_t i = 1; i < got.n; i++)
		assert_int_equal(got.tag[i], 10 + i);
	dl_reader_free(&r);
}

static void test_torn(void **state)
{
	struct dl_writer w;
	struct dl_reader r;
	uint8_t saved[BS];
	uint64_t s;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	dl_reader_init(&r, &sb, 0, 2);
	drain(&r);
	/* A write in flight: only the first sector has landed. */
	s = w.next_seq;
	put(&w, 1, 3000, to2, 1);
	memcpy(saved, ring + (s % R) * BS, BS);
	memset(ring + (s % R) * BS + 512, 0, BS - 512);
	poll_once(&r);
	assert_int_equal(got.n, 0);
	assert_int_equal(r.st.torn_retries, 1);
	/* It completes: delivered, nothing lost. */
	memcpy(ring + (s % R) * BS, saved, BS);
	poll_once(&r);
	assert_int_equal(got.n, 1);
	assert_int_equal(r.st.torn_skipped, 0);

	/* A torn block that stays torn (the writer died mid-write) is given
	 * up after a bounded number of polls; what follows is delivered. */
	s = w.next_seq;
	put(&w, 2, 3000, to2, 1);
	memset(ring + (s % R) * BS + 1024, 0xee, BS - 1024);
	for (uint32_t i = 0; i < DL_TORN_LIMIT_DEFAULT - 1; i++)
		poll_once(&r);
	assert_int_equal(got.n, 1);
	put(&w, 3, 3000, to2, 1);
	drain(&r);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.tag[1], 3);
	assert_int_equal(r.st.torn_skipped, 1);
	dl_reader_free(&r);
}

/* With torn_wait_ns, a torn block is waited for in time, however many
 * polls find it torn: a multi-block write on an array stays half-visible
 * longer than a few polls.  It is given up (counted) once that long has
 * passed since the first poll that found it torn. */
static void test_torn_in_time(void **state)
{
	const uint64_t ms = 1000000u;
	struct dl_writer w;
	struct dl_reader r;
	uint8_t saved[BS];
	uint64_t s;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	dl_reader_init(&r, &sb, 0, 2);
	r.torn_wait_ns = 50 * ms;
	r.now_ns = 1000 * ms;
	drain(&r);
	/* Its first block is torn, its second landed: 20 fast polls over
	 * 19 ms do not give it up, and it completes. */
	s = w.next_seq;
	put(&w, 1, 3000, to2, 1);
	put(&w, 2, 3000, to2, 1);
	memcpy(saved, ring + (s % R) * BS, BS);
	memset(ring + (s % R) * BS + 512, 0, BS - 512);
	for (int i = 0; i < 20; i++, r.now_ns += ms)
		poll_once(&r);
	assert_int_equal(got.n, 0);
	assert_int_equal(r.st.torn_retries, 20);
	assert_int_equal(r.st.torn_skipped, 0);
	memcpy(ring + (s % R) * BS, saved, BS);
	poll_once(&r);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.tag[0], 1);
	assert_int_equal(got.tag[1], 2);

	/* One that stays torn: still waited for at 49 ms, given up at 50,
	 * and what follows is delivered. */
	s = w.next_seq;
	put(&w, 3, 3000, to2, 1);
	put(&w, 4, 3000, to2, 1);
	memset(ring + (s % R) * BS + 1024, 0xee, BS - 1024);
	poll_once(&r);
	r.now_ns += 49 * ms;
	poll_once(&r);
	assert_int_equal(r.st.torn_skipped, 0);
	assert_int_equal(got.n, 2);
	r.now_ns += ms;
	poll_once(&r);
	assert_int_equal(r.st.torn_skipped, 1);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.tag[2], 4);

	/* A reader that polls seldom (a stall): two polls are still needed,
	 * the first one only starts the clock. */
	s = w.next_seq;
	put(&w, 5, 3000, to2, 1);
	put(&w, 6, 3000, to2, 1);
	memset(ring + (s % R) * BS + 1024, 0xee, BS - 1024);
	r.now_ns += 5000 * ms;
	poll_once(&r);
	assert_int_equal(r.st.torn_skipped, 1);
	r.now_ns += 50 * ms;
	poll_once(&r);
	assert_int_equal(r.st.torn_skipped, 2);
	assert_int_equal(got.n, 4);
	assert_int_equal(got.tag[3], 6);
	dl_reader_free(&r);
}

static void test_generation_and_restart(void **state)
{
	struct dl_writer w, w2;
	struct dl_reader r, late;
	struct dl_slot_hdr hdr;
	uint64_t seq_before;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	dl_reader_init(&r, &sb, 0, 2);
	drain(&r);
	for (uint32_t i = 0; i < 5; i++)
		put(&w, i, 64, to2, 1);
	drain(&r);
	assert_int_equal(got.n, 5);
	/* A reader attaching now does not replay history. */
	dl_reader_init(&late, &sb, 0, 2);
	poll_once(&late);
	assert_int_equal(got.n, 5);

	/* The writer restarts (kill -9): recovery from the ring moves the
	 * generation on and continues the sequence. */
	seq_before = w.next_seq;
	dl_slot_hdr_init_free(&hdr, sb.uuid, 0, 0);
	hdr.generation = 1;
	hdr.last_seq = 2;   /* older than the ring: the ring wins */
	assert_int_equal(dl_writer_open(&w2, &sb, 0, 1, &hdr, ring), 0);
	assert_int_equal(w2.generation, 2);
	assert_int_equal(w2.next_seq, seq_before);
	/* A fragment left half-written by the old generation is dropped:
	 * write the first blocks of a big datagram only. */
	{
		uint64_t first = w.next_seq;
		uint32_t blocks = put(&w, 99, 20000, to2, 1);

		assert_true(blocks > 2);
		for (uint32_t k = 1; k < blocks; k++)
			memset(ring + ((first + k) % R) * BS, 0, BS);
		drain(&r);
		assert_int_equal(got.n, 5);
		/* The new generation overwrites from where the old left. */
		assert_int_equal(dl_writer_open(&w2, &sb, 0, 1, &hdr, ring), 0);
		assert_int_equal(w2.next_seq, first + 1);
	}
	put(&w2, 50, 64, to2, 1);
	put(&w2, 51, 64, to2, 1);
	drain(&r);
	drain(&late);
	assert_int_equal(got.n, 9);
	assert_int_equal(got.tag[5], 50);
	assert_int_equal(got.tag[6], 51);
	assert_int_equal(r.st.gen_changes, 1);
	assert_int_equal(r.st.frag_dropped, 1);
	assert_int_equal(r.st.lost_blocks, 0);
	assert_int_equal(late.generation, 2);
	dl_reader_free(&r);
	dl_reader_free(&late);
}

static void test_attach_resume_and_late_writer(void **state)
{
	struct dl_writer w;
	struct dl_reader r, late;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	for (uint32_t i = 0; i < 10; i++)
		put(&w, i, 64, to2, 1);
	/* A reader restarting after it had read up to seq 4: blocks 5..10
	 * were written while it was away; counted lost, not delivered. */
	dl_reader_init(&r, &sb, 0, 2);
	r.resume_seq = 5;
	poll_once(&r);
	assert_int_equal(got.n, 0);
	assert_int_equal(r.st.lost_blocks, 6);
	put(&w, 10, 64, to2, 1);
	drain(&r);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.tag[0], 10);

	/* A writer that started after the reader was looking: its new
	 * generation is delivered from the first block, nothing older. */
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	assert_int_equal(w.generation, 2);
	put(&w, 20, 64, to2, 1);
	put(&w, 21, 64, to2, 1);
	dl_reader_init(&late, &sb, 0, 2);
	late.attach_gen = 2;
	poll_once(&late);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.tag[1], 20);
	assert_int_equal(got.tag[2], 21);
	assert_int_equal(late.generation, 2);
	dl_reader_free(&r);
	dl_reader_free(&late);
}

/* A re-attach (the peer was removed and added back, its path reopened)
 * with attach_gen: nothing at or below attach_after_seq is delivered
 * again, what is new is, and a gap after it is counted. */
static void test_reattach(void **state)
{
	struct dl_writer w;
	struct dl_reader r, again;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	dl_reader_init(&r, &sb, 0, 2);
	r.attach_gen = w.generation;
	for (uint32_t i = 0; i < 6; i++)
		put(&w, i, 64, to2, 1);
	poll_once(&r);
	assert_int_equal(got.n, 6);
	assert_int_equal(r.next_seq, 7);
	/* Re-attached with nothing new: nothing delivered, the next is. */
	dl_reader_init(&again, &sb, 0, 2);
	again.attach_gen = w.generation;
	again.attach_after_seq = r.next_seq - 1;
	poll_once(&again);
	assert_int_equal(got.n, 6);
	put(&w, 6, 64, to2, 1);
	drain(&again);
	assert_int_equal(got.n, 7);
	assert_int_equal(got.tag[6], 6);
	dl_reader_free(&again);
	/* Re-attached after two more blocks: those two only. */
	put(&w, 7, 64, to2, 1);
	put(&w, 8, 64, to2, 1);
	dl_reader_init(&again, &sb, 0, 2);
	again.attach_gen = w.generation;
	again.attach_after_seq = 7;
	poll_once(&again);
	assert_int_equal(got.n, 9);
	assert_int_equal(got.tag[7], 7);
	assert_int_equal(got.tag[8], 8);
	assert_int_equal(again.st.lost_blocks, 0);
	dl_reader_free(&again);
	/* Away for more than a lap: the run still in the ring is delivered,
	 * the rest counted lost. */
	for (uint32_t i = 0; i < R + 5; i++)
		put(&w, 100 + i, 64, to2, 1);
	dl_reader_init(&again, &sb, 0, 2);
	again.attach_gen = w.generation;
	again.attach_after_seq = 9;
	got.n = 0;
	poll_once(&again);
	assert_int_equal(got.n + again.st.lost_blocks, R + 5);
	assert_int_equal(got.n, R);
	assert_int_equal(again.st.lost_blocks, 5);
	assert_int_equal(got.tag[got.n - 1], 100 + R + 4);
	dl_reader_free(&again);
	dl_reader_free(&r);
}

/* A write that failed is never rewritten under its sequence numbers: the
 * writer voids them (empty blocks) and goes on; a reader consumes the
 * void at once, counts it lost, and delivers what follows, whether or
 * not it had read part of the failed write while it landed. */
static void test_void_after_failed_write(void **state)
{
	struct dl_writer w;
	struct dl_reader r;
	uint64_t s;
	uint32_t n;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	dl_reader_init(&r, &sb, 0, 2);
	drain(&r);
	put(&w, 1, 64, to2, 1);
	/* A 3-block write fails: only its first block landed, and the
	 * reader read it (datagram 2 of it is not complete: nothing). */
	s = w.next_seq;
	n = put(&w, 2, 9000, to2, 1);
	assert_int_equal(n, 3);
	memset(ring + ((s + 1) % R) * BS, 0, 2 * BS);
	poll_once(&r);
	assert_int_equal(got.n, 1);
	/* Voided, then new data: delivered at once, no torn wait. */
	dl_writer_void(&w, s, n, scratch, 0);
	for (uint32_t k = 0; k < n; k++)
		memcpy(ring + ((s + k) % R) * BS, scratch + (size_t)k * BS, BS);
	put(&w, 3, 64, to2, 1);
	poll_once(&r);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.tag[1], 3);
	assert_int_equal(r.st.lost_blocks, 2);
	assert_int_equal(r.st.torn_skipped, 0);
	assert_int_equal(r.next_seq, w.next_seq);
	dl_reader_free(&r);
}

static void test_pack_limits(void **state)
{
	struct dl_writer w;
	static uint8_t data[DL_DGRAM_MAX + 1];
	struct dl_dgram d = { .dst = to2, .dst_count = 1, .data = data, .len = DL_DGRAM_MAX + 1 };
	size_t done;
	uint32_t blocks;

	(void)state;
	dl_writer_open(&w, &sb, 0, 1, NULL, ring);
	assert_int_equal(dl_writer_pack(&w, &d, 1, &done, scratch, R, &blocks, 1), -1);
	assert_int_equal(errno, EINVAL);
	d.len = DL_DGRAM_MAX;
	assert_int_equal(dl_writer_pack(&w, &d, 1, &done, scratch, 3, &blocks, 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(w.next_seq, 1);
	/* Two big datagrams with room for one: one packed, nothing torn. */
	{
		struct dl_dgram two[2] = { d, d };
		struct dl_block b;
		uint32_t need = dl_writer_blocks_for(BS, 1, DL_DGRAM_MAX);

		assert_int_equal(dl_writer_pack(&w, two, 2, &done, scratch, need + 3, &blocks, 1), 0);
		assert_int_equal(done, 1);
		assert_int_equal(blocks, need);
		for (uint32_t k = 0; k < blocks; k++)
			assert_int_equal(dl_block_decode(scratch + (size_t)k * BS, BS, &b, NULL), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments_and_destinations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_in_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_resume_and_late_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reattach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_void_after_failed_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
