/* The parent/child exchange (shm_queue.c): the queue empty, full, wrapping
 * around, with messages of every size up to the largest datagram, and
 * between two processes (a forked producer kicking the eventfd, the
 * consumer waiting on it); the status and peer table under their
 * sequence locks, also against a writer in another process. */
#include "../unit/test_util.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ring_writer.h"

#include "clock.h"
#include "shm_queue.h"

static int setup(void **state)
{
	struct dld_chan *ch = calloc(1, sizeof(*ch));

	if (!ch || dld_chan_create(ch, 0)) {
		free(ch);
		return -1;
	}
	*state = ch;
	return 0;
}

static int teardown(void **state)
{
	struct dld_chan *ch = *state;

	dld_chan_destroy(ch);
	free(ch);
	return 0;
}

static void fill(uint8_t *p, uint32_t len, uint32_t tag)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(tag * 13u + i * 7u + (i >> 9));
}

static void check(const struct dld_qmsg *m, uint32_t len, uint32_t tag)
{
	assert_int_equal(m->len, len);
	for (uint32_t i = 0; i < len; i++)
		if (m->data[i] != (uint8_t)(tag * 13u + i * 7u + (i >> 9)))
			fail_msg("message %u: byte %u differs", tag, i);
}

static void test_empty(void **state)
{
	struct dld_chan *ch = *state;
	struct dld_qmsg m;
	uint64_t pos = dld_q_tail(ch->tx);

	assert_true(dld_q_empty(ch->tx));
	assert_true(dld_q_empty(ch->rx));
	assert_int_equal(dld_q_read(ch->tx, &pos, &m), 0);
	assert_int_equal(pos, dld_q_tail(ch->tx));
	assert_false(dld_chan_stop_asked(ch));
	ch->shm->stop = 1;
	assert_true(dld_chan_stop_asked(ch));
}

/* Every size from 0 to 4 KiB, then every 61st, and the last sixteen up
 * to DL_DGRAM_MAX (every size would cost gigabytes of copying under
 * valgrind), each with a destination list or a source node. */
static void test_sizes(void **state)
{
	struct dld_chan *ch = *state;
	uint8_t *buf = malloc(DL_DGRAM_MAX);
	uint16_t dst[3] = { 7, 9, 11 };
	uint32_t len = 0, tag = 0;

	assert_non_null(buf);
	while (len <= DL_DGRAM_MAX) {
		uint16_t nd = (uint16_t)(tag % 4u);
		uint64_t pos = dld_q_tail(ch->tx);
		struct dld_qmsg m;

		fill(buf, len, tag);
		assert_int_equal(dld_q_push(ch->tx, (uint16_t)tag, dst, nd, buf, len), 0);
		assert_false(dld_q_empty(ch->tx));
		assert_int_equal(dld_q_read(ch->tx, &pos, &m), 1);
		assert_int_equal(m.node, (uint16_t)tag);
		assert_int_equal(m.ndst, nd);
		for (uint16_t i = 0; i < nd; i++)
			assert_int_equal(m.dst[i], dst[i]);
		check(&m, len, tag);
		assert_int_equal(dld_q_read(ch->tx, &pos, &m), 0);
		dld_q_release(ch->tx, pos);
		assert_true(dld_q_empty(ch->tx));
		tag++;
		len += len < 4096u ? 1u : len + 61u <= DL_DGRAM_MAX - 16u ? 61u : 1u;
		if (len > DL_DGRAM_MAX - 16u && len < DL_DGRAM_MAX - 15u)
			len = DL_DGRAM_MAX - 15u;
	}
	assert_true(ch->tx->head > ch->tx->cap);   /* it wrapped on the way */
	free(buf);
}

/* Messages that do not fit before the end start over at the beginning;
 * the consumer follows the wrap marker, several laps. */
