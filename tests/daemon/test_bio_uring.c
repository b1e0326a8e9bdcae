/* The io_uring block I/O of the I/O child (bio_uring.c), on a regular
 * file in /var/tmp: requests are queued by submit and handed to the
 * kernel together by the wait, which completes them all; data written
 * read back; a transfer that fails completes with its errno; the
 * io_engine names; the engine's choice.  Where the kernel refuses
 * io_uring (io_uring_disabled, seccomp) the test skips (no-skip-in-ci
 * fails it under CI=true). */
#include "../unit/test_util.h"

#include "bio_uring.h"

#define LEN (64u * 4096u)

struct env {
	char path[64];
	struct dl_bio bio;
	uint8_t *a, *b;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	make_temp_file(e->path, sizeof(e->path), 1u << 20);
	assert_int_equal(dl_bio_open(&e->bio, &dld_bio_uring_ops, e->path, NULL), 0);
	assert_ptr_equal(e->bio.ops, &dld_bio_uring_ops);
	e->a = dl_bio_alloc(LEN);
	e->b = dl_bio_alloc(LEN);
	assert_non_null(e->a);
	assert_non_null(e->b);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	dl_bio_close(&e->bio);
	unlink(e->path);
	free(e->a);
	free(e->b);
	free(e);
	return 0;
}

/* Four writes queued, nothing done until the wait, which completes all
 * four (one enter); read back as four reads the same way. */
static void test_batch(void **state)
{
	struct env *e = *state;
	struct dl_bio_req w[4], r[4];
	int done = 0;

	fill_pattern(e->a, LEN, 3);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct dl_bio_req){ .op = DL_BIO_WRITE, .buf = e->a + i * (LEN / 4),
					    .len = LEN / 4, .off = (uint64_t)i * (LEN / 4) };
		assert_int_equal(dl_bio_submit(&e->bio, &w[i]), 0);
		assert_false(w[i].done);
	}
	assert_int_equal(e->bio.in_flight, 4);
	while (done < 4) {
		int n = dl_bio_wait(&e->bio, DL_BIO_FOREVER);

		assert_true(n > 0);
		done += n;
	}
	assert_int_equal(e->bio.in_flight, 0);
	for (int i = 0; i < 4; i++) {
		assert_true(w[i].done);
		assert_int_equal(w[i].result, 0);
		assert_true(w[i].complete_ns >= w[i].submit_ns);
	}
	for (int i = 0; i < 4; i++) {
		r[i] = (struct dl_bio_req){ .op = DL_BIO_READ, .buf = e->b + (3 - i) * (LEN / 4),
					    .len = LEN / 4, .off = (uint64_t)(3 - i) * (LEN / 4) };
		assert_int_equal(dl_bio_submit(&e->bio, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(dl_bio_wait_req(&e->bio, &r[i]), 0);
	assert_memory_equal(e->a, e->b, LEN);
}

/* More requests than the ring holds: the queue is handed over when it
 * is full, and every request still completes. */
static void test_more_than_the_ring(void **state)
{
	struct env *e = *state;
	enum { N = 200 };
	struct dl_bio_req *r = calloc(N, sizeof(*r));

	assert_non_null(r);
	fill_pattern(e->a, 4096, 9);
	for (int i = 0; i < N; i++) {
		r[i] = (struct dl_bio_req){ .op = DL_BIO_READ, .buf = e->b + (i % 64) * 4096,
					    .len = 4096, .off = (uint64_t)(i % 256) * 4096 };
		assert_int_equal(dl_bio_submit(&e->bio, &r[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(dl_bio_wait_req(&e->bio, &r[i]), 0);
		assert_int_equal(r[i].result, 0);
	}
	assert_int_equal(e->bio.in_flight, 0);
	free(r);
}

/* A transfer the kernel refuses completes with its errno: writes to a
 * descriptor opened read-only (EBADF), the bio told it is writable. */
static void test_error(void **state)
{
	struct env *e = *state;
	struct dl_bio ro;
	struct dl_bio_opts o = { .read_only = true };
	struct dl_bio_req w = { .op = DL_BIO_WRITE, .len = 4096, .off = 0 };

	assert_int_equal(dl_bio_open(&ro, &dld_bio_uring_ops, e->path, &o), 0);
	ro.read_only = false;
	w.buf = e->a;
	assert_int_equal(dl_bio_submit(&ro, &w), 0);
	assert_int_equal(dl_bio_wait_req(&ro, &w), 0);
	assert_int_equal(w.result, -1);
	assert_int_equal(w.error, EBADF);
	ro.read_only = true;
	dl_bio_close(&ro);
}

static void test_engine(void **state)
{
	enum dld_io_engine en = DLD_ENGINE_PSYNC;

	(void)state;
	assert_int_equal(dld_engine_parse("auto", &en), 0);
	assert_int_equal(en, DLD_ENGINE_AUTO);
	assert_int_equal(dld_engine_parse("", &en), 0);
	assert_int_equal(en, DLD_ENGINE_AUTO);
	assert_int_equal(dld_engine_parse("uring", &en), 0);
	assert_int_equal(en, DLD_ENGINE_URING);
	assert_int_equal(dld_engine_parse("psync", &en), 0);
	assert_int_equal(en, DLD_ENGINE_PSYNC);
	assert_int_equal(dld_engine_parse("aio", &en), -1);
	assert_int_equal(dld_engine_parse("Uring", &en), -1);
	assert_ptr_equal(dld_bio_engine(DLD_ENGINE_PSYNC), &dl_bio_direct_ops);
	assert_ptr_equal(dld_bio_engine(DLD_ENGINE_AUTO), &dl_bio_direct_ops);
	assert_ptr_equal(dld_bio_engine(DLD_ENGINE_URING), &dld_bio_uring_ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_than_the_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error, setup, teardown),
	};

	if (dld_uring_probe()) {
		fprintf(stderr, "io_uring is not available here (%s): skipped\n", strerror(errno));
		return TEST_SKIP;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
