/* Real loop devices with 512- and 4096-byte logical sectors: O_DIRECT
 * geometry, format round trip, a torn 4 KiB block on a 512-byte-sector
 * device, and a writer and a reader in two processes.  Needs root and
 * losetup: skips (77) otherwise, which fails under CI=true. */
#include "test_util.h"

#include <sys/wait.h>
#include <time.h>

#include "block.h"
#include "ring_reader.h"
#include "ring_writer.h"
#include "volume.h"

struct loopdev {
	char file[64];
	char dev[64];
};

static int loop_attach(struct loopdev *l, unsigned sector)
{
	char cmd[256];
	FILE *p;

	make_temp_file(l->file, sizeof(l->file), 16u << 20);
	snprintf(cmd, sizeof(cmd), "losetup --find --show --sector-size %u %s 2>/dev/null",
		 sector, l->file);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(l->dev, sizeof(l->dev), p)) {
		pclose(p);
		unlink(l->file);
		return -1;
	}
	pclose(p);
	l->dev[strcspn(l->dev, "\n")] = 0;
	return 0;
}

static void loop_detach(struct loopdev *l)
{
	char cmd[128];

	if (l->dev[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d %s", l->dev);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: %s failed\n", cmd);
	}
	unlink(l->file);
	l->dev[0] = 0;
}

static struct loopdev loop512, loop4k;

static int setup(void **state)
{
	(void)state;
	if (loop_attach(&loop512, 512) || loop_attach(&loop4k, 4096))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	loop_detach(&loop512);
	loop_detach(&loop4k);
	return 0;
}

static void format_dev(const char *dev, uint32_t bs, uint32_t slots, uint32_t ring,
		       int expect_rc, enum dl_err expect_why)
{
	struct dl_bio bio;
	struct dl_sb sb;
	enum dl_err why = DL_OK;

	test_sb(&sb, bs, slots, ring);
	assert_int_equal(dl_bio_open(&bio, NULL, dev, NULL), 0);
	assert_true(bio.direct);
	assert_true(bio.is_blockdev);
	assert_int_equal(dl_volume_format(&bio, &sb, &why), expect_rc);
	assert_int_equal(why, expect_why);
	dl_bio_close(&bio);
}

