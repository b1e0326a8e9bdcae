/* The parent's side of the I/O child (daemon/parent/supervise.c): device
 * state, readiness, tunables and peers handed over the channel, the
 * launcher's pipe, stop, stall and abandon, and a child that fails at
 * start (a device that does not exist) followed by a scheduled restart.
 * Where a child must be killed, a forked process that only waits stands
 * for a stuck I/O child; a fake probe stands for the device's in-flight
 * counters (an io_uring child's requests outlive it). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctx.h"

static int setup(void **state)
{
	struct dld_ctx *ctx = calloc(1, sizeof(*ctx));

	assert_non_null(ctx);
	dld_ctx_init(ctx);
	dld_config_defaults(&ctx->cfg);
	ctx->cfg.node_id = 1;
	snprintf(ctx->cfg.device, sizeof(ctx->cfg.device), "/nonexistent/disklink-test");
	assert_int_equal(dld_loop_init(&ctx->loop), 0);
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	struct dld_ctx *ctx = *state;

	if (ctx->chan.shm)
		dld_chan_destroy(&ctx->chan);
	dld_loop_fini(&ctx->loop);
	free(ctx);
	return 0;
}

/* A process that waits to be killed: a stuck I/O child. */
static pid_t stuck_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void test_device_state(void **state)
{
	struct dld_ctx *ctx = *state;
	char err[200];

	assert_string_equal(dld_device_state(ctx, err, sizeof(err)), "starting");
	ctx->children = 1;
	snprintf(ctx->error, sizeof(ctx->error), "the I/O child exited with status 1");
	assert_string_equal(dld_device_state(ctx, err, sizeof(err)), "failed");
	assert_string_equal(err, "the I/O child exited with status 1");
	ctx->child = 99999;
	assert_string_equal(dld_device_state(ctx, err, sizeof(err)), "starting");
	assert_false(dld_child_accepts(ctx));
	ctx->child_ready_ns = 1;
	assert_string_equal(dld_device_state(ctx, err, sizeof(err)), "ok");
	assert_string_equal(err, "");
	assert_false(dld_child_accepts(ctx));          /* no channel */
	assert_int_equal(dld_chan_create(&ctx->chan, 256), 0);
	assert_true(dld_child_accepts(ctx));
	ctx->snap.device_state = DLD_DEV_FAILED;
	snprintf(ctx->snap.device_error, sizeof(ctx->snap.device_error), "EIO");
	assert_string_equal(dld_device_state(ctx, err, sizeof(err)), "failed");
	assert_string_equal(err, "EIO");
	ctx->stalled = true;
	ctx->stalled_since_ns = dld_mono_ns();
	assert_string_equal(dld_device_state(ctx, err, sizeof(err)), "stalled");
	assert_false(dld_child_accepts(ctx));
	ctx->child = 0;
}

