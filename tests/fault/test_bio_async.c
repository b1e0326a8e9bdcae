/* The asynchronous shape of the block I/O (bio.h): requests submitted
 * and completed through the O_DIRECT ops on a file in /var/tmp (tmpfs
 * refuses O_DIRECT), through the fault bio, and through a deferred
 * device that completes them later and out of order; time stamps from
 * an injected clock; the synchronous wrappers on top. */
#include "../unit/test_util.h"

#include "fault_bio.h"

#define SECT 512u
#define FILE_LEN (1u << 20)

/* A stepping clock: it stands for CLOCK_MONOTONIC, one microsecond
 * later at every reading. */
static uint64_t step_mono(void *arg)
{
	return *(uint64_t *)arg += 1000u;
}

static uint64_t step_real(void *arg)
{
	return *(uint64_t *)arg;
}

struct env {
	char path[64];
	uint64_t now;
	struct dl_clock clock;
	struct dl_bio bio;
	uint8_t *a, *b;
	uint32_t order[8], ncomplete;
};

static void on_complete(struct dl_bio_req *req)
{
	*(uint32_t *)req->user += 1;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	make_temp_file(e->path, sizeof(e->path), FILE_LEN);
	e->clock = (struct dl_clock){ .mono_ns = step_mono, .real_ns = step_real, .arg = &e->now };
	e->a = dl_bio_alloc(8 * SECT);
	e->b = dl_bio_alloc(8 * SECT);
	assert_non_null(e->a);
	assert_non_null(e->b);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e->bio.ops)
		dl_bio_close(&e->bio);
	unlink(e->path);
	free(e->a);
	free(e->b);
	free(e);
	return 0;
}

static void open_with(struct env *e, const struct dl_bio_ops *ops, bool read_only)
{
	struct dl_bio_opts o = { .read_only = read_only, .clock = &e->clock };

	assert_int_equal(dl_bio_open(&e->bio, ops, e->path, &o), 0);
	assert_ptr_equal(e->bio.clock, &e->clock);
}

/* O_DIRECT: the request completes inside submit, stamped by our clock. */
static void test_direct(void **state)
{
	struct env *e = *state;
	uint32_t calls = 0;
	struct dl_bio_req w = { .op = DL_BIO_WRITE, .buf = e->a, .len = 4 * SECT,
				.off = 8 * SECT, .user = &calls, .complete = on_complete };
	struct dl_bio_req r = { .op = DL_BIO_READ, .buf = e->b, .len = 4 * SECT,
				.off = 8 * SECT };

	open_with(e, NULL, false);
	assert_true(e->bio.direct);            /* /var/tmp takes O_DIRECT */
	fill_pattern(e->a, 4 * SECT, 7);
	assert_int_equal(dl_bio_submit(&e->bio, &w), 0);
	assert_true(w.done);
	assert_int_equal(w.result, 0);
	assert_int_equal(calls, 1);
	assert_true(w.submit_ns > 0 && w.complete_ns > w.submit_ns);
	assert_int_equal(e->bio.in_flight, 0);
	assert_int_equal(dl_bio_wait(&e->bio, DL_BIO_NOWAIT), 0);   /* nothing left */
	assert_int_equal(dl_bio_wait_req(&e->bio, &w), 0);
	assert_int_equal(dl_bio_submit(&e->bio, &r), 0);
	assert_true(r.done);
	assert_int_equal(r.result, 0);
	assert_memory_equal(e->a, e->b, 4 * SECT);
	/* The synchronous wrappers are the same path. */
	fill_pattern(e->a, SECT, 8);
	assert_int_equal(dl_bio_write(&e->bio, e->a, SECT, 0), 0);
	assert_int_equal(dl_bio_read(&e->bio, e->b, SECT, 0), 0);
	assert_memory_equal(e->a, e->b, SECT);
}

/* A request that cannot start is refused at submit and never completes. */
static void test_rejected(void **state)
{
	struct env *e = *state;
	uint32_t calls = 0;
	struct dl_bio_req q = { .op = DL_BIO_READ, .buf = e->a + 1, .len = SECT,
				.user = &calls, .complete = on_complete };

	open_with(e, NULL, true);
	assert_int_equal(dl_bio_submit(&e->bio, &q), -1);
	assert_int_equal(errno, EINVAL);                   /* misaligned */
	q.buf = e->a;
	q.len = SECT + 1;
	assert_int_equal(dl_bio_submit(&e->bio, &q), -1);
	assert_int_equal(errno, EINVAL);
	q.len = SECT;
	q.off = FILE_LEN;
	assert_int_equal(dl_bio_submit(&e->bio, &q), -1);
	assert_int_equal(errno, ENOSPC);                   /* past the end */
	q.off = 0;
	q.op = DL_BIO_WRITE;
	assert_int_equal(dl_bio_submit(&e->bio, &q), -1);
	assert_int_equal(errno, EROFS);
	assert_false(q.done);
	assert_int_equal(calls, 0);
	assert_int_equal(e->bio.in_flight, 0);
	/* Waiting for it: nothing in flight can complete it. */
	assert_int_equal(dl_bio_wait_req(&e->bio, &q), -1);
	assert_int_equal(errno, EDEADLK);
}