static void test_geometry(void **state)
{
	struct dl_bio bio;
	struct dl_volume v;
	enum dl_err why;
	void *buf;

	(void)state;
	assert_int_equal(dl_bio_open(&bio, NULL, loop4k.dev, NULL), 0);
	assert_int_equal(bio.sector_size, 4096);
	assert_int_equal(bio.size, 16u << 20);
	/* A 512-byte transfer on a 4096-byte-sector device is refused. */
	buf = dl_bio_alloc(4096);
	assert_int_equal(dl_bio_read(&bio, buf, 512, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dl_bio_read(&bio, buf, 4096, 4096), 0);
	free(buf);
	dl_bio_close(&bio);
	assert_int_equal(dl_bio_open(&bio, NULL, loop512.dev, NULL), 0);
	assert_int_equal(bio.sector_size, 512);
	dl_bio_close(&bio);

	/* Block size below the sector size: refused with a named reason. */
	format_dev(loop4k.dev, 512, 2, 512, -1, DL_E_SECTOR);
	format_dev(loop4k.dev, 4096, 4, 64, 0, DL_OK);
	assert_int_equal(dl_volume_open(&v, loop4k.dev, NULL, NULL, &why), 0);
	assert_int_equal(v.sb.block_size, 4096);
	dl_volume_close(&v);
	format_dev(loop512.dev, 512, 4, 512, 0, DL_OK);
	assert_int_equal(dl_volume_open(&v, loop512.dev, NULL, NULL, &why), 0);
	assert_int_equal(v.sb.block_size, 512);
	dl_volume_close(&v);
}

static void test_torn_on_512(void **state)
{
	struct dl_volume v;
	struct dl_writer w;
	struct dl_block b;
	enum dl_err why;
	static const uint16_t to2[] = { 2 };
	uint8_t data[3000];
	struct dl_dgram d = { .dst = to2, .dst_count = 1, .data = data, .len = sizeof(data) };
	uint8_t *blk1 = dl_bio_alloc(4096), *blk2 = dl_bio_alloc(4096), *rd = dl_bio_alloc(4096);
	uint32_t blocks;
	size_t done;

	(void)state;
	format_dev(loop512.dev, 4096, 2, 64, 0, DL_OK);
	assert_int_equal(dl_volume_open(&v, loop512.dev, NULL, NULL, &why), 0);
	dl_writer_open(&w, &v.sb, 0, 1, NULL, NULL);
	fill_pattern(data, sizeof(data), 1);
	dl_writer_pack(&w, &d, 1, &done, blk1, 1, &blocks, 1);
	fill_pattern(data, sizeof(data), 2);
	w.next_seq = 1;
	dl_writer_pack(&w, &d, 1, &done, blk2, 1, &blocks, 1);
	assert_int_equal(dl_volume_write_blocks(&v, 0, 1, 1, blk1), 0);
	/* Only the first 512-byte sector of the second write lands. */
	assert_int_equal(dl_bio_write(&v.bio, blk2, 512, dl_sb_block_offset(&v.sb, 0, 1)), 0);
	assert_int_equal(dl_volume_read_blocks(&v, 0, 1, 1, rd), 0);
	assert_int_equal(dl_block_decode(rd, 4096, &b, &why), -1);
	assert_int_equal(why, DL_E_CRC);
	assert_int_equal(dl_volume_write_blocks(&v, 0, 1, 1, blk2), 0);
	assert_int_equal(dl_volume_read_blocks(&v, 0, 1, 1, rd), 0);
	assert_int_equal(dl_block_decode(rd, 4096, &b, &why), 0);
	free(blk1);
	free(blk2);
	free(rd);
	dl_volume_close(&v);
}

#define N_DGRAMS 2000u

struct rx {
	uint32_t n;
	uint32_t bad;
	uint32_t last_tag;
};

static void rx_deliver(void *ctx, uint32_t src, const uint8_t *data, uint32_t len)
{
	struct rx *rx = ctx;
	uint8_t expect[DL_DGRAM_MAX];
	uint32_t tag;

	memcpy(&tag, data, 4);
	fill_pattern(expect, len, tag);
	memcpy(expect, &tag, 4);
	if (src != 1 || len != 100 + (tag * 7919u) % 9000u || memcmp(expect, data, len) ||
	    (rx->n && tag != rx->last_tag + 1))
		rx->bad++;
	rx->last_tag = tag;
	rx->n++;
}

static void writer_process(const char *dev)
{
	struct dl_volume v;
	struct dl_writer w;
	enum dl_err why;
	static const uint16_t to2[] = { 2 };
	static uint8_t data[DL_DGRAM_MAX];
	uint8_t *out;
	uint32_t slot;
	struct dl_slot_hdr h;

	if (dl_volume_open(&v, dev, NULL, NULL, &why) ||
	    dl_volume_claim(&v, 1, "writer", &slot, &h) ||
	    dl_writer_open(&w, &v.sb, slot, 1, &h, NULL))
		_exit(2);
	out = dl_bio_alloc((size_t)v.sb.ring_blocks * v.sb.block_size);
	for (uint32_t tag = 0; tag < N_DGRAMS; tag++) {
		uint32_t len = 100 + (tag * 7919u) % 9000u, blocks;
		struct dl_dgram d = { .dst = to2, .dst_count = 1, .data = data, .len = len };
		uint64_t first = w.next_seq;
		size_t done;
		struct timespec pause = { 0, 200000 };

		fill_pattern(data, len, tag);
		memcpy(data, &tag, 4);
		if (dl_writer_pack(&w, &d, 1, &done, out, v.sb.ring_blocks / 2, &blocks, 1))
			_exit(3);
		/* At most two writes: up to the end of the ring, then the rest. */
		for (uint32_t k = 0; k < blocks;) {
			uint32_t idx = (uint32_t)((first + k) % v.sb.ring_blocks);
			uint32_t n = blocks - k;

			if (n > v.sb.ring_blocks - idx)
				n = v.sb.ring_blocks - idx;
			if (dl_volume_write_blocks(&v, slot, idx, n, out + (size_t)k * v.sb.block_size))
				_exit(4);
			k += n;
		}
		/* Pace the writer so the reader never laps (this test is
		 * about delivery, overrun is tested in memory). */
		nanosleep(&pause, NULL);
	}
	free(out);
	dl_volume_close(&v);
	_exit(0);
}

static void run_two_processes(const char *dev, uint32_t bs)
{
	struct dl_volume v;
	struct dl_reader r;
	struct rx rx = { 0 };
	enum dl_err why;
	uint8_t *ring;
	pid_t pid;
	int status, resync;
	uint32_t slot = 0;
	struct timespec start, now, pause = { 0, 100000 };

	format_dev(dev, bs, 2, bs == 512 ? 1024 : 128, 0, DL_OK);
	assert_int_equal(dl_volume_open(&v, dev, NULL, NULL, &why), 0);
	ring = dl_bio_alloc((size_t)v.sb.ring_blocks * v.sb.block_size);
	assert_int_equal(dl_reader_init(&r, &v.sb, 0, 2), 0);
	/* Attach before the writer starts, so nothing is missed. */
	assert_int_equal(dl_volume_read_blocks(&v, slot, 0, v.sb.ring_blocks, ring), 0);
	dl_reader_resync(&r, ring, 0, rx_deliver, &rx);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The writer uses none of the reader's memory: free it, so
		 * that a leak check at the child's exit (valgrind) is clean. */
		dl_reader_free(&r);
		free(ring);
		dl_volume_close(&v);
		writer_process(dev);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		uint32_t idx = dl_reader_next_index(&r), n = v.sb.ring_blocks - idx;

		if (n > 32)
			n = 32;
		assert_int_equal(dl_volume_read_blocks(&v, slot, idx, n, ring), 0);
		dl_reader_poll(&r, ring, n, rx_deliver, &rx, &resync);
		if (resync) {
			assert_int_equal(dl_volume_read_blocks(&v, slot, 0, v.sb.ring_blocks, ring), 0);
			dl_reader_resync(&r, ring, 0, rx_deliver, &rx);
		}
		if (rx.n == N_DGRAMS)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 60)
			break;
		nanosleep(&pause, NULL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	print_message("bs %u: %u datagrams, torn retries %lu, lost %lu\n", bs, rx.n,
		      (unsigned long)r.st.torn_retries, (unsigned long)r.st.lost_blocks);
	assert_int_equal(rx.n, N_DGRAMS);
	assert_int_equal(rx.bad, 0);
	assert_int_equal(r.st.lost_blocks, 0);
	assert_int_equal(r.st.torn_skipped, 0);
	dl_reader_free(&r);
	free(ring);
	dl_volume_close(&v);
}

static void test_two_processes_512(void **state)
{
	(void)state;
	run_two_processes(loop512.dev, 512);
}

static void test_two_processes_4096(void **state)
{
	(void)state;
	run_two_processes(loop4k.dev, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_geometry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_on_512, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes_512, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes_4096, setup, teardown),
	};
	struct loopdev probe;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: loop device tests need root\n");
		return TEST_SKIP;
	}
	if (loop_attach(&probe, 4096)) {
		fprintf(stderr, "SKIP: cannot attach a loop device (losetup)\n");
		return TEST_SKIP;
	}
	loop_detach(&probe);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
