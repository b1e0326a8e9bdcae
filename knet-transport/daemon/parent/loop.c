/* The parent's event loop: one epoll set, a table of (fd, handler, arg),
 * and an "after each wake-up" hook.  An epoll event carries the entry's
 * index and generation, so that a handler may remove its own fd or
 * another one (and even reuse the entry) during a wake-up without a
 * stale event reaching the new owner. */
#include "config.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

#define BATCH 32

int dld_loop_init(struct dld_loop *l)
{
	*l = (struct dld_loop){ .epfd = -1 };
	for (uint32_t i = 0; i < DLD_LOOP_MAX; i++)
		l->e[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -1 : 0;
}

void dld_loop_fini(struct dld_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	for (uint32_t i = 0; i < DLD_LOOP_MAX; i++)
		l->e[i].fd = -1;
}

static int find(const struct dld_loop *l, int fd)
{
	for (uint32_t i = 0; i < DLD_LOOP_MAX; i++)
		if (l->e[i].fd == fd)
			return (int)i;
	return -1;
}

int dld_loop_add(struct dld_loop *l, int fd, uint32_t events, dld_loop_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events };
	struct dld_loop_entry *e;
	int i;

	if (fd < 0 || !fn) {
		errno = EINVAL;
		return -1;
	}
	if (find(l, fd) >= 0) {
		errno = EEXIST;
		return -1;
	}
	i = find(l, -1);
	if (i < 0) {
		errno = ENOSPC;
		return -1;
	}
	e = &l->e[i];
	ev.data.u64 = ((uint64_t)(e->gen + 1) << 32) | (uint32_t)i;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -1;
	e->gen++;
	e->fd = fd;
	e->fn = fn;
	e->arg = arg;
	return 0;
}

int dld_loop_del(struct dld_loop *l, int fd)
{
	int i = fd < 0 ? -1 : find(l, fd);

	if (i < 0) {
		errno = ENOENT;
		return -1;
	}
	/* Fails only when fd was closed already, which removed it. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->e[i].fd = -1;
	l->e[i].fn = NULL;
	l->e[i].arg = NULL;
	return 0;
}

void dld_loop_set_after(struct dld_loop *l, dld_loop_hook fn, void *arg)
{
	l->after = fn;
	l->after_arg = arg;
}

int dld_loop_once(struct dld_loop *l, int timeout_ms)
{
	struct epoll_event ev[BATCH];
	int n = epoll_wait(l->epfd, ev, BATCH, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int k = 0; k < n && !l->quit; k++) {
		uint32_t i = (uint32_t)ev[k].data.u64;
		uint32_t gen = (uint32_t)(ev[k].data.u64 >> 32);
		struct dld_loop_entry *e;

		if (i >= DLD_LOOP_MAX)
			continue;
		e = &l->e[i];
		/* Removed (or replaced) by an earlier handler of this batch. */
		if (e->fd < 0 || e->gen != gen)
			continue;
		e->fn(e->fd, ev[k].events, e->arg);
	}
	if (l->after)
		l->after(l->after_arg);
	return 0;
}

int dld_loop_run(struct dld_loop *l)
{
	while (!l->quit)
		if (dld_loop_once(l, -1))
			return -1;
	return 0;
}

void dld_loop_quit(struct dld_loop *l)
{
	l->quit = true;
}

void dld_loop_close_all_fds(struct dld_loop *l)
{
	for (uint32_t i = 0; i < DLD_LOOP_MAX; i++) {
		if (l->e[i].fd >= 0)
			close(l->e[i].fd);
		l->e[i].fd = -1;
	}
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}
