/* The control socket (daemon/parent/control.c, with role.c and the
 * status replies): a real AF_UNIX socket in a temporary directory, a
 * minimal context without an I/O child, and clients in this process.
 * The event loop is turned by hand (dld_loop_once) until each client
 * has its answer.  A "running child" for the role requests is a shared
 * channel (dld_chan_create) whose answers the test writes itself, as
 * the I/O child would. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctx.h"
#include "slot_header.h"

struct fixture {
	struct dld_ctx *ctx;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dld_ctx *ctx;

	assert_non_null(f);
	f->ctx = ctx = calloc(1, sizeof(*ctx));
	assert_non_null(ctx);
	dld_ctx_init(ctx);
	snprintf(f->dir, sizeof(f->dir), "/tmp/dld-test-control.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	dld_config_defaults(&ctx->cfg);
	/* In a subdirectory: dld_control_open creates it. */
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
	if (f->ctx->chan.shm)
		dld_chan_destroy(&f->ctx->chan);
	dld_loop_fini(&f->ctx->loop);
	snprintf(path, sizeof(path), "%s/run", f->dir);
	rmdir(path);
	rmdir(f->dir);
	free(f->ctx);
	free(f);
	return 0;
}

static int client(struct dld_ctx *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctx->cfg.control);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Turn the loop until the server closes fd; out gets what it sent. */
static size_t answer_of(struct dld_ctx *ctx, int fd, char *out, size_t size)
{
	size_t have = 0;

	for (int turns = 0; turns < 50; turns++) {
		ssize_t n = recv(fd, out + have, size - 1 - have, 0);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;             /* reset: it closed with our data unread */
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		assert_true(errno == EAGAIN);
		assert_int_equal(dld_loop_once(&ctx->loop, 100), 0);
	}
	out[have] = 0;
	close(fd);
	return have;
}

static size_t ask(struct dld_ctx *ctx, const void *req, size_t len, char *out, size_t size)
{
	int fd = client(ctx);

	assert_int_equal(send(fd, req, len, 0), (ssize_t)len);
	return answer_of(ctx, fd, out, size);
}

static uint32_t clients_open(const struct dld_ctx *ctx)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		n += ctx->clients[i].fd >= 0;
	return n;
}

static void test_status_json(void **state)
{
	struct fixture *f = *state;
	char out[8192];
	size_t n = ask(f->ctx, "status\n", 7, out, sizeof(out));

	assert_true(n > 2);
	assert_int_equal(out[0], '{');
	assert_string_equal(out + n - 2, "}\n");
	assert_non_null(strstr(out, "\"device\":\"/dev/test-volume\""));
	assert_non_null(strstr(out, "\"device_state\":\"starting\""));
	assert_non_null(strstr(out, "\"corosync\":\"off\""));
	assert_non_null(strstr(out, "\"peers\":[]"));
	assert_int_equal(clients_open(f->ctx), 0);
}

static void test_status_text_crlf(void **state)
{
	struct fixture *f = *state;
	char out[8192];

	ask(f->ctx, "status text\r\n", 13, out, sizeof(out));
	assert_non_null(strstr(out, "device /dev/test-volume: starting\n"));
	assert_non_null(strstr(out, "NODE"));
}

static void test_unknown_command(void **state)
{
	struct fixture *f = *state;
	char out[512];

	ask(f->ctx, "reboot\n", 7, out, sizeof(out));
	assert_string_equal(out, "error: unknown command 'reboot' (try 'status')\n");
}

/* Garbage without a newline that fills the buffer is taken as a command
 * at once (and answered, cut to 40 characters). */
static void test_garbage_fills_buffer(void **state)
{
	struct fixture *f = *state;
	char req[127], out[512];

	memset(req, 'x', sizeof(req));
	req[3] = 1;                    /* a control character */
	ask(f->ctx, req, sizeof(req), out, sizeof(out));
	assert_non_null(strstr(out, "error: unknown command 'xxx\001xxxx"));
	assert_int_equal(strlen(out), strlen("error: unknown command '' (try 'status')\n") + 40);
	assert_int_equal(clients_open(f->ctx), 0);
}

/* Far more than a line: the client is answered or reset, and its slot
 * is free again; the server goes on serving. */
static void test_too_much(void **state)
{
	struct fixture *f = *state;
	char req[4096], out[8192];

	memset(req, 'y', sizeof(req));
	ask(f->ctx, req, sizeof(req), out, sizeof(out));
	assert_int_equal(clients_open(f->ctx), 0);
	ask(f->ctx, "status\n", 7, out, sizeof(out));
	assert_int_equal(out[0], '{');
}

/* A client that sends half a line and goes away frees its slot. */
static void test_client_gone(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->ctx);

	assert_int_equal(send(fd, "sta", 3, 0), 3);
	assert_int_equal(dld_loop_once(&f->ctx->loop, 1000), 0);
	assert_int_equal(dld_loop_once(&f->ctx->loop, 100), 0);
	assert_int_equal(clients_open(f->ctx), 1);
	close(fd);
	assert_int_equal(dld_loop_once(&f->ctx->loop, 1000), 0);
	assert_int_equal(clients_open(f->ctx), 0);
}

/* One client more than there are slots is closed at once; the others
 * are served. */