static void test_wrap_around(void **state)
{
	struct dld_chan *ch = *state;
	uint8_t buf[3000];
	uint64_t pos = dld_q_tail(ch->rx), cap = ch->rx->cap;
	uint32_t tag = 0, wraps = 0;

	while (ch->rx->head < 3 * cap) {
		uint32_t len = 1000u + (tag * 37u) % 2000u;
		uint64_t before = ch->rx->head;
		struct dld_qmsg m;

		fill(buf, len, tag);
		assert_int_equal(dld_q_push(ch->rx, 1, NULL, 0, buf, len), 0);
		/* Two in flight: the consumer lags one message behind. */
		if (tag) {
			assert_int_equal(dld_q_read(ch->rx, &pos, &m), 1);
			check(&m, 1000u + ((tag - 1) * 37u) % 2000u, tag - 1);
			dld_q_release(ch->rx, pos);
		}
		if (before / cap != ch->rx->head / cap)
			wraps++;
		tag++;
	}
	assert_true(wraps >= 3);
}

static void test_full(void **state)
{
	struct dld_chan *ch = *state;
	uint8_t *buf = calloc(1, DL_DGRAM_MAX);
	uint64_t pos = dld_q_tail(ch->tx);
	struct dld_qmsg m;
	uint16_t dst = 2;
	int n = 0;

	assert_non_null(buf);
	while (dld_q_push(ch->tx, 0, &dst, 1, buf, DL_DGRAM_MAX) == 0)
		n++;
	assert_int_equal(errno, ENOBUFS);
	/* Header, destination and data padded to 16: 64 KiB each, exactly. */
	assert_int_equal(n, (int)(ch->tx->cap / 65536u));
	errno = 0;
	assert_int_equal(dld_q_push(ch->tx, 0, NULL, 0, buf, 1), -1);
	assert_int_equal(errno, ENOBUFS);
	/* Reading alone frees nothing: the consumer must release. */
	assert_int_equal(dld_q_read(ch->tx, &pos, &m), 1);
	assert_int_equal(dld_q_push(ch->tx, 0, &dst, 1, buf, DL_DGRAM_MAX), -1);
	dld_q_release(ch->tx, pos);
	assert_int_equal(dld_q_push(ch->tx, 0, &dst, 1, buf, DL_DGRAM_MAX), 0);
	free(buf);
}

#define FORK_MSGS 20000u

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* The producer gives up when the consumer is gone or stopped consuming
 * for 10 s (a failed test). */
static void producer(struct dld_chan *ch, pid_t consumer)
{
	static uint8_t buf[4000];
	uint16_t dst = 3;
	uint64_t give_up = mono_s() + 10u;

	for (uint32_t i = 0; i < FORK_MSGS; i++) {
		uint32_t len = 1u + (i * 131u) % 3999u;

		fill(buf, len, i);
		while (dld_q_push(ch->tx, (uint16_t)i, &dst, 1, buf, len)) {
			if (getppid() != consumer || mono_s() > give_up)
				_exit(1);
			sched_yield();         /* full: the consumer catches up */
		}
		dld_efd_kick(ch->tx_efd);
		give_up = mono_s() + 10u;
	}
	_exit(0);
}

/* A producer in another process, the consumer waiting on the eventfd. */
static void test_two_processes(void **state)
{
	struct dld_chan *ch = *state;
	uint32_t got = 0, waits = 0;
	int status = -1;
	pid_t self = getpid(), pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		producer(ch, self);
	while (got < FORK_MSGS && waits < 100000u) {
		uint64_t pos = dld_q_tail(ch->tx);
		struct dld_qmsg m;

		while (dld_q_read(ch->tx, &pos, &m)) {
			uint32_t len = 1u + (got * 131u) % 3999u;

			assert_int_equal(m.node, (uint16_t)got);
			assert_int_equal(m.ndst, 1);
			assert_int_equal(m.dst[0], 3);
			check(&m, len, got);
			got++;
		}
		dld_q_release(ch->tx, pos);
		if (got < FORK_MSGS) {
			assert_int_equal(dld_chan_wait_tx(ch, 1000000000ull), 0);
			waits++;
		}
	}
	assert_int_equal(got, FORK_MSGS);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(dld_q_empty(ch->tx));
}