/* The fault bio: its faults are the requests' results. */
static void test_fault(void **state)
{
	struct env *e = *state;
	struct fault_bio fb;
	struct dl_bio_req q = { .op = DL_BIO_READ, .buf = e->a, .len = 4 * SECT };

	fault_bio_init(&fb, NULL);
	open_with(e, fault_bio_ops(&fb), false);
	memset(e->b, 0, 4 * SECT);
	assert_int_equal(dl_bio_write(&e->bio, e->b, 4 * SECT, 0), 0);
	fault_bio_set_plan(&fb, &(struct fault_plan){
		.read = { .kind = FAULT_EIO, .count = 1 },
		.write = { .kind = FAULT_TORN, .sectors = 1, .torn_success = true, .count = 1 } });
	assert_int_equal(dl_bio_submit(&e->bio, &q), 0);
	assert_true(q.done);
	assert_int_equal(q.result, -1);
	assert_int_equal(q.error, EIO);
	assert_int_equal(dl_bio_submit(&e->bio, &q), 0);   /* count 1: healthy now */
	assert_int_equal(q.result, 0);
	/* A torn write reported as done: only its first sector landed. */
	fill_pattern(e->a, 4 * SECT, 9);
	q = (struct dl_bio_req){ .op = DL_BIO_WRITE, .buf = e->a, .len = 4 * SECT };
	assert_int_equal(dl_bio_submit(&e->bio, &q), 0);
	assert_int_equal(q.result, 0);
	assert_int_equal(dl_bio_read(&e->bio, e->b, 4 * SECT, 0), 0);
	assert_memory_equal(e->a, e->b, SECT);
	assert_memory_not_equal(e->a + SECT, e->b + SECT, SECT);
	assert_int_equal(fb.st.torn, 1);
	assert_int_equal(fb.st.read_faults, 1);
	assert_int_equal(e->bio.in_flight, 0);
	dl_bio_close(&e->bio);         /* before fb goes */
}

/* A deferred device: it stands for a device (or the simulator) that
 * completes requests later, when waited for, and in reverse order. */
#define DEFER_MAX 8
struct deferred {
	struct dl_bio_ops ops;         /* first: found from bio->ops       */
	struct dl_bio_req *q[DEFER_MAX];
	uint32_t n;
};

static struct deferred *deferred_of(const struct dl_bio *bio)
{
	return (struct deferred *)(uintptr_t)bio->ops;
}

static int deferred_open(struct dl_bio *bio, const char *path, const struct dl_bio_opts *o)
{
	return dl_bio_direct_ops.open(bio, path, o);
}

static void deferred_close(struct dl_bio *bio)
{
	dl_bio_direct_ops.close(bio);
}

static int deferred_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	struct deferred *d = deferred_of(bio);

	if (d->n == DEFER_MAX) {
		errno = EAGAIN;
		return -1;
	}
	d->q[d->n++] = req;
	return 0;
}

static int deferred_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	struct deferred *d = deferred_of(bio);
	int n = (int)d->n;

	(void)timeout_ns;
	while (d->n) {
		struct dl_bio_req *req = d->q[--d->n];

		dl_bio_direct_ops.submit(bio, req);     /* transfers and completes */
	}
	return n;
}

static void note_order(struct dl_bio_req *req)
{
	struct env *e = req->user;

	e->order[e->ncomplete++] = (uint32_t)(uintptr_t)req->priv;
}

static void test_out_of_order(void **state)
{
	struct env *e = *state;
	struct deferred d = {
		.ops = { .name = "deferred", .open = deferred_open, .close = deferred_close,
			 .submit = deferred_submit, .wait = deferred_wait },
	};
	struct dl_bio_req r[3];

	open_with(e, &d.ops, false);
	fill_pattern(e->a, 3 * SECT, 4);
	assert_int_equal(dl_bio_write(&e->bio, e->a, 3 * SECT, 0), 0);  /* sync wrapper */
	for (uint32_t i = 0; i < 3; i++) {
		r[i] = (struct dl_bio_req){ .op = DL_BIO_READ, .buf = e->b + i * SECT,
					    .len = SECT, .off = i * SECT, .user = e,
					    .complete = note_order, .priv = (void *)(uintptr_t)i };
		assert_int_equal(dl_bio_submit(&e->bio, &r[i]), 0);
		assert_false(r[i].done);
	}
	assert_int_equal(e->bio.in_flight, 3);
	assert_int_equal(dl_bio_wait_req(&e->bio, &r[0]), 0);
	assert_int_equal(e->ncomplete, 3);
	assert_int_equal(e->order[0], 2);
	assert_int_equal(e->order[1], 1);
	assert_int_equal(e->order[2], 0);
	assert_true(r[0].complete_ns > r[2].complete_ns);
	assert_true(r[0].submit_ns < r[2].submit_ns);
	assert_int_equal(e->bio.in_flight, 0);
	assert_memory_equal(e->a, e->b, 3 * SECT);
	assert_int_equal(dl_bio_wait(&e->bio, DL_BIO_NOWAIT), 0);
	dl_bio_close(&e->bio);         /* before d goes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