static void test_more_clients_than_slots(void **state)
{
	struct fixture *f = *state;
	int fds[DLD_CTL_CLIENTS], extra;
	char out[8192];

	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		fds[i] = client(f->ctx);
	for (int k = 0; k < 3 && clients_open(f->ctx) < DLD_CTL_CLIENTS; k++)
		assert_int_equal(dld_loop_once(&f->ctx->loop, 100), 0);
	assert_int_equal(clients_open(f->ctx), DLD_CTL_CLIENTS);
	extra = client(f->ctx);
	assert_int_equal(answer_of(f->ctx, extra, out, sizeof(out)), 0);
	assert_int_equal(clients_open(f->ctx), DLD_CTL_CLIENTS);
	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++) {
		assert_int_equal(send(fds[i], "status\n", 7, 0), 7);
		assert_true(answer_of(f->ctx, fds[i], out, sizeof(out)) > 0);
		assert_int_equal(out[0], '{');
	}
	assert_int_equal(clients_open(f->ctx), 0);
}

/* A second daemon on the same path is refused. */
static void test_second_daemon_refused(void **state)
{
	struct fixture *f = *state;
	struct dld_ctx *other = calloc(1, sizeof(*other));

	assert_non_null(other);
	dld_ctx_init(other);
	other->cfg = f->ctx->cfg;
	assert_int_equal(dld_loop_init(&other->loop), 0);
	assert_int_equal(dld_control_open(other), -1);
	assert_int_equal(errno, EADDRINUSE);
	dld_loop_fini(&other->loop);
	free(other);
}

static void test_role_errors_at_once(void **state)
{
	struct fixture *f = *state;
	char out[512];

	ask(f->ctx, "role boss\n", 10, out, sizeof(out));
	assert_string_equal(out, "error: unknown role 'boss': give primary, secondary or none\n");
	ask(f->ctx, "role\n", 5, out, sizeof(out));
	assert_string_equal(out, "error: unknown role '': give primary, secondary or none\n");
	ask(f->ctx, "role primary\n", 13, out, sizeof(out));
	assert_string_equal(out, "error: the role was not written: the device is starting (see "
			    "'disklink status')\n");
	/* "roles" is not "role". */
	ask(f->ctx, "roles\n", 6, out, sizeof(out));
	assert_string_equal(out, "error: unknown command 'roles' (try 'status')\n");
}

/* A ready child: its channel exists; the test answers for it. */
static void fake_child(struct dld_ctx *ctx)
{
	assert_int_equal(dld_chan_create(&ctx->chan, 64), 0);
	ctx->child = getpid();
	ctx->child_ready_ns = 1;
	ctx->children = 1;
}

static int role_client(struct fixture *f, const char *req)
{
	int fd = client(f->ctx);
	char buf[8];

	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	for (int k = 0; k < 3; k++)
		assert_int_equal(dld_loop_once(&f->ctx->loop, 100), 0);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), -1);     /* still waiting */
	assert_int_equal(errno, EAGAIN);
	return fd;
}

static void test_role_written(void **state)
{
	struct fixture *f = *state;
	struct dld_shm *shm;
	char out[512];
	int fd;

	fake_child(f->ctx);
	shm = f->ctx->chan.shm;
	fd = role_client(f, "role secondary\n");
	assert_int_equal(shm->role, DL_ROLE_SECONDARY);
	assert_int_equal(atomic_load(&shm->role_seq), 1);
	/* Not done yet: no answer. */
	dld_control_poll(f->ctx, dld_mono_ns());
	assert_int_equal(clients_open(f->ctx), 1);
	atomic_store(&shm->role_done, 1);
	dld_control_poll(f->ctx, dld_mono_ns());
	answer_of(f->ctx, fd, out, sizeof(out));
	assert_string_equal(out, "ok role secondary\n");
	assert_int_equal(f->ctx->role, DL_ROLE_SECONDARY);
	/* The child failed to write it. */
	fd = role_client(f, "role primary\n");
	snprintf(shm->role_err, sizeof(shm->role_err), "slot header write failed");
	atomic_store(&shm->role_done, 2);
	dld_control_poll(f->ctx, dld_mono_ns());
	answer_of(f->ctx, fd, out, sizeof(out));
	assert_string_equal(out, "error: slot header write failed\n");
}

static void test_role_timeout_and_child_gone(void **state)
{
	struct fixture *f = *state;
	char out[512];
	int fd;

	fake_child(f->ctx);
	fd = role_client(f, "role primary\n");
	dld_control_poll(f->ctx, dld_mono_ns() + 60000000000ull);
	answer_of(f->ctx, fd, out, sizeof(out));
	assert_string_equal(out, "error: role primary not written in time: the device does "
			    "not answer (see 'disklink status')\n");
	fd = role_client(f, "role none\n");
	f->ctx->child = getpid() + 1;  /* another child now */
	dld_control_poll(f->ctx, dld_mono_ns());
	answer_of(f->ctx, fd, out, sizeof(out));
	assert_string_equal(out, "error: the I/O child stopped before writing role none (see "
			    "'disklink status')\n");
	f->ctx->child = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_text_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_fills_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_much, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_clients_than_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_daemon_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_errors_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_timeout_and_child_gone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