/* The wait returns on its timeout with no kick, and at once after one. */
static void test_wait_kick(void **state)
{
	struct dld_chan *ch = *state;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(dld_chan_wait_tx(ch, 20000000ull), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true((b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec) >= 19000000ll);
	dld_efd_kick(ch->tx_efd);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(dld_chan_wait_tx(ch, 5000000000ull), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 2);
}

/* Each message carries its enqueue time (the age rules, doc/format.md):
 * dld_q_push stamps CLOCK_MONOTONIC, dld_q_push_at the producer's own
 * clock; also across a wrap marker.  The age test drops what is older
 * than max_age only, 0 being no limit; ndst 0xffff (the wrap marker)
 * is refused. */
static void test_enqueue_time(void **state)
{
	struct dld_chan *ch = *state;
	uint8_t buf[1000] = { 0 };
	uint16_t dst = 3;
	uint64_t pos = dld_q_tail(ch->tx), before = dld_mono_ns(), t = 5000000000ull;
	struct dld_qmsg m;

	assert_int_equal(dld_q_push(ch->tx, 0, &dst, 1, buf, 10), 0);
	assert_int_equal(dld_q_read(ch->tx, &pos, &m), 1);
	assert_true(m.t_ns >= before && m.t_ns <= dld_mono_ns());
	/* Laps of the queue with our own stamps: each read back as pushed. */
	while (ch->tx->head < 3 * ch->tx->cap) {
		assert_int_equal(dld_q_push_at(ch->tx, t, 0, &dst, 1, buf, sizeof(buf)), 0);
		assert_int_equal(dld_q_read(ch->tx, &pos, &m), 1);
		assert_int_equal(m.t_ns, t);
		assert_int_equal(m.len, sizeof(buf));
		dld_q_release(ch->tx, pos);
		t += 1000;
	}
	assert_int_equal(dld_age_budget_ns(1500), 750000000ull);
	assert_false(dld_q_too_old(&m, 750000000ull, m.t_ns + 750000000ull));
	assert_true(dld_q_too_old(&m, 750000000ull, m.t_ns + 750000001ull));
	assert_false(dld_q_too_old(&m, 0, m.t_ns + 3600000000000ull));
	assert_false(dld_q_too_old(&m, 1, m.t_ns - 5000000000ull));   /* stamp later */
	errno = 0;
	assert_int_equal(dld_q_push(ch->tx, 0, NULL, 0xffffu, buf, 1), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_status_publish(void **state)
{
	struct dld_chan *ch = *state;
	struct dld_status st = { .device_state = DLD_DEV_OK, .slot = 3, .peer_count = 2 };
	struct dld_status *out = calloc(1, sizeof(*out));

	assert_non_null(out);
	st.generation = 42;
	st.peers[0].node_id = 5;
	st.peers[1].node_id = 6;
	snprintf(st.device_error, sizeof(st.device_error), "none");
	dld_status_publish(ch->shm, &st);
	assert_int_equal(ch->shm->st_seq & 1u, 0);
	assert_int_equal(dld_status_snapshot(ch->shm, out), 0);
	assert_int_equal(out->slot, 3);
	assert_int_equal(out->generation, 42);
	assert_int_equal(out->peer_count, 2);
	assert_int_equal(out->peers[1].node_id, 6);
	assert_string_equal(out->device_error, "none");
	/* A writer stuck mid-update (stopped): a best effort, and -1. */
	ch->shm->st_seq++;
	assert_int_equal(dld_status_snapshot(ch->shm, out), -1);
	assert_int_equal(out->slot, 3);
	ch->shm->st_seq++;
	free(out);
}

#define PUBLISHES_MAX 2000000u
#define SNAPSHOTS_WANTED 200u

/* A writer in another process: every snapshot that succeeds is one
 * whole publication, never a mix of two.  The writer publishes until the
 * reader has had SNAPSHOTS_WANTED whole ones while it ran (or 10 s), so
 * the check means something on a loaded machine too: a fixed number of
 * publications could all happen while the reader waits for a CPU. */
static void test_status_seqlock(void **state)
{
	struct dld_chan *ch = *state;
	struct dld_status *st = calloc(1, sizeof(*st)), *out = calloc(1, sizeof(*out));
	uint32_t ok = 0, last = 0;
	uint64_t end = dld_mono_ns() + 10000000000ull;
	int status = -1;
	pid_t pid;

	assert_non_null(st);
	assert_non_null(out);
	atomic_store(&ch->shm->stop, 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint32_t i;

		for (i = 1; i < PUBLISHES_MAX && !atomic_load(&ch->shm->stop); i++) {
			st->generation = i;
			st->next_seq = 2ull * i;
			st->peer_count = DLD_MAX_PEERS;
			for (uint32_t k = 0; k < DLD_MAX_PEERS; k++)
				st->peers[k].generation = i;
			dld_status_publish(ch->shm, st);
		}
		free(st);              /* valgrind follows the child too */
		free(out);
		_exit(0);
	}
	while (ok < SNAPSHOTS_WANTED && dld_mono_ns() < end) {
		if (dld_status_snapshot(ch->shm, out))
			continue;
		assert_int_equal(out->next_seq, 2ull * out->generation);
		for (uint32_t k = 0; k < out->peer_count; k++)
			assert_int_equal(out->peers[k].generation, out->generation);
		if (out->generation != last)   /* a new publication, taken while it wrote */
			ok++;
		last = (uint32_t)out->generation;
	}
	atomic_store(&ch->shm->stop, 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(ok > 0);
	atomic_store(&ch->shm->stop, 0);
	assert_int_equal(dld_status_snapshot(ch->shm, out), 0);
	assert_true(out->generation >= last);
	free(st);
	free(out);
}

/* A publication seen from inside its copy, deterministically (no second
 * process, nothing left to the scheduler): the source is laid across a
 * page boundary whose far side is unreadable, so the writer's copy faults
 * midway; the handler notes the sequence counter as a reader would see
 * it then, and jumps out (a writer stopped mid-update: resuming a
 * faulted copy is not something valgrind emulates).  A writer that skips
 * the counter, or its odd step, shows an even value there. */
static struct {
	uint8_t *map, *far;
	size_t map_len, far_len;
	_Atomic uint32_t *seq;
	volatile sig_atomic_t faults;
	volatile uint32_t seen;
	sigjmp_buf out;
} mid;

static void on_mid_copy(int sig)
{
	(void)sig;
	mid.seen = atomic_load_explicit(mid.seq, memory_order_relaxed);
	mid.faults++;
	siglongjmp(mid.out, 1);
}

/* A buffer of size bytes whose first `before` bytes end a readable page;
 * the rest becomes unreadable at mid_arm. */
static void *mid_buffer(size_t before, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	mid.map_len = page * (2 + size / page);
	mid.map = mmap(NULL, mid.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(mid.map != MAP_FAILED);
	mid.far = mid.map + page;
	mid.far_len = mid.map_len - page;
	return mid.far - before;
}

static void mid_arm(_Atomic uint32_t *seq, struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = on_mid_copy };

	sigemptyset(&sa.sa_mask);
	mid.seq = seq;
	mid.faults = 0;
	assert_int_equal(sigaction(SIGSEGV, &sa, old), 0);
	assert_int_equal(mprotect(mid.far, mid.far_len, PROT_NONE), 0);
}

/* The counter seen midway (the copy faulted exactly once). */
static uint32_t mid_done(const struct sigaction *old)
{
	assert_int_equal(sigaction(SIGSEGV, old, NULL), 0);
	assert_int_equal(mid.faults, 1);
	assert_int_equal(munmap(mid.map, mid.map_len), 0);
	return mid.seen;
}

static void test_status_seq_midway(void **state)
{
	struct dld_chan *ch = *state;
	/* The far side starts at peers[1]: the writer reads peer_count (the
	 * length) before it marks the update. */
	size_t before = offsetof(struct dld_status, peers[1]);
	struct dld_status *st = mid_buffer(before, sizeof(*st)), *out = calloc(1, sizeof(*out));
	uint32_t s0 = atomic_load(&ch->shm->st_seq);
	struct sigaction old;

	assert_non_null(out);
	assert_int_equal(before % _Alignof(struct dld_status), 0);
	memset(st, 0, sizeof(*st));
	st->peer_count = DLD_MAX_PEERS;
	mid_arm(&ch->shm->st_seq, &old);
	if (sigsetjmp(mid.out, 1) == 0) {
		dld_status_publish(ch->shm, st);
		fail_msg("the copy did not fault");
	}
	assert_int_equal(mid_done(&old), s0 + 1);      /* odd while it copied */
	assert_int_equal(dld_status_snapshot(ch->shm, out), -1);
	/* A whole publication: the counter even again, 2 further. */
	atomic_store(&ch->shm->st_seq, s0);
	memset(out, 0, sizeof(*out));
	out->generation = 7;
	dld_status_publish(ch->shm, out);
	assert_int_equal(atomic_load(&ch->shm->st_seq), s0 + 2);
	memset(out, 0, sizeof(*out));
	assert_int_equal(dld_status_snapshot(ch->shm, out), 0);
	assert_int_equal(out->generation, 7);
	free(out);
}

static void test_peers_seq_midway(void **state)
{
	struct dld_chan *ch = *state;
	uint32_t *pub = mid_buffer(2 * sizeof(uint32_t), DLD_MAX_PEERS * sizeof(uint32_t));
	uint32_t s0 = atomic_load(&ch->shm->peers_seq), ids[DLD_MAX_PEERS], n = 0, seq = s0;
	const uint32_t whole[2] = { 4, 5 };
	struct sigaction old;

	for (uint32_t i = 0; i < DLD_MAX_PEERS; i++)
		pub[i] = i + 1;
	mid_arm(&ch->shm->peers_seq, &old);
	if (sigsetjmp(mid.out, 1) == 0) {
		dld_peers_publish(ch->shm, pub, DLD_MAX_PEERS);
		fail_msg("the copy did not fault");
	}
	assert_int_equal(mid_done(&old), s0 + 1);
	assert_int_equal(dld_peers_read(ch->shm, &seq, ids, &n), 0);  /* mid-update */
	atomic_store(&ch->shm->peers_seq, s0);
	dld_peers_publish(ch->shm, whole, 2);
	assert_int_equal(atomic_load(&ch->shm->peers_seq), s0 + 2);
	assert_int_equal(dld_peers_read(ch->shm, &seq, ids, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(ids[1], 5);
}

static void test_peer_table(void **state)
{
	struct dld_chan *ch = *state;
	uint32_t ids[DLD_MAX_PEERS], n = 0, seq = 0;
	const uint32_t pub[3] = { 2, 3, 9 };

	assert_int_equal(dld_peers_read(ch->shm, &seq, ids, &n), 0);
	dld_peers_publish(ch->shm, pub, 3);
	assert_int_equal(dld_peers_read(ch->shm, &seq, ids, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(ids[2], 9);
	assert_int_equal(dld_peers_read(ch->shm, &seq, ids, &n), 0);   /* unchanged */
	ch->shm->peers_seq++;                                          /* mid-update */
	assert_int_equal(dld_peers_read(ch->shm, &seq, ids, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_seqlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_seq_midway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_seq_midway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
