/* disklinkd: carries a knet UDP link through a disklink volume.
 *
 * Start-up order (as corosync's exec/main.c): configuration, then
 * daemonizing (the launcher waits for "ready" or the exit status), logging,
 * signals, the pid file, the UDP sockets, the control socket, and the
 * disk I/O child; then the parent's event loop (loop.h), which never
 * touches the device.  This file only wires the parts together: each
 * registers its own fds and handlers, and none calls back into it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "privileges.h"

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
		log_err(DLD_SUB_MAIN, "cannot write the pid file %s: %s", ctx->cfg.pid_file,
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

static void reload(struct dld_ctx *ctx)
{
	struct dld_tunables t = ctx->cfg.tun;

	dld_log_reopen(&ctx->cfg);
	log_notice(DLD_SUB_MAIN, "SIGHUP: rereading the tunables of %s", ctx->cfg.config_file);
	/* In corosync mode, compare with what was given, not with corosync's. */
	if (dld_config_reload(ctx->cfg.link >= 0 ? &ctx->cs.given : &ctx->cfg, &t))
		return;
	ctx->cfg.tun = t;
	dld_log_set_debug(&ctx->cfg, t.debug);
	dld_child_tunables(ctx);
	dld_timing_reloaded(ctx);
	log_notice(DLD_SUB_MAIN, "tunables reloaded: poll %u/%u us, fast window %u ms, "
		   "header %u ms, io timeout %u ms", t.poll_fast_us, t.poll_idle_us,
		   t.fast_window_ms, t.header_interval_ms, t.io_timeout_ms);
}

static void on_signal(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_notice(DLD_SUB_MAIN, "%s: stopping", strsignal((int)si.ssi_signo));
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

static void on_tick(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	uint64_t exp;

	(void)events;
	if (read(fd, &exp, sizeof(exp)) < 0)
		exp = 0;
	dld_child_tick(ctx, dld_mono_ns());
	dld_control_poll(ctx, dld_mono_ns());
	dld_timing_tick(ctx, dld_mono_ns());
}

/* The I/O child's channel: datagrams to deliver, role requests done. */
static void on_child_rx(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;

	(void)fd;
	(void)events;
	if (ctx->vnic.fd >= 0)
		dld_tun_deliver(ctx);
	else
		dld_sockets_deliver(ctx);
	dld_control_poll(ctx, dld_mono_ns());
}

/* After each wake-up: queue what the peers' sockets received. */
static void after_wakeup(void *arg)
{
	dld_sockets_flush(arg, false);
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
	ctx->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ctx->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctx->loop.epfd < 0 || ctx->sigfd < 0 || ctx->tickfd < 0 ||
	    timerfd_settime(ctx->tickfd, 0, &tick, NULL) ||
	    dld_loop_add(&ctx->loop, ctx->sigfd, EPOLLIN, on_signal, ctx) ||
	    dld_loop_add(&ctx->loop, ctx->tickfd, EPOLLIN, on_tick, ctx) ||
	    dld_sockets_init(ctx)) {
		log_err(DLD_SUB_MAIN, "cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	ctx->on_child_rx = on_child_rx;
	dld_loop_set_after(&ctx->loop, after_wakeup, ctx);
	return 0;
}

static int run(struct dld_ctx *ctx)
{
	if (dld_loop_run(&ctx->loop)) {
		log_err(DLD_SUB_MAIN, "epoll_wait: %s", strerror(errno));
		return DLD_EXIT_RUNTIME;
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
	dld_timing_stop(ctx);
	dld_cs_stop(ctx);
	dld_sockets_close(ctx);
	dld_tun_close(ctx);
	dld_control_close(ctx);
	if (ctx->chan.shm)
		dld_chan_destroy(&ctx->chan);
	pid_file_remove(ctx);
	if (ctx->tickfd >= 0)
		close(ctx->tickfd);
	if (ctx->sigfd >= 0)
		close(ctx->sigfd);
	dld_loop_fini(&ctx->loop);
	dld_log(rc ? LOG_ERR : LOG_NOTICE, DLD_SUB_MAIN, "disklinkd stopped (exit status %d)", rc);
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
	dld_ctx_init(ctx);
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
	dld_loop_init(&ctx->loop);     /* a failure: setup_events reports it */
	dld_log_init(&ctx->cfg);
	if (ctx->cfg.link >= 0)
		log_notice(DLD_SUB_MAIN, "disklinkd %s starting: device %s, corosync link %d",
			   DL_VERSION_STRING, ctx->cfg.device, ctx->cfg.link);
	else
		log_notice(DLD_SUB_MAIN, "disklinkd %s starting: node %u (%s), device %s, "
			   "link %s:%u, %u peers", DL_VERSION_STRING, ctx->cfg.node_id,
			   ctx->cfg.node_name, ctx->cfg.device, ctx->cfg.local_text, ctx->cfg.port,
			   ctx->cfg.peer_count);
	rc = DLD_EXIT_RUNTIME;
	if (setup_events(ctx) || pid_file_write(ctx))
		goto out;
	if (dld_tun_open(ctx)) {
		rc = ctx->exit_code;
		goto out;
	}
	if (ctx->cfg.link < 0 && ctx->vnic.fd < 0 && dld_sockets_open(ctx)) {
		snprintf(ctx->error, sizeof(ctx->error), "cannot bind the peer addresses (see the log)");
		goto out;
	}
	if (dld_control_open(ctx)) {
		snprintf(ctx->error, sizeof(ctx->error), "cannot open the control socket %s (see "
			 "the log)", ctx->cfg.control);
		goto out;
	}
	/* Sockets bound: no capability is needed from here on (doc/security.md);
	 * TUN mode's interface waiting for corosync's addresses: once it has them. */
	if (!dld_tun_pending(ctx) && dld_privileges_drop()) {
		snprintf(ctx->error, sizeof(ctx->error), "cannot drop capabilities (see the log)");
		goto out;
	}
	/* knet's ping timeout sets the default io_timeout_ms: before the child. */
	dld_timing_start(ctx);
	if (ctx->cfg.link >= 0) {
		/* The sockets and the I/O child follow corosync's configuration. */
		if (dld_cs_start(ctx) || ctx->loop.quit) {
			rc = ctx->exit_code;
			goto out;
		}
	} else {
		dld_child_start(ctx);
	}
	rc = run(ctx);
out:
	cleanup(ctx, rc);
	free(ctx);
	return rc;
}
