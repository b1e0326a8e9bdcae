/* The I/O child's device access (io_dev.c) under a FAKE clock and a FAKE
 * disk: latency accounting, the deadline word set during an I/O and
 * cleared after, error counting, the failed state with its reason and
 * the recovery, the peer-path variant that leaves the device's state
 * alone, and the buffers sized from the volume. */
#include "../unit/test_util.h"

#include "ring_writer.h"
#include "volume.h"

#include "io_dev.h"

#define BS    4096u
#define R     64u
#define SLOTS 4u
#define MS    1000000ull

/* A fake clock: it stands for CLOCK_MONOTONIC and CLOCK_REALTIME, and
 * moves only when the test (or the fake disk) moves it. */
struct fake_clock {
	uint64_t mono, real;
};

static uint64_t fake_mono(void *arg)
{
	return ((struct fake_clock *)arg)->mono;
}

static uint64_t fake_real(void *arg)
{
	return ((struct fake_clock *)arg)->real;
}

/* A fake disk: it stands for a device whose every transfer takes
 * latency_ns of the fake clock and fails with EIO while fail_reads or
 * fail_writes is set; it notes the deadline word seen during each
 * transfer.  The data go to a regular file through dl_bio_direct_ops. */
struct fake_disk {
	struct dl_bio_ops ops;         /* first: found from bio->ops       */
	struct fake_clock *clk;
	_Atomic uint64_t *deadline;
	uint64_t latency_ns;
	bool fail_reads, fail_writes;
	uint64_t seen_deadline;
	uint32_t transfers;
};

static struct fake_disk *disk_of(const struct dl_bio *bio)
{
	return (struct fake_disk *)(uintptr_t)bio->ops;
}

static int disk_open(struct dl_bio *bio, const char *path, const struct dl_bio_opts *o)
{
	return dl_bio_direct_ops.open(bio, path, o);
}

static void disk_close(struct dl_bio *bio)
{
	dl_bio_direct_ops.close(bio);
}

static int disk_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	struct fake_disk *d = disk_of(bio);

	d->transfers++;
	d->seen_deadline = atomic_load(d->deadline);
	d->clk->mono += d->latency_ns;
	if (req->op == DL_BIO_READ ? d->fail_reads : d->fail_writes) {
		dl_bio_complete(bio, req, -1, EIO);
		return 0;
	}
	return dl_bio_direct_ops.submit(bio, req);
}

static int disk_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	return dl_bio_direct_ops.wait(bio, timeout_ns);
}

struct env {
	char path[64];
	struct fake_clock clk;
	struct dl_clock clock;
	struct fake_disk disk;
	_Atomic uint64_t deadline;
	struct dld_status st;
	struct dld_io_dev dev;
	uint8_t *buf;
};

static void format(const char *path)
{
	struct dl_bio bio;
	struct dl_sb sb;
	enum dl_err why;

	test_sb(&sb, BS, SLOTS, R);
	assert_int_equal(dl_bio_open(&bio, NULL, path, NULL), 0);
	assert_int_equal(dl_volume_format(&bio, &sb, &why), 0);
	dl_bio_close(&bio);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	enum dl_err why;

	if (!e)
		return -1;
	make_temp_file(e->path, sizeof(e->path), 4u << 20);
	format(e->path);
	e->clk = (struct fake_clock){ .mono = 1000 * MS, .real = 1700000000000 * MS };
	e->clock = (struct dl_clock){ .mono_ns = fake_mono, .real_ns = fake_real, .arg = &e->clk };
	e->disk = (struct fake_disk){
		.ops = { .name = "fake", .open = disk_open, .close = disk_close,
			 .submit = disk_submit, .wait = disk_wait },
		.clk = &e->clk, .deadline = &e->deadline, .latency_ns = MS / 4,
	};
	dld_dev_init(&e->dev, &e->clock, &e->disk.ops, &e->deadline, &e->st);
	assert_int_equal(dld_dev_open(&e->dev, e->path, false, &why), 0);
	assert_int_equal(e->dev.vol.bio.ops, &e->disk.ops);   /* opened through it */
	e->buf = dl_bio_alloc((size_t)R * BS);
	assert_non_null(e->buf);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	dld_dev_close(&e->dev);
	unlink(e->path);
	free(e->buf);
	free(e);
	return 0;
}

