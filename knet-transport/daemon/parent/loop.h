/* The parent's one event loop (epoll).  Each part registers its own fd
 * with its own handler and argument, as booth's client_add(fd, workfn,
 * deadfn) and corosync's cs_poll_dispatch_add do: there is no central
 * switch over event kinds, and no part calls back into main.c.
 *
 * Conventions of the parent (daemon/parent/):
 *  - A function returns 0, or -1 with errno set (and logs what the
 *    operator needs to know).  Functions that answer a question return
 *    bool; none returns an exit status.
 *  - A reason meant for the operator (a cmap configuration error, a
 *    control reply) comes back as one line in a `char *err` (or text)
 *    buffer the caller gives, with its size.
 *  - A fatal condition does not travel up as a return value: the part
 *    records the exit status and the one-line reason in the context
 *    (dld_ctx_exit() in ctx.h) and asks the loop to quit; main() returns
 *    what the context holds. */
#ifndef DLD_LOOP_H
#define DLD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "dld.h"

/* Every fd the parent may watch at once: the peers' sockets, the control
 * clients (DLD_CTL_CLIENTS, ctx.h), and a few of its own (signals, timers, control, cmap, the
 * child's channel). */
#define DLD_LOOP_MAX (DLD_MAX_PEERS + 96u)

/* events: the epoll events that woke it (EPOLLIN ...). */
typedef void (*dld_loop_fn)(int fd, uint32_t events, void *arg);
/* Called once after each wake-up, after every handler of it ran. */
typedef void (*dld_loop_hook)(void *arg);

struct dld_loop_entry {
	int fd;                        /* -1: free                          */
	uint32_t gen;                  /* bumped at each use of the entry   */
	dld_loop_fn fn;
	void *arg;
};

struct dld_loop {
	int epfd;
	bool quit;
	dld_loop_hook after;
	void *after_arg;
	struct dld_loop_entry e[DLD_LOOP_MAX];
};

/* 0, or -1 with errno (epoll_create1). */
int dld_loop_init(struct dld_loop *l);
/* Close the epoll fd (the registered fds stay their owners'). */
void dld_loop_fini(struct dld_loop *l);
/* Watch fd for events; fn(fd, events, arg) runs when it is ready.  0, or
 * -1 with errno: EEXIST (fd already watched), ENOSPC (table full), or
 * epoll_ctl's. */
int dld_loop_add(struct dld_loop *l, int fd, uint32_t events, dld_loop_fn fn, void *arg);
/* Stop watching fd (it stays open).  Safe from a handler, for its own fd
 * or another: an event of this wake-up for a removed fd is not
 * delivered.  0, or -1 with errno ENOENT. */
int dld_loop_del(struct dld_loop *l, int fd);
void dld_loop_set_after(struct dld_loop *l, dld_loop_hook fn, void *arg);
/* One wake-up: wait up to timeout_ms (-1: no limit), run the handlers of
 * the ready fds, then the after hook.  0 (also on EINTR or a timeout), or
 * -1 with errno. */
int dld_loop_once(struct dld_loop *l, int timeout_ms);
/* Run until dld_loop_quit.  0, or -1 with errno (epoll_wait failed). */
int dld_loop_run(struct dld_loop *l);
/* The handlers still pending in this wake-up are not run. */
void dld_loop_quit(struct dld_loop *l);
/* In a forked child: close every registered fd and the epoll fd, so that
 * the child holds none of the parent's sockets, timers or clients. */
void dld_loop_close_all_fds(struct dld_loop *l);

#endif
