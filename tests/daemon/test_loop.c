/* The parent's event loop (daemon/parent/loop.c): handlers registered
 * per fd get their own events with their own argument, may remove their
 * own fd or another one during a wake-up, the after-wake-up hook runs
 * once per wake-up, and quit ends dld_loop_run.  Driven with eventfds. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"

struct probe {
	int fd;
	int calls;
	uint32_t events;
	struct dld_loop *loop;
	int del_fd;                    /* removed by this handler, or -1 */
	bool quit;                     /* this handler quits the loop   */
	int *order;                    /* the call order, shared        */
	int *norder;
	int id;
};

static void kick(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

static void handler(int fd, uint32_t events, void *arg)
{
	struct probe *p = arg;
	uint64_t v;

	assert_int_equal(fd, p->fd);
	p->calls++;
	p->events = events;
	if (read(fd, &v, sizeof(v)) < 0)
		v = 0;
	if (p->order)
		p->order[(*p->norder)++] = p->id;
	if (p->del_fd >= 0)
		assert_int_equal(dld_loop_del(p->loop, p->del_fd), 0);
	if (p->quit)
		dld_loop_quit(p->loop);
}

static int after_calls;

static void after(void *arg)
{
	int *n = arg;

	(*n)++;
}

static struct probe probe(struct dld_loop *l, int id)
{
	struct probe p = { .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), .loop = l,
			   .del_fd = -1, .id = id };

	assert_true(p.fd >= 0);
	return p;
}

static int setup(void **state)
{
	struct dld_loop *l = malloc(sizeof(*l));

	assert_non_null(l);
	assert_int_equal(dld_loop_init(l), 0);
	after_calls = 0;
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	dld_loop_fini(*state);
	free(*state);
	return 0;
}

static void test_dispatch_to_own_handler(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1), b = probe(l, 2);

	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), 0);
	assert_int_equal(dld_loop_add(l, b.fd, EPOLLIN, handler, &b), 0);
	kick(b.fd);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	assert_true(b.events & EPOLLIN);
	kick(a.fd);
	kick(b.fd);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 2);
	/* Nothing ready: a timeout is no error and calls nothing. */
	assert_int_equal(dld_loop_once(l, 0), 0);
	assert_int_equal(a.calls + b.calls, 3);
	close(a.fd);
	close(b.fd);
}

static void test_add_del_errors(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1);

	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), 0);
	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(dld_loop_add(l, -1, EPOLLIN, handler, &a), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dld_loop_del(l, a.fd), 0);
	assert_int_equal(dld_loop_del(l, a.fd), -1);
	assert_int_equal(errno, ENOENT);
	/* Removed: its events are no longer delivered. */
	kick(a.fd);
	assert_int_equal(dld_loop_once(l, 0), 0);
	assert_int_equal(a.calls, 0);
	/* And it can come back. */
	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), 0);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(a.calls, 1);
	close(a.fd);
}

static void test_table_full(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1);
	int fds[DLD_LOOP_MAX];

	for (uint32_t i = 0; i < DLD_LOOP_MAX; i++) {
		fds[i] = dup(a.fd);
		assert_int_equal(dld_loop_add(l, fds[i], EPOLLIN, handler, &a), 0);
	}
	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), -1);
	assert_int_equal(errno, ENOSPC);
	for (uint32_t i = 0; i < DLD_LOOP_MAX; i++) {
		assert_int_equal(dld_loop_del(l, fds[i]), 0);
		close(fds[i]);
	}
	close(a.fd);
}

/* A handler removes the other fd, ready in the same wake-up: the other
 * handler is not called, whichever order epoll reports them in. */
static void test_handler_removes_other(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1), b = probe(l, 2);

	a.del_fd = b.fd;
	b.del_fd = a.fd;
	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), 0);
	assert_int_equal(dld_loop_add(l, b.fd, EPOLLIN, handler, &b), 0);
	kick(a.fd);
	kick(b.fd);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(a.calls + b.calls, 1);
	close(a.fd);
	close(b.fd);
}

static struct probe *swap_in;          /* added by swap() in the freed entry */

/* Remove the other fd and add swap_in's: it takes the freed entry. */
static void swap(int fd, uint32_t events, void *arg)
{
	struct probe *p = arg;

	handler(fd, events, arg);
	assert_int_equal(dld_loop_add(p->loop, swap_in->fd, EPOLLIN, handler, swap_in), 0);
}

/* A handler removes another fd that is ready in the same wake-up and adds
 * a new one, which takes the freed entry: the stale event of the removed
 * fd does not reach the new handler. */
static void test_removed_entry_reused(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1), b = probe(l, 2), c = probe(l, 3);

	a.del_fd = b.fd;
	b.del_fd = a.fd;
	swap_in = &c;
	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, swap, &a), 0);
	assert_int_equal(dld_loop_add(l, b.fd, EPOLLIN, swap, &b), 0);
	kick(a.fd);
	kick(b.fd);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(a.calls + b.calls, 1);
	assert_int_equal(c.calls, 0);
	/* c is watched for real. */
	kick(c.fd);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(c.calls, 1);
	close(a.fd);
	close(b.fd);
	close(c.fd);
}

static void test_handler_removes_itself(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1);

	a.del_fd = a.fd;
	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), 0);
	kick(a.fd);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(a.calls, 1);
	kick(a.fd);
	assert_int_equal(dld_loop_once(l, 0), 0);
	assert_int_equal(a.calls, 1);
	close(a.fd);
}

static void test_after_hook(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1), b = probe(l, 2);

	dld_loop_set_after(l, after, &after_calls);
	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), 0);
	assert_int_equal(dld_loop_add(l, b.fd, EPOLLIN, handler, &b), 0);
	kick(a.fd);
	kick(b.fd);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(a.calls + b.calls, 2);
	assert_int_equal(after_calls, 1);  /* once per wake-up, not per fd */
	kick(a.fd);
	assert_int_equal(dld_loop_once(l, 1000), 0);
	assert_int_equal(after_calls, 2);
	close(a.fd);
	close(b.fd);
}

/* dld_loop_run runs until a handler quits; the handlers after it in the
 * same wake-up are not run. */
static void test_run_until_quit(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1), b = probe(l, 2);
	int order[8], n = 0;

	a.order = b.order = order;
	a.norder = b.norder = &n;
	a.quit = b.quit = true;
	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), 0);
	assert_int_equal(dld_loop_add(l, b.fd, EPOLLIN, handler, &b), 0);
	kick(a.fd);
	kick(b.fd);
	assert_int_equal(dld_loop_run(l), 0);
	assert_true(l->quit);
	assert_int_equal(n, 1);
	assert_int_equal(a.calls + b.calls, 1);
	close(a.fd);
	close(b.fd);
}

/* The forked I/O child closes every registered fd and the epoll fd. */
static void test_close_all_fds(void **state)
{
	struct dld_loop *l = *state;
	struct probe a = probe(l, 1), b = probe(l, 2);
	int keep = eventfd(0, EFD_CLOEXEC);

	assert_int_equal(dld_loop_add(l, a.fd, EPOLLIN, handler, &a), 0);
	assert_int_equal(dld_loop_add(l, b.fd, EPOLLIN, handler, &b), 0);
	dld_loop_close_all_fds(l);
	assert_int_equal(fcntl(a.fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(fcntl(b.fd, F_GETFD), -1);
	assert_int_equal(l->epfd, -1);
	assert_true(fcntl(keep, F_GETFD) >= 0);        /* not registered: stays */
	close(keep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dispatch_to_own_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_del_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_removes_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_entry_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_removes_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_until_quit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_all_fds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