static void test_open(void **state)
{
	struct env *e = *state;
	struct dld_io_dev d2;
	char other[64];
	enum dl_err why;

	/* The open in setup: a timed read through the fake disk. */
	assert_true(e->dev.open);
	assert_true(e->disk.transfers > 0);
	assert_int_equal(e->st.io.reads, 1);
	assert_int_equal(e->st.io.errors, 0);
	assert_int_equal(e->st.io.read_latency_us, 250 * (uint64_t)e->disk.transfers);
	assert_int_equal(e->deadline, 0);
	/* No volume there: not a device error. */
	make_temp_file(other, sizeof(other), 4u << 20);
	dld_dev_init(&d2, &e->clock, &e->disk.ops, &e->deadline, &e->st);
	assert_int_equal(dld_dev_open(&d2, other, false, &why), -1);
	assert_int_not_equal(why, DL_OK);
	assert_int_equal(e->st.io.errors, 0);
	assert_false(d2.open);
	/* No device: an error, counted. */
	unlink(other);
	assert_int_equal(dld_dev_open(&d2, other, false, &why), -1);
	assert_int_equal(why, DL_OK);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(e->st.io.errors, 1);
	dld_dev_close(&d2);
}

static void test_latency(void **state)
{
	struct env *e = *state;

	memset(&e->st.io, 0, sizeof(e->st.io));
	e->disk.latency_ns = 2 * MS;
	assert_int_equal(dld_dev_read_blocks(&e->dev, 0, 0, 4, e->buf), 0);
	assert_int_equal(e->st.io.read_latency_us, 2000);
	e->disk.latency_ns = 10 * MS;
	assert_int_equal(dld_dev_read_blocks(&e->dev, 1, 3, 1, e->buf), 0);
	assert_int_equal(e->st.io.read_latency_us, (2000 * 7 + 10000) / 8);
	e->disk.latency_ns = 4 * MS;
	assert_int_equal(dld_dev_write_blocks(&e->dev, 0, 0, 2, e->buf), 0);
	assert_int_equal(e->st.io.write_latency_us, 4000);
	assert_int_equal(e->st.io.reads, 2);
	assert_int_equal(e->st.io.writes, 1);
	assert_int_equal(e->st.io.errors, 0);
	/* A failed transfer counts as an error, not in the latency. */
	e->disk.fail_reads = true;
	e->disk.latency_ns = 100 * MS;
	assert_int_equal(dld_dev_read_blocks(&e->dev, 0, 0, 1, e->buf), -1);
	assert_int_equal(e->st.io.read_latency_us, (2000 * 7 + 10000) / 8);
	assert_int_equal(e->st.io.errors, 1);
	assert_int_equal(e->st.io.reads, 3);
}

/* While a transfer is in progress, the deadline word holds when it
 * started (the parent's stall detector reads it); after, 0. */
static void test_deadline_word(void **state)
{
	struct env *e = *state;
	struct dl_slot_hdr h;
	struct dl_sb sb;
	enum dl_err why;

	e->clk.mono = 5000 * MS;
	assert_int_equal(dld_dev_read_blocks(&e->dev, 0, 0, 1, e->buf), 0);
	assert_int_equal(e->disk.seen_deadline, 5000 * MS);
	assert_int_equal(e->deadline, 0);
	assert_int_equal(dld_dev_read_slot(&e->dev, 2, &h), 0);
	assert_int_equal(e->disk.seen_deadline, 5000 * MS + MS / 4);
	assert_int_equal(e->deadline, 0);
	e->disk.fail_writes = true;
	assert_int_equal(dld_dev_write_blocks(&e->dev, 0, 0, 1, e->buf), -1);
	assert_true(e->disk.seen_deadline > 5000 * MS);
	assert_int_equal(e->deadline, 0);
	assert_int_equal(dld_dev_read_sb(&e->dev, &sb, &why), 0);
	assert_int_equal(sb.ring_blocks, R);
	assert_int_equal(e->deadline, 0);
}

