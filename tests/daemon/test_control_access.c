/* Who may use the control socket (daemon/parent/control.c), and that
 * silent clients cannot lock it out: a real AF_UNIX socket in a
 * temporary directory, a minimal context without an I/O child, the
 * loop turned by hand.  As root, clients in forked children that become
 * nobody (setresuid, as `setpriv --reuid=nobody` does), with or without
 * the status group (haclient, else nogroup) among their groups; without
 * root those cases are skipped.
 * Failed first on the code before this change: 8 silent clients took
 * every slot for good, nobody in the status group could not connect
 * (mode 0600), and there was no role check. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "ctx.h"

#define NOBODY 65534u

struct fixture {
	struct dld_ctx *ctx;
	char dir[64];
	gid_t gid;                     /* the status group */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dld_ctx *ctx;
	const struct group *g = getgrnam("haclient");

	assert_non_null(f);
	if (!g)
		g = getgrnam("nogroup");
	assert_non_null(g);
	f->gid = g->gr_gid;
	f->ctx = ctx = calloc(1, sizeof(*ctx));
	assert_non_null(ctx);
	dld_ctx_init(ctx);
	snprintf(f->dir, sizeof(f->dir), "/tmp/dld-test-ctlacc.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(chmod(f->dir, 0755), 0);
	dld_config_defaults(&ctx->cfg);
	snprintf(ctx->cfg.status_group, sizeof(ctx->cfg.status_group), "%s", g->gr_name);
	snprintf(ctx->cfg.control, sizeof(ctx->cfg.control), "%s/run/ctl.sock", f->dir);
	snprintf(ctx->cfg.device, sizeof(ctx->cfg.device), "/dev/test-volume");
	assert_int_equal(dld_loop_init(&ctx->loop), 0);
	assert_int_equal(dld_control_open(ctx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	dld_control_close(f->ctx);
	dld_loop_fini(&f->ctx->loop);
	snprintf(path, sizeof(path), "%s/run", f->dir);
	rmdir(path);
	rmdir(f->dir);
	free(f->ctx);
	free(f);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint32_t clients_open(const struct dld_ctx *ctx)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		n += ctx->clients[i].fd >= 0;
	return n;
}

/* Ask req from a client in this process, turning the loop meanwhile. */
static size_t ask(struct dld_ctx *ctx, const char *req, char *out, size_t size)
{
	int fd = connect_to(ctx->cfg.control);
	size_t have = 0;

	assert_true(fd >= 0);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	for (int turns = 0; turns < 50; turns++) {
		ssize_t n;

		assert_int_equal(dld_loop_once(&ctx->loop, 20), 0);
		n = recv(fd, out + have, size - 1 - have, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			have += (size_t)n;
	}
	out[have] = 0;
	close(fd);
	return have;
}

/* More silent clients than the old 8 slots: status still answers, and
 * the idle timeout frees their slots. */
static void test_silent_clients(void **state)
{
	struct fixture *f = *state;
	int silent[DLD_CTL_CLIENTS - 1];
	char out[8192];
	uint64_t t0 = dld_mono_ns();

	for (uint32_t i = 0; i < DLD_CTL_CLIENTS - 1; i++) {
		silent[i] = connect_to(f->ctx->cfg.control);
		assert_true(silent[i] >= 0);
		assert_int_equal(dld_loop_once(&f->ctx->loop, 0), 0);
	}
	assert_true(ask(f->ctx, "status\n", out, sizeof(out)) > 0);
	assert_int_equal(out[0], '{');
	assert_true(dld_mono_ns() - t0 < 2000000000ull);
	assert_int_equal(clients_open(f->ctx), DLD_CTL_CLIENTS - 1);
	dld_control_poll(f->ctx, dld_mono_ns() + DLD_CTL_IDLE_MS * 1000000ull + 1);
	assert_int_equal(clients_open(f->ctx), 0);
	for (uint32_t i = 0; i < DLD_CTL_CLIENTS - 1; i++)
		close(silent[i]);
}

/* A child that becomes nobody (with groups), asks req and writes what it
 * got to the pipe (or "connect: ERR").  The parent turns the loop. */
static void as_nobody(struct fixture *f, const gid_t *groups, size_t ngroups, const char *req,
		      char *out, size_t size)
{
	int p[2], st = 0;
	size_t have = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[8192];
		ssize_t n;
		int fd;

		close(p[0]);
		if (setgroups(ngroups, groups) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(2);
		fd = connect_to(f->ctx->cfg.control);
		if (fd < 0) {
			n = snprintf(buf, sizeof(buf), "connect: %s", strerror(errno));
			_exit(write(p[1], buf, (size_t)n) == n ? 0 : 3);
		}
		if (send(fd, req, strlen(req), 0) != (ssize_t)strlen(req))
			_exit(4);
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
			if (write(p[1], buf, (size_t)n) != n)
				_exit(5);
		_exit(0);
	}
	close(p[1]);
	for (int turns = 0; turns < 200; turns++) {
		ssize_t n;

		assert_int_equal(dld_loop_once(&f->ctx->loop, 10), 0);
		n = read(p[0], out + have, size - 1 - have);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		if (n > 0)
			have += (size_t)n;
	}
	out[have] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_member_reads_status(void **state)
{
	struct fixture *f = *state;
	char out[8192];

	if (geteuid() != 0)
		skip();
	as_nobody(f, &f->gid, 1, "status\n", out, sizeof(out));
	assert_int_equal(out[0], '{');
	as_nobody(f, &f->gid, 1, "role primary\n", out, sizeof(out));
	assert_string_equal(out, "error: permission denied: only root may change the role\n");
	/* Root may (the answer is the device's, not a refusal). */
	ask(f->ctx, "role primary\n", out, sizeof(out));
	assert_null(strstr(out, "permission denied"));
}

static void test_stranger_refused(void **state)
{
	struct fixture *f = *state;
	char out[8192];

	if (geteuid() != 0)
		skip();
	as_nobody(f, NULL, 0, "status\n", out, sizeof(out));
	assert_string_equal(out, "connect: Permission denied");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_silent_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_reads_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stranger_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
