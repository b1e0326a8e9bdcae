/* disklinkd: carries a knet UDP link through a disklink volume.
 *
 * Start-up order (as corosync's exec/main.c): configuration, then
 * daemonizing (the launcher waits for "ready" or the exit status), logging,
 * signals, the pid file, the UDP sockets, the control socket, and the
 * disk I/O child; then the parent's epoll loop, which never touches the
 * device. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "ctx.h"
#include "privileges.h"

int dld_epoll_add(struct dld_ctx *ctx, int fd, enum dld_tag tag, uint32_t idx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = DLD_EV(tag, idx) };

	if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		qb_log(LOG_ERR, "epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Fork into the background; the launcher exits with the daemon's start-up
 * result: 0 once it serves, or its exit status and one-line error. */
static int daemonize(struct dld_ctx *ctx)
{
	int p[2], devnull;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		fprintf(stderr, "disklinkd: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "disklinkd: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		char msg[512];
		ssize_t n;
		int st;

		close(p[1]);
		n = read(p[0], msg, sizeof(msg) - 1);
		if (n > 0) {
			msg[n] = 0;
			if (n > 1)     /* an error, or why a running daemon waits */
				fprintf(stderr, "disklinkd: %s\n", msg + 1);
			_exit((unsigned char)msg[0]);
		}
		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
			_exit(WEXITSTATUS(st));
		_exit(DLD_EXIT_RUNTIME);
	}
	close(p[0]);
	ctx->ready_fd = p[1];
	setsid();
	if (chdir("/"))
		return -1;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		close(devnull);
	}
	return 0;
}

static int pid_file_write(struct dld_ctx *ctx)
{
	FILE *f;

	if (!ctx->cfg.pid_file[0])
		return 0;
	f = fopen(ctx->cfg.pid_file, "we");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
		qb_log(LOG_ERR, "cannot write the pid file %s: %s", ctx->cfg.pid_file,
		       strerror(errno));
		return -1;
	}
	return 0;
}

/* Only our own pid file: a successor may already have written its own. */
static void pid_file_remove(struct dld_ctx *ctx)
{
	FILE *f;
	int pid = 0;

	if (!ctx->cfg.pid_file[0] || !(f = fopen(ctx->cfg.pid_file, "re")))
		return;
	if (fscanf(f, "%d", &pid) == 1 && pid == (int)getpid())
		unlink(ctx->cfg.pid_file);
	fclose(f);
}

static int setup_events(struct dld_ctx *ctx)
{
	struct itimerspec tick = {
		.it_interval = { .tv_nsec = DLD_TICK_MS * 1000000L },
		.it_value = { .tv_nsec = DLD_TICK_MS * 1000000L },
	};
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	ctx->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ctx->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ctx->coalfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctx->epfd < 0 || ctx->sigfd < 0 || ctx->tickfd < 0 || ctx->coalfd < 0 ||
	    timerfd_settime(ctx->tickfd, 0, &tick, NULL)) {
		qb_log(LOG_ERR, "cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	if (dld_epoll_add(ctx, ctx->sigfd, DLD_TAG_SIGNAL, 0) ||
	    dld_epoll_add(ctx, ctx->tickfd, DLD_TAG_TICK, 0) ||
	    dld_epoll_add(ctx, ctx->coalfd, DLD_TAG_COALESCE, 0))
		return -1;
	return 0;
}

static void reload(struct dld_ctx *ctx)
{
	struct dld_tunables t = ctx->cfg.tun;

	qb_log(LOG_NOTICE, "SIGHUP: rereading the tunables of %s", ctx->cfg.config_file);
	/* In corosync mode, compare with what was given, not with corosync's. */
	if (dld_config_reload(ctx->cfg.link >= 0 ? &ctx->cs.given : &ctx->cfg, &t))
		return;
	ctx->cfg.tun = t;
	dld_log_set_debug(&ctx->cfg, t.debug);
	dld_child_tunables(ctx);
	qb_log(LOG_NOTICE, "tunables reloaded: poll %u/%u us, fast window %u ms, header %u ms, "
	       "io timeout %u ms", t.poll_fast_us, t.poll_idle_us, t.fast_window_ms,
	       t.header_interval_ms, t.io_timeout_ms);
}

static void on_signal(struct dld_ctx *ctx)
{
	struct signalfd_siginfo si;

	while (read(ctx->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			qb_log(LOG_NOTICE, "%s: stopping", strsignal((int)si.ssi_signo));
			dld_child_stop(ctx);
			break;
		case SIGHUP:
			reload(ctx);
			break;
		case SIGCHLD:
			dld_child_reap(ctx);
			break;
		}
	}
}

