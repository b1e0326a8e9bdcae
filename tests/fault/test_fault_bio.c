/* The ring writer/reader and the volume layer on a failing disk (the
 * fault-injecting block I/O over a regular file in /var/tmp): EIO on
 * write and read, short writes, torn block writes (head or tail landing,
 * reported or silent), random bit flips in ring blocks, torn slot header
 * writes, and the reproducibility of the seeded fault plans. */
#include "../unit/test_util.h"

#include <time.h>

#include "block.h"
#include "fault_bio.h"
#include "le.h"
#include "ring_reader.h"
#include "ring_writer.h"
#include "volume.h"

#define BS    4096u
#define R     64u
#define SLOTS 4u
#define SECT  512u

#define WRITER_ID 1u
#define READER_ID 2u
#define MAX_GOT   1024u

struct env {
	char path[64];
	struct fault_bio fb;
	struct dl_volume v;            /* opened through the fault bio */
	struct dl_writer w;
	struct dl_reader r;
	uint8_t *scratch;              /* aligned, R blocks */
	uint8_t *ringbuf;              /* aligned, R blocks */
	uint32_t got_n;
	uint32_t got_tag[MAX_GOT];
};

static uint8_t pat(uint32_t tag, uint32_t i)
{
	return (uint8_t)(tag * 31u + i * 7u + (i >> 8));
}