static void test_fail_and_recover(void **state)
{
	struct env *e = *state;

	dld_dev_ok(&e->dev);
	e->dev.changed = false;
	assert_int_equal(e->st.device_state, DLD_DEV_OK);
	/* A read error: counted; the state is the caller's to judge. */
	e->disk.fail_reads = true;
	assert_int_equal(dld_dev_read_blocks(&e->dev, 0, 0, 1, e->buf), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(e->st.device_state, DLD_DEV_OK);
	dld_dev_fail(&e->dev, "cannot read %s: %s", "dev", strerror(EIO));
	assert_int_equal(e->st.device_state, DLD_DEV_FAILED);
	assert_string_equal(e->st.device_error, "cannot read dev: Input/output error");
	assert_true(e->dev.changed);
	/* The next good transfer: it works again. */
	e->disk.fail_reads = false;
	e->dev.changed = false;
	assert_int_equal(dld_dev_read_blocks(&e->dev, 0, 0, 1, e->buf), 0);
	assert_int_equal(e->st.device_state, DLD_DEV_OK);
	assert_string_equal(e->st.device_error, "");
	assert_true(e->dev.changed);
	/* A failed write: only a good write clears it, not a good read. */
	e->disk.fail_writes = true;
	assert_int_equal(dld_dev_write_blocks(&e->dev, 0, 0, 1, e->buf), -1);
	assert_true(e->dev.write_failed);
	dld_dev_fail(&e->dev, "cannot write");
	assert_int_equal(dld_dev_read_blocks(&e->dev, 0, 0, 1, e->buf), 0);
	assert_int_equal(e->st.device_state, DLD_DEV_FAILED);
	assert_string_equal(e->st.device_error, "cannot write");
	e->disk.fail_writes = false;
	assert_int_equal(dld_dev_write_blocks(&e->dev, 0, 0, 1, e->buf), 0);
	assert_false(e->dev.write_failed);
	assert_int_equal(e->st.device_state, DLD_DEV_OK);
	assert_int_equal(e->st.io.errors, 2);
}

/* A peer's own device: counted with ours, our state left alone. */
static void test_path_variant(void **state)
{
	struct env *e = *state;
	struct dl_volume v;
	struct dl_slot_hdr h;
	struct dl_sb sb;
	enum dl_err why;
	uint64_t reads = e->st.io.reads, errors = e->st.io.errors;

	dld_dev_ok(&e->dev);
	assert_int_equal(dld_dev_path_open(&e->dev, &v, e->path, &why), 0);
	assert_true(v.bio.read_only);
	assert_int_equal(e->deadline, 0);
	e->clk.mono = 9000 * MS;
	assert_int_equal(dld_dev_path_read_blocks(&e->dev, &v, 1, 0, 2, e->buf), 0);
	assert_int_equal(e->disk.seen_deadline, 9000 * MS);
	assert_int_equal(e->deadline, 0);
	assert_int_equal(dld_dev_path_read_slot(&e->dev, &v, 1, &h, &why), 0);
	assert_int_equal(e->st.io.reads, reads + 2);
	e->disk.fail_reads = true;
	assert_int_equal(dld_dev_path_read_blocks(&e->dev, &v, 1, 0, 2, e->buf), -1);
	assert_int_equal(dld_dev_path_read_slot(&e->dev, &v, 1, &h, &why), -1);
	assert_int_equal(why, DL_OK);
	assert_int_equal(dld_dev_path_read_sb(&e->dev, &v, &sb, &why), -1);
	assert_int_equal(why, DL_OK);
	assert_int_equal(e->st.io.errors, errors + 2);
	assert_int_equal(e->st.device_state, DLD_DEV_OK);
	assert_int_equal(e->deadline, 0);
	e->disk.fail_reads = false;
	assert_int_equal(dld_dev_path_read_sb(&e->dev, &v, &sb, &why), 0);
	assert_int_equal(sb.slot_count, SLOTS);
	dl_volume_close(&v);
}

/* Transfers handed over together: each counted and timed, the deadline
 * word standing while any is in progress, a failure reported with the
 * first failed transfer's errno, a transfer out of the ring refused. */
static void test_batch(void **state)
{
	struct env *e = *state;
	struct dld_dev_xfer x[4];
	uint8_t *heads = dl_bio_alloc((size_t)SLOTS * e->dev.vol.sb.head_bytes);

	assert_non_null(heads);
	memset(&e->st.io, 0, sizeof(e->st.io));
	fill_pattern(e->buf, 2 * BS, 7);
	dld_dev_xfer_blocks(&e->dev, &x[0], true, 1, R - 1, 1, e->buf);
	dld_dev_xfer_blocks(&e->dev, &x[1], true, 1, 0, 1, e->buf + BS);
	e->disk.latency_ns = 3 * MS;
	e->disk.seen_deadline = 0;
	assert_int_equal(dld_dev_batch(&e->dev, x, 2), 0);
	assert_int_not_equal(e->disk.seen_deadline, 0);
	assert_int_equal(e->deadline, 0);
	assert_int_equal(e->st.io.writes, 2);
	assert_int_equal(e->st.io.write_latency_us, (3000 * 7 + 3000) / 8);
	/* Read back: the ring's last block and its first, and the heads. */
	dld_dev_xfer_blocks(&e->dev, &x[0], false, 1, 0, 1, e->buf + 2 * BS);
	dld_dev_xfer_blocks(&e->dev, &x[1], false, 1, R - 1, 1, e->buf + 3 * BS);
	dld_dev_xfer_heads(&e->dev, &x[2], SLOTS, heads);
	/* Out of the ring: refused, the others done. */
	dld_dev_xfer_blocks(&e->dev, &x[3], false, 1, R - 1, 2, e->buf);
	assert_int_equal(dld_dev_batch(&e->dev, x, 4), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(x[0].rc, 0);
	assert_int_equal(x[1].rc, 0);
	assert_int_equal(x[2].rc, 0);
	assert_int_equal(x[3].rc, -1);
	assert_memory_equal(e->buf + 2 * BS, e->buf + BS, BS);
	assert_memory_equal(e->buf + 3 * BS, e->buf, BS);
	assert_int_equal(e->st.io.reads, 4);
	assert_int_equal(e->st.io.errors, 1);
	/* A device error: that transfer's errno, the state left to the caller. */
	e->disk.fail_writes = true;
	dld_dev_xfer_blocks(&e->dev, &x[0], false, 2, 0, 1, e->buf);
	dld_dev_xfer_blocks(&e->dev, &x[1], true, 2, 0, 1, e->buf);
	assert_int_equal(dld_dev_batch(&e->dev, x, 2), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(x[0].rc, 0);
	assert_int_equal(x[1].rc, -1);
	assert_true(e->dev.write_failed);
	assert_int_equal(e->deadline, 0);
	free(heads);
}

static void test_buffers(void **state)
{
	struct env *e = *state;
	uint32_t one = dl_writer_blocks_for(BS, 1, DL_DGRAM_MAX);
	uint32_t many = dl_writer_blocks_for(BS, 200, DL_DGRAM_MAX);

	assert_true(many > one);
	/* At least one largest datagram for every peer. */
	assert_int_equal(dld_dev_alloc(&e->dev, 1, 2), 0);
	assert_int_equal(e->dev.max_batch, one);
	assert_non_null(e->dev.ring);
	assert_non_null(e->dev.wbuf);
	assert_int_equal((uintptr_t)e->dev.ring % DL_BIO_ALIGN, 0);
	/* More peers: it grows; fewer: it stays. */
	assert_int_equal(dld_dev_resize(&e->dev, 200), 0);
	assert_int_equal(e->dev.max_batch, many < R ? many : R);
	assert_int_equal(dld_dev_resize(&e->dev, 1), 0);
	assert_int_equal(e->dev.max_batch, many < R ? many : R);
	memset(e->dev.wbuf, 0xa5, (size_t)e->dev.max_batch * BS);   /* all of it ours */
	memset(e->dev.ring, 0x5a, (size_t)R * BS);
	dld_dev_close(&e->dev);
	/* The tunable, but never more than a ring. */
	assert_int_equal(dld_dev_open(&e->dev, e->path, false, &(enum dl_err){ DL_OK }), 0);
	assert_int_equal(dld_dev_alloc(&e->dev, 1, one + 3), 0);
	assert_int_equal(e->dev.max_batch, one + 3);
	dld_dev_close(&e->dev);
	assert_int_equal(dld_dev_open(&e->dev, e->path, false, &(enum dl_err){ DL_OK }), 0);
	assert_int_equal(dld_dev_alloc(&e->dev, 1, 100000), 0);
	assert_int_equal(e->dev.max_batch, R);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_and_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_variant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