static void dispatch(struct dld_ctx *ctx, uint64_t tag)
{
	uint32_t idx = (uint32_t)tag;
	uint64_t exp;

	switch ((enum dld_tag)(tag >> 32)) {
	case DLD_TAG_SIGNAL:
		on_signal(ctx);
		break;
	case DLD_TAG_TICK:
		if (read(ctx->tickfd, &exp, sizeof(exp)) < 0)
			exp = 0;
		dld_child_tick(ctx, dld_mono_ns());
		dld_role_poll(ctx, dld_mono_ns());
		break;
	case DLD_TAG_CTL:
		dld_control_accept(ctx);
		break;
	case DLD_TAG_CLIENT:
		dld_control_client(ctx, idx);
		break;
	case DLD_TAG_PEER:
		if (idx < ctx->cfg.peer_count)
			dld_sockets_recv(ctx, idx);
		break;
	case DLD_TAG_RX:
		dld_sockets_deliver(ctx);
		dld_role_poll(ctx, dld_mono_ns());
		break;
	case DLD_TAG_COALESCE:
		if (read(ctx->coalfd, &exp, sizeof(exp)) < 0)
			exp = 0;
		dld_sockets_flush(ctx, true);
		break;
	case DLD_TAG_CS:
		dld_cs_on_cmap(ctx);
		break;
	case DLD_TAG_CS_TIMER:
		dld_cs_on_timer(ctx);
		break;
	}
}

static int run(struct dld_ctx *ctx)
{
	struct epoll_event ev[32];

	while (!ctx->quit) {
		int n = epoll_wait(ctx->epfd, ev, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			qb_log(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return DLD_EXIT_RUNTIME;
		}
		for (int i = 0; i < n && !ctx->quit; i++)
			dispatch(ctx, ev[i].data.u64);
		dld_sockets_flush(ctx, false);
	}
	return ctx->exit_code;
}

static void cleanup(struct dld_ctx *ctx, int rc)
{
	if (ctx->ready_fd >= 0) {
		/* Start-up failed: the launcher exits with rc and the reason. */
		char msg[256];
		int n = snprintf(msg, sizeof(msg), "%c%s", rc,
				 ctx->error[0] ? ctx->error : "start-up failed (see the log)");

		if (write(ctx->ready_fd, msg, (size_t)n) < 0)
			rc = rc ? rc : DLD_EXIT_RUNTIME;
		close(ctx->ready_fd);
	}
	dld_cs_stop(ctx);
	dld_sockets_close(ctx);
	dld_control_close(ctx);
	if (ctx->chan.shm)
		dld_chan_destroy(&ctx->chan);
	pid_file_remove(ctx);
	if (ctx->tickfd >= 0)
		close(ctx->tickfd);
	if (ctx->coalfd >= 0)
		close(ctx->coalfd);
	if (ctx->sigfd >= 0)
		close(ctx->sigfd);
	if (ctx->epfd >= 0)
		close(ctx->epfd);
	qb_log(rc ? LOG_ERR : LOG_NOTICE, "disklinkd stopped (exit status %d)", rc);
	dld_log_fini();
}

int main(int argc, char **argv)
{
	struct dld_ctx *ctx = calloc(1, sizeof(*ctx));
	bool exit_now;
	int rc;

	if (!ctx) {
		fprintf(stderr, "disklinkd: out of memory\n");
		return DLD_EXIT_RUNTIME;
	}
	ctx->epfd = ctx->sigfd = ctx->tickfd = ctx->coalfd = ctx->ctl_fd = ctx->ready_fd = -1;
	ctx->cs.timerfd = ctx->cs.watch.fd = -1;
	for (uint32_t i = 0; i < DLD_MAX_PEERS; i++)
		ctx->peers[i].fd = -1;
	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		ctx->clients[i].fd = -1;
	dld_config_defaults(&ctx->cfg);
	rc = dld_config_load(&ctx->cfg, argc, argv, &exit_now);
	if (rc || exit_now) {
		free(ctx);
		return rc;
	}
	if (!ctx->cfg.foreground && daemonize(ctx)) {
		free(ctx);
		return DLD_EXIT_RUNTIME;
	}
	ctx->start_ns = dld_mono_ns();
	dld_log_init(&ctx->cfg);
	if (ctx->cfg.link >= 0)
		qb_log(LOG_NOTICE, "disklinkd %s starting: device %s, corosync link %d",
		       PACKAGE_VERSION, ctx->cfg.device, ctx->cfg.link);
	else
		qb_log(LOG_NOTICE, "disklinkd %s starting: node %u (%s), device %s, link %s:%u, "
		       "%u peers", PACKAGE_VERSION, ctx->cfg.node_id, ctx->cfg.node_name,
		       ctx->cfg.device, ctx->cfg.local_text, ctx->cfg.port, ctx->cfg.peer_count);
	rc = DLD_EXIT_RUNTIME;
	if (setup_events(ctx) || pid_file_write(ctx))
		goto out;
	if (ctx->cfg.link < 0 && dld_sockets_open(ctx)) {
		snprintf(ctx->error, sizeof(ctx->error), "cannot bind the peer addresses (see the log)");
		goto out;
	}
	if (dld_control_open(ctx)) {
		snprintf(ctx->error, sizeof(ctx->error), "cannot open the control socket %s (see "
			 "the log)", ctx->cfg.control);
		goto out;
	}
	/* Sockets bound: no capability is needed from here on (doc/security.md). */
	if (dld_privileges_drop()) {
		snprintf(ctx->error, sizeof(ctx->error), "cannot drop capabilities (see the log)");
		goto out;
	}
	if (ctx->cfg.link >= 0) {
		/* The sockets and the I/O child follow corosync's configuration. */
		rc = dld_cs_start(ctx);
		if (rc || ctx->quit)
			goto out;
	} else {
		dld_child_start(ctx);
	}
	rc = run(ctx);
out:
	cleanup(ctx, rc);
	free(ctx);
	return rc;
}