static void deliver(void *ctx, uint32_t src, const uint8_t *data, uint32_t len)
{
	struct env *e = ctx;
	uint32_t tag;

	/* Whatever the disk did, a datagram is delivered whole and intact. */
	assert_int_equal(src, WRITER_ID);
	assert_true(len >= 4 && len <= DL_DGRAM_MAX);
	memcpy(&tag, data, 4);
	for (uint32_t i = 4; i < len; i++)
		assert_int_equal(data[i], pat(tag, i));
	assert_true(e->got_n < MAX_GOT);
	e->got_tag[e->got_n++] = tag;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct dl_bio bio;
	struct dl_sb sb;
	enum dl_err why;

	if (!e)
		return -1;
	make_temp_file(e->path, sizeof(e->path), 4u << 20);
	test_sb(&sb, BS, SLOTS, R);
	assert_int_equal(dl_bio_open(&bio, NULL, e->path, NULL), 0);
	assert_int_equal(dl_volume_format(&bio, &sb, &why), 0);
	dl_bio_close(&bio);

	fault_bio_init(&e->fb, NULL);
	assert_int_equal(dl_volume_open(&e->v, e->path, fault_bio_ops(&e->fb), NULL, &why), 0);
	assert_int_equal(e->v.bio.sector_size, SECT);
	e->scratch = dl_bio_alloc((size_t)R * BS);
	e->ringbuf = dl_bio_alloc((size_t)R * BS);
	assert_non_null(e->scratch);
	assert_non_null(e->ringbuf);
	assert_int_equal(dl_writer_open(&e->w, &e->v.sb, 0, WRITER_ID, NULL, NULL), 0);
	assert_int_equal(dl_reader_init(&e->r, &e->v.sb, 0, READER_ID), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	dl_reader_free(&e->r);
	dl_volume_close(&e->v);
	unlink(e->path);
	free(e->scratch);
	free(e->ringbuf);
	free(e);
	return 0;
}

/* Pack one datagram tagged `tag` of len bytes into scratch; returns the
 * first sequence and sets *blocks. */
static uint64_t pack(struct env *e, uint32_t tag, uint32_t len, uint32_t *blocks)
{
	static uint8_t data[DL_DGRAM_MAX];
	static const uint16_t to_reader[] = { READER_ID };
	struct dl_dgram d = { .dst = to_reader, .dst_count = 1, .data = data, .len = len };
	uint64_t first = e->w.next_seq;
	size_t done;

	memcpy(data, &tag, 4);
	for (uint32_t i = 4; i < len; i++)
		data[i] = pat(tag, i);
	assert_int_equal(dl_writer_pack(&e->w, &d, 1, &done, e->scratch, R, blocks, 1), 0);
	assert_int_equal(done, 1);
	return first;
}

/* Write packed blocks to their ring positions (split at the ring end).
 * Returns 0, or -1 with errno from the first failed write. */
static int put_blocks(struct env *e, uint64_t first, uint32_t blocks)
{
	uint32_t k = 0;

	while (k < blocks) {
		uint32_t idx = (uint32_t)((first + k) % R);
		uint32_t n = blocks - k < R - idx ? blocks - k : R - idx;

		if (dl_volume_write_blocks(&e->v, 0, idx, n, e->scratch + (size_t)k * BS))
			return -1;
		k += n;
	}
	return 0;
}

static int send_dgram(struct env *e, uint32_t tag, uint32_t len)
{
	uint32_t blocks;
	uint64_t first = pack(e, tag, len, &blocks);

	return put_blocks(e, first, blocks);
}

/* One poll the way the daemon does it, reading the device. */
static void poll_once(struct env *e)
{
	uint32_t idx = dl_reader_next_index(&e->r);
	int resync = 0;

	assert_int_equal(dl_volume_read_blocks(&e->v, 0, idx, R - idx, e->ringbuf), 0);
	dl_reader_poll(&e->r, e->ringbuf, R - idx, deliver, e, &resync);
	if (resync) {
		assert_int_equal(dl_volume_read_blocks(&e->v, 0, 0, R, e->ringbuf), 0);
		dl_reader_resync(&e->r, e->ringbuf, 0, deliver, e);
	}
}

static void drain(struct env *e)
{
	for (int i = 0; i < 12; i++)
		poll_once(e);
}

static void read_block(struct env *e, uint32_t idx, uint8_t *out)
{
	assert_int_equal(dl_volume_read_blocks(&e->v, 0, idx, 1, e->ringbuf), 0);
	memcpy(out, e->ringbuf, BS);
}

/* EIO on write: reported with errno, nothing lands, nothing is delivered;
 * the same blocks written again (the daemon's retry) arrive once. */
static void test_write_eio(void **state)
{
	struct env *e = *state;
	static uint8_t blk[BS];
	uint32_t blocks;
	uint64_t first;

	drain(e);
	assert_int_equal(send_dgram(e, 1, 1000), 0);
	fault_bio_set_plan(&e->fb, &(struct fault_plan){
		.write = { .kind = FAULT_EIO, .count = 1 } });
	first = pack(e, 2, 9000, &blocks);
	assert_int_equal(blocks, 3);
	errno = 0;
	assert_int_equal(put_blocks(e, first, blocks), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(e->fb.st.write_faults, 1);
	/* Nothing of the failed write is on the medium. */
	for (uint32_t k = 0; k < blocks; k++) {
		read_block(e, (uint32_t)((first + k) % R), blk);
		assert_true(dl_all_zero(blk, BS));
	}
	drain(e);
	assert_int_equal(e->got_n, 1);
	assert_int_equal(e->r.st.torn_retries, 0);
	/* The rule has run out (count 1): the retry lands. */
	assert_int_equal(put_blocks(e, first, blocks), 0);
	assert_int_equal(send_dgram(e, 3, 10), 0);
	drain(e);
	assert_int_equal(e->got_n, 3);
	assert_int_equal(e->got_tag[1], 2);
	assert_int_equal(e->got_tag[2], 3);
	assert_int_equal(e->r.st.lost_blocks, 0);

	/* After N: the first 2 writes pass, then every one fails. */
	fault_bio_set_plan(&e->fb, &(struct fault_plan){
		.write = { .kind = FAULT_EIO, .after = 2 } });
	assert_int_equal(send_dgram(e, 4, 10), 0);
	assert_int_equal(send_dgram(e, 5, 10), 0);
	for (int i = 0; i < 5; i++) {
		errno = 0;
		assert_int_equal(send_dgram(e, 6, 10), -1);
		assert_int_equal(errno, EIO);
	}
	fault_bio_clear(&e->fb);
	drain(e);
	assert_int_equal(e->got_n, 5);
}

/* EIO on read: reported with errno by every layer, including open. */
static void test_read_eio(void **state)
{
	struct env *e = *state;
	struct dl_slot_hdr h;
	struct dl_volume v2;
	struct fault_bio fb2;
	enum dl_err why = DL_E_MAX;

	fault_bio_set_plan(&e->fb, &(struct fault_plan){ .read = { .kind = FAULT_EIO } });
	errno = 0;
	assert_int_equal(dl_volume_read_blocks(&e->v, 0, 0, 4, e->ringbuf), -1);
	assert_int_equal(errno, EIO);
	errno = 0;
	assert_int_equal(dl_volume_read_slot(&e->v, 1, &h, &why), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(why, DL_OK);
	fault_bio_clear(&e->fb);
	assert_int_equal(dl_volume_read_slot(&e->v, 1, &h, &why), 0);

	/* A short read is a failed read too. */
	fault_bio_set_plan(&e->fb, &(struct fault_plan){
		.read = { .kind = FAULT_SHORT, .sectors = 3 } });
	errno = 0;
	assert_int_equal(dl_volume_read_blocks(&e->v, 0, 0, 1, e->ringbuf), -1);
	assert_int_equal(errno, EIO);
	fault_bio_clear(&e->fb);

	fault_bio_init(&fb2, NULL);
	fault_bio_set_plan(&fb2, &(struct fault_plan){ .read = { .kind = FAULT_EIO } });
	errno = 0;
	assert_int_equal(dl_volume_open(&v2, e->path, fault_bio_ops(&fb2), NULL, &why), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(why, DL_OK);
	assert_int_equal(fb2.st.read_faults, 1);
}

/* A short write: the first sectors land, EIO is reported; the reader
 * sees a torn block and never delivers it; the retry arrives. */
static void test_short_write(void **state)
{
	struct env *e = *state;
	static uint8_t blk[BS];
	uint32_t blocks;
	uint64_t first;

	drain(e);
	fault_bio_set_plan(&e->fb, &(struct fault_plan){
		.write = { .kind = FAULT_SHORT, .sectors = 3, .count = 1 } });
	first = pack(e, 7, 3000, &blocks);
	assert_int_equal(blocks, 1);
	errno = 0;
	assert_int_equal(put_blocks(e, first, 1), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(e->fb.st.short_writes, 1);
	read_block(e, (uint32_t)(first % R), blk);
	assert_memory_equal(blk, e->scratch, 3 * SECT);
	assert_true(dl_all_zero(blk + 3 * SECT, BS - 3 * SECT));
	poll_once(e);
	assert_int_equal(e->got_n, 0);
	assert_int_equal(e->r.st.torn_retries, 1);
	assert_int_equal(put_blocks(e, first, 1), 0);
	drain(e);
	assert_int_equal(e->got_n, 1);
	assert_int_equal(e->got_tag[0], 7);
	assert_int_equal(e->r.st.torn_skipped, 0);
}

/* A torn block write, silent or reported, head or tail landing: never
 * delivered, counted, and the link carries on with the following blocks. */
static void torn_case(struct env *e, uint32_t sectors, bool tail, bool success)
{
	uint64_t skipped = e->r.st.torn_skipped, retries = e->r.st.torn_retries;
	uint32_t base = e->got_n, tag0 = 1000 + e->got_n;

	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(send_dgram(e, tag0 + i, 3000), 0);
	fault_bio_set_plan(&e->fb, &(struct fault_plan){
		.write = { .kind = FAULT_TORN, .count = 1, .sectors = sectors,
			   .torn_tail = tail, .torn_success = success } });
	errno = 0;
	assert_int_equal(send_dgram(e, tag0 + 3, 3000), success ? 0 : -1);
	if (!success)
		assert_int_equal(errno, EIO);
	poll_once(e);
	for (uint32_t i = 4; i < 8; i++)
		assert_int_equal(send_dgram(e, tag0 + i, 3000), 0);
	drain(e);
	assert_int_equal(e->got_n, base + 7);
	for (uint32_t i = 0; i < 7; i++)
		assert_int_equal(e->got_tag[base + i], tag0 + (i < 3 ? i : i + 1));
	assert_int_equal(e->r.st.torn_skipped, skipped + 1);
	assert_true(e->r.st.torn_retries > retries);
}

static void test_torn_block(void **state)
{
	struct env *e = *state;

	drain(e);
	torn_case(e, 2, false, true);      /* head lands, device says done  */
	torn_case(e, 5, false, false);     /* head lands, EIO               */
	assert_int_equal(e->fb.st.torn, 2);
	/* Once the ring has been written, a torn write whose first sector
	 * did not land leaves the old header over the new tail. */
	while (e->w.next_seq <= R + 4)
		assert_int_equal(send_dgram(e, 999, 64), 0);
	drain(e);
	torn_case(e, 6, true, true);
	torn_case(e, 1, true, false);
	assert_int_equal(e->r.st.lost_blocks, 0);
}

/* On a fresh ring, a torn write whose first sector did not land leaves
 * a block that looks never written while the blocks after it are valid:
 * the reader must skip it, not wait a whole lap for the writer.  (Also
 * covered above: a tail that equals what was there, so the old lap's
 * block is still valid where the new one is due.) */
static void test_torn_head_lost_fresh(void **state)
{
	struct env *e = *state;

	drain(e);
	torn_case(e, 4, true, true);
	assert_int_equal(e->r.st.lost_blocks, 0);
}

/* Random bit flips in ring blocks on the medium: never delivered, each
 * corrupt block counted; the intact ones all arrive, in order. */
static void test_bit_flips(void **state)
{
	struct env *e = *state;
	uint64_t rng = 0x5eed1234abcdull;
	bool bad[40] = { false };
	uint32_t nbad = 0, first_idx = (uint32_t)(e->w.next_seq % R);
	int fd;

	drain(e);
	for (uint32_t i = 0; i < 40; i++)
		assert_int_equal(send_dgram(e, i, 100 + 97 * i), 0);
	fd = open(e->path, O_RDWR);
	assert_true(fd >= 0);
	for (uint32_t n = 0; n < 12; n++) {
		uint32_t i, bit;
		uint64_t off;
		uint8_t byte;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		i = (uint32_t)(rng % 40);
		bit = (uint32_t)((rng >> 8) % (BS * 8u));
		off = dl_sb_block_offset(&e->v.sb, 0, (first_idx + i) % R) + bit / 8;
		assert_int_equal(pread(fd, &byte, 1, (off_t)off), 1);
		byte ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(pwrite(fd, &byte, 1, (off_t)off), 1);
		if (!bad[i])
			nbad++;
		bad[i] = true;
	}
	close(fd);
	assert_true(nbad >= 2);
	for (uint32_t i = 0; i < 40; i++) {
		struct dl_block b;
		enum dl_err why;
		static uint8_t blk[BS];

		read_block(e, (first_idx + i) % R, blk);
		assert_int_equal(dl_block_decode(blk, BS, &b, &why) == 0, !bad[i]);
	}
	for (int i = 0; i < 3; i++)
		drain(e);
	assert_int_equal(e->got_n, 40 - nbad);
	for (uint32_t i = 0, k = 0; i < 40; i++)
		if (!bad[i])
			assert_int_equal(e->got_tag[k++], i);
	assert_int_equal(e->r.st.torn_skipped, nbad);
	assert_int_equal(e->r.st.lost_blocks, 0);
}

/* A torn slot header write leaves the previous copy in force, unless the
 * header's bytes (4.5 of its 8 sectors) all landed. */
static void test_torn_slot_header(void **state)
{
	struct env *e = *state;
	struct dl_slot_hdr h, cur, got;
	uint64_t hdr_off = dl_sb_hdr_offset(&e->v.sb, 2, 0);
	uint32_t slot;
	enum dl_err why;

	assert_int_equal(dl_volume_claim(&e->v, 5, "node-five", &slot, &h), 0);
	assert_int_equal(slot, 0);
	/* Slot 2, whose headers the window covers. */
	assert_int_equal(dl_volume_claim(&e->v, 3, "node-three", &slot, &h), 0);
	assert_int_equal(slot, 2);
	for (int tail = 0; tail < 2; tail++) {
		for (uint32_t k = 0; k < 8; k++) {
			for (int success = 0; success < 2; success++) {
				bool lands = !tail && k >= 5;
				int rc;

				assert_int_equal(dl_volume_read_slot(&e->v, 2, &cur, &why), 0);
				h = cur;
				h.generation = cur.generation + 1;
				h.last_seq = cur.last_seq + 10;
				fault_bio_set_plan(&e->fb, &(struct fault_plan){
					.write = { .kind = FAULT_TORN, .count = 1, .sectors = k,
						   .torn_tail = tail, .torn_success = success },
					.window_off = hdr_off, .window_len = 2ull * e->v.sb.region_bytes });
				errno = 0;
				rc = dl_volume_write_slot(&e->v, &h);
				assert_int_equal(rc, success ? 0 : -1);
				if (!success)
					assert_int_equal(errno, EIO);
				fault_bio_clear(&e->fb);
				assert_int_equal(dl_volume_read_slot(&e->v, 2, &got, &why), 0);
				if (lands) {
					assert_int_equal(got.hdr_seq, cur.hdr_seq + 1);
					assert_int_equal(got.generation, cur.generation + 1);
				} else {
					assert_int_equal(got.hdr_seq, cur.hdr_seq);
					assert_int_equal(got.generation, cur.generation);
					assert_int_equal(got.last_seq, cur.last_seq);
				}
				assert_int_equal(got.node_id, 3);
				assert_string_equal(got.node_name, "node-three");
			}
		}
	}
	/* The other slots were outside the window. */
	assert_int_equal(dl_volume_find_node(&e->v, 5, &slot, &h), 0);
	assert_int_equal(slot, 0);
	/* A healthy write after all that is read back. */
	assert_int_equal(dl_volume_read_slot(&e->v, 2, &cur, &why), 0);
	h = cur;
	h.generation = 77;
	assert_int_equal(dl_volume_write_slot(&e->v, &h), 0);
	assert_int_equal(dl_volume_read_slot(&e->v, 2, &got, &why), 0);
	assert_int_equal(got.generation, 77);
}

/* A probabilistic plan hits about the share it says, the same operations
 * for the same seed, others for another seed; delays are applied. */
static void test_probability_and_delay(void **state)
{
	struct env *e = *state;
	bool fail[2][200];
	uint32_t nfail = 0, differ = 0;
	struct timespec t0, t1;
	uint64_t seeds[2] = { 42, 43 };

	memset(e->scratch, 0x5a, BS);
	for (int run = 0; run < 3; run++) {
		int s = run == 1 ? 1 : 0;

		fault_bio_set_plan(&e->fb, &(struct fault_plan){
			.seed = seeds[s], .write = { .kind = FAULT_EIO, .ppm = 300000 } });
		for (uint32_t i = 0; i < 200; i++) {
			bool f = dl_volume_write_blocks(&e->v, 3, i % R, 1, e->scratch) != 0;

			if (f)
				assert_int_equal(errno, EIO);
			if (run == 2)
				assert_int_equal(f, fail[0][i]);    /* reproducible */
			else
				fail[s][i] = f;
		}
	}
	for (uint32_t i = 0; i < 200; i++) {
		nfail += fail[0][i];
		differ += fail[0][i] != fail[1][i];
	}
	assert_in_range(nfail, 20, 120);
	assert_true(differ > 0);

	fault_bio_set_plan(&e->fb, &(struct fault_plan){ .write_delay_ns = 20000000 });
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(dl_volume_write_blocks(&e->v, 3, 0, 1, e->scratch), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec) >=
		    20000000ll);
	fault_bio_clear(&e->fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_head_lost_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bit_flips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_slot_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probability_and_delay, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