static void test_tunables_and_peers(void **state)
{
	struct dld_ctx *ctx = *state;
	uint32_t seq = 0, ids[DLD_MAX_PEERS], n = 0, tun;

	dld_child_tunables(ctx);       /* no channel: nothing to do */
	dld_child_peers(ctx);
	assert_int_equal(dld_chan_create(&ctx->chan, 256), 0);
	tun = atomic_load(&ctx->chan.shm->tun_seq);
	ctx->cfg.tun.poll_fast_us = 1234;
	dld_child_tunables(ctx);
	assert_int_equal(atomic_load(&ctx->chan.shm->tun_seq), tun + 2);
	assert_int_equal(ctx->chan.shm->tun.poll_fast_us, 1234);
	ctx->cfg.peer_count = 2;
	ctx->cfg.peers[0].node_id = 5;
	ctx->cfg.peers[1].node_id = 7;
	dld_child_peers(ctx);
	assert_int_equal(dld_peers_read(ctx->chan.shm, &seq, ids, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 5);
	assert_int_equal(ids[1], 7);
}

static void test_notify_ready_once(void **state)
{
	struct dld_ctx *ctx = *state;
	int p[2];
	char b[4];

	assert_int_equal(pipe(p), 0);
	ctx->ready_fd = p[1];
	dld_notify_ready(ctx);
	assert_int_equal(ctx->ready_fd, -1);
	assert_true(ctx->notified);
	assert_int_equal(read(p[0], b, sizeof(b)), 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(read(p[0], b, sizeof(b)), 0);  /* closed */
	dld_notify_ready(ctx);
	close(p[0]);
}

static void test_stop_without_child(void **state)
{
	struct dld_ctx *ctx = *state;

	dld_child_stop(ctx);
	assert_true(ctx->stopping);
	assert_true(ctx->loop.quit);
}

/* A child that does not stop in time is killed. */
static void test_stop_timeout(void **state)
{
	struct dld_ctx *ctx = *state;
	int st;

	assert_int_equal(dld_chan_create(&ctx->chan, 256), 0);
	ctx->child = stuck_child();
	dld_child_stop(ctx);
	assert_int_equal(atomic_load(&ctx->chan.shm->stop), 1);
	assert_false(ctx->loop.quit);
	dld_child_tick(ctx, dld_mono_ns());
	assert_false(ctx->loop.quit);
	dld_child_tick(ctx, ctx->stop_deadline_ns + 1);
	assert_true(ctx->loop.quit);
	assert_int_equal(waitpid(ctx->child, &st, 0), ctx->child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ctx->child = 0;
}

/* Stalled, completed, stalled again past abandon_ms: abandoned. */
static void test_stall_and_abandon(void **state)
{
	struct dld_ctx *ctx = *state;
	uint64_t now = dld_mono_ns() + 60000000000ull;
	pid_t pid = stuck_child();
	int st;

	assert_int_equal(dld_chan_create(&ctx->chan, 256), 0);
	ctx->child = pid;
	ctx->child_ready_ns = 1;
	ctx->cfg.tun.io_timeout_ms = 1000;
	ctx->cfg.tun.abandon_ms = 0;
	atomic_store(&ctx->chan.shm->io_start_ns, now - 2000000000ull);
	dld_child_tick(ctx, now);
	assert_true(ctx->stalled);
	atomic_store(&ctx->chan.shm->io_start_ns, 0);
	atomic_store(&ctx->chan.shm->alive_ns, now);
	dld_child_tick(ctx, now);
	assert_false(ctx->stalled);
	ctx->cfg.tun.abandon_ms = 5000;
	/* It had claimed generation 7 (its header may still be in flight);
	 * the parent saw it ready at 5: the successor starts above 7. */
	ctx->last_generation = 5;
	atomic_store(&ctx->chan.shm->claimed_generation, 7);
	atomic_store(&ctx->chan.shm->io_start_ns, now - 6000000000ull);
	dld_child_tick(ctx, now);
	assert_int_equal(ctx->abandoned, pid);
	assert_int_equal(ctx->last_generation, 7);
	assert_int_equal(ctx->child, 0);
	assert_null(ctx->chan.shm);
	assert_true(ctx->restart_at_ns > now);
	assert_non_null(strstr(ctx->error, "the I/O child was abandoned"));
	/* While it lives, no new child is started. */
	ctx->restart_at_ns = 0;
	assert_int_equal(dld_child_start(ctx), 0);
	assert_int_equal(ctx->child, 0);
	assert_true(ctx->restart_at_ns > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ctx->abandoned = 0;
}

/* The back-off a recovery from a long stall relies on (faults/test-stall.sh,
 * doc/daemon.md): a child that served more than 10 s and is abandoned is
 * followed after restart_min_ms, however far the back-off had grown, and
 * the start is retried at that period while the abandoned one lives.  Its
 * last loop turn is kept for the next child (prev_alive_ns: its readers
 * count the gap in reading from there, max_age). */
static void test_abandon_backoff(void **state)
{
	struct dld_ctx *ctx = *state;
	uint64_t now = dld_mono_ns() + 60000000000ull, before;
	pid_t pid = stuck_child();
	int st;

	assert_int_equal(dld_chan_create(&ctx->chan, 256), 0);
	ctx->child = pid;
	ctx->child_ready_ns = now - 20000000000ull;
	ctx->backoff_ms = 8000;
	ctx->cfg.tun.io_timeout_ms = 1000;
	ctx->cfg.tun.abandon_ms = 5000;
	ctx->cfg.tun.restart_min_ms = 500;
	atomic_store(&ctx->chan.shm->alive_ns, now - 6000000000ull);
	atomic_store(&ctx->chan.shm->io_start_ns, now - 6000000000ull);
	dld_child_tick(ctx, now);
	assert_int_equal(ctx->abandoned, pid);
	assert_int_equal(ctx->backoff_ms, 500);
	assert_true(ctx->restart_at_ns == now + 500000000ull);
	assert_true(ctx->last_alive_ns == now - 6000000000ull);
	ctx->restart_at_ns = 0;
	before = dld_mono_ns();
	assert_int_equal(dld_child_start(ctx), 0);
	assert_int_equal(ctx->child, 0);
	assert_true(ctx->restart_at_ns >= before + 500000000ull &&
		    ctx->restart_at_ns <= dld_mono_ns() + 500000000ull);
	assert_int_equal(ctx->backoff_ms, 500);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ctx->abandoned = 0;
}

/* The fake in-flight probe: fake_inflight requests, or fails with
 * fake_errno; counts its calls. */
static uint64_t fake_inflight;
static int fake_errno;
static unsigned fake_calls;

static int fake_probe(const char *path, uint64_t *n)
{
	assert_string_equal(path, "/nonexistent/disklink-test");
	fake_calls++;
	if (fake_errno) {
		errno = fake_errno;
		return -1;
	}
	*n = fake_inflight;
	return 0;
}

/* A ready child stuck past abandon_ms is abandoned; it exits at once (as
 * an io_uring child killed on a hung device does) and is reaped. */
static pid_t abandon_and_reap(struct dld_ctx *ctx, uint64_t now)
{
	pid_t pid = stuck_child();
	siginfo_t si = { 0 };

	assert_int_equal(dld_chan_create(&ctx->chan, 256), 0);
	ctx->child = pid;
	ctx->child_ready_ns = now - 20000000000ull;
	ctx->cfg.tun.io_timeout_ms = 1000;
	ctx->cfg.tun.abandon_ms = 5000;
	ctx->cfg.tun.restart_min_ms = 500;
	ctx->inflight = fake_probe;
	fake_calls = 0;
	atomic_store(&ctx->chan.shm->io_start_ns, now - 6000000000ull);
	dld_child_tick(ctx, now);
	assert_int_equal(ctx->abandoned, pid);
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	dld_child_reap(ctx);
	assert_int_equal(ctx->abandoned, 0);
	return pid;
}

static void wait_started(struct dld_ctx *ctx)
{
	assert_true(ctx->child > 0);
	assert_int_equal(waitpid(ctx->child, NULL, 0), ctx->child);
	ctx->child = 0;
	dld_chan_destroy(&ctx->chan);
}

/* io_engine = uring: an abandoned child gone with its requests in flight
 * holds the next start back as a live one does, retried at the back-off
 * (restart_min_ms, not grown), until the device has none in flight; then
 * the next child starts (faults/test-stall-uring.sh, issue #19). */
static void test_uring_abandoned_inflight(void **state)
{
	struct dld_ctx *ctx = *state;
	uint64_t now = dld_mono_ns() + 60000000000ull, at;

	snprintf(ctx->cfg.io_engine, sizeof(ctx->cfg.io_engine), "uring");
	fake_inflight = 3;
	fake_errno = 0;
	abandon_and_reap(ctx, now);
	assert_true(ctx->abandoned_inflight);
	assert_non_null(strstr(ctx->error, "still in flight"));
	for (int i = 0; i < 3; i++) {
		at = ctx->restart_at_ns;
		assert_true(at > 0);
		dld_child_tick(ctx, at);
		assert_int_equal(ctx->child, 0);
		assert_int_equal(ctx->children, 0);
		assert_true(ctx->restart_at_ns > dld_mono_ns());
		assert_true(ctx->restart_at_ns <= dld_mono_ns() + 500000000ull);
		assert_int_equal(ctx->backoff_ms, 500);
	}
	assert_int_equal(fake_calls, 4);
	fake_inflight = 0;
	dld_child_tick(ctx, ctx->restart_at_ns);
	assert_false(ctx->abandoned_inflight);
	assert_int_equal(ctx->children, 1);
	wait_started(ctx);
}

/* psync: a child gone has no request left (its pread returned): the next
 * child starts at the back-off, the probe is not asked.  uring on a
 * device with no counters: the parent cannot tell, and starts it too. */
static void test_abandoned_gone_starts_next(void **state)
{
	struct dld_ctx *ctx = *state;
	uint64_t now = dld_mono_ns() + 60000000000ull;

	snprintf(ctx->cfg.io_engine, sizeof(ctx->cfg.io_engine), "psync");
	fake_inflight = 3;
	fake_errno = 0;
	abandon_and_reap(ctx, now);
	assert_false(ctx->abandoned_inflight);
	assert_int_equal(fake_calls, 0);
	dld_child_tick(ctx, ctx->restart_at_ns);
	assert_int_equal(ctx->children, 1);
	wait_started(ctx);

	snprintf(ctx->cfg.io_engine, sizeof(ctx->cfg.io_engine), "uring");
	fake_errno = ENODEV;
	abandon_and_reap(ctx, now);
	assert_false(ctx->abandoned_inflight);
	assert_int_equal(fake_calls, 1);
	dld_child_tick(ctx, ctx->restart_at_ns);
	assert_int_equal(ctx->children, 2);
	wait_started(ctx);
	fake_errno = 0;
}

/* The real probe: the inflight file's text, and the paths it refuses. */
static void test_inflight_probe(void **state)
{
	uint64_t n = 99;
	struct stat st;
	int rc;

	(void)state;
	assert_int_equal(dld_inflight_parse("       2        5\n", &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(dld_inflight_parse("0 0", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dld_inflight_parse("3\n", &n), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dld_inflight_parse("1 2 3\n", &n), -1);
	assert_int_equal(dld_inflight_parse("x y\n", &n), -1);
	assert_int_equal(dld_inflight_read("/nonexistent/disklink-test", &n), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dld_inflight_read("/dev/null", &n), -1);
	assert_int_equal(errno, EINVAL);
	/* A regular file: its filesystem's device's counters, or none. */
	assert_int_equal(stat("/proc/self/exe", &st), 0);
	rc = dld_inflight_read("/proc/self/exe", &n);
	if (major(st.st_dev) == 0) {
		assert_int_equal(rc, -1);
		assert_int_equal(errno, ENODEV);
	} else {
		assert_true(rc == 0 || errno == ENODEV);
	}
}

/* Wait for SIGCHLD (blocked, read from a signalfd), then reap. */
static void reap_child(struct dld_ctx *ctx, int sfd)
{
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	struct signalfd_siginfo si;

	while (ctx->child) {
		assert_int_equal(poll(&p, 1, 10000), 1);
		assert_int_equal(read(sfd, &si, sizeof(si)), (ssize_t)sizeof(si));
		dld_child_reap(ctx);
	}
}

/* The role the parent holds follows the role on disk, as the child's
 * status says: a role request that timed out (the parent kept the old
 * role) but whose header landed later is not written back by the next
 * child; a child that never attached changes nothing. */
static void test_role_follows_disk(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_status st = { .slot = -1, .role = DL_ROLE_PRIMARY };

	assert_int_equal(dld_chan_create(&ctx->chan, 256), 0);
	ctx->child = stuck_child();
	ctx->role = DL_ROLE_SECONDARY;
	dld_status_publish(ctx->chan.shm, &st);
	dld_child_snapshot(ctx);
	assert_int_equal(ctx->role, DL_ROLE_SECONDARY);
	st.slot = 2;
	dld_status_publish(ctx->chan.shm, &st);
	dld_child_snapshot(ctx);
	assert_int_equal(ctx->role, DL_ROLE_PRIMARY);
	kill(ctx->child, SIGKILL);
	waitpid(ctx->child, NULL, 0);
	ctx->child = 0;
}

static void test_child_fails_and_restarts(void **state)
{
	struct dld_ctx *ctx = *state;
	sigset_t set;
	int sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	assert_true(sfd >= 0);
	ctx->cfg.tun.restart_min_ms = 100;
	ctx->cfg.tun.restart_max_ms = 400;
	ctx->ever_ready = true;        /* a device that went away, not a bad config */
	assert_int_equal(dld_child_start(ctx), 0);
	assert_true(ctx->child > 0);
	assert_int_equal(ctx->children, 1);
	assert_non_null(ctx->chan.shm);
	reap_child(ctx, sfd);
	assert_null(ctx->chan.shm);
	assert_false(ctx->loop.quit);
	assert_true(ctx->error[0] != 0);
	assert_int_equal(ctx->backoff_ms, 100);
	assert_true(ctx->restart_at_ns > 0);
	assert_true(ctx->notified);    /* serves status while the device is away */
	/* The tick starts the next one, whose failure doubles the back-off. */
	dld_child_tick(ctx, ctx->restart_at_ns);
	assert_true(ctx->child > 0);
	assert_int_equal(ctx->children, 2);
	reap_child(ctx, sfd);
	assert_int_equal(ctx->backoff_ms, 200);
	close(sfd);
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &set, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tunables_and_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_ready_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_without_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_and_abandon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandon_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_fails_and_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_follows_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uring_abandoned_inflight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_gone_starts_next, setup, teardown),
		cmocka_unit_test(test_inflight_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
