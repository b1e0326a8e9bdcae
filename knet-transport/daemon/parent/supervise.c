/* The parent's side of the I/O child: start it with a fresh shared
 * channel, watch the deadline of the request in progress (stalled
 * device), abandon a stuck child (and wait for it, or for the requests
 * an io_uring child left in flight), restart a dead one with back-off,
 * and stop it cleanly in bounded time. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "bio_uring.h"
#include "ctx.h"
#include "slot_header.h"
#include "io.h"

#define STABLE_NS 10000000000ull       /* ready this long: back-off resets */

static uint64_t ms_ns(uint32_t ms)
{
	return (uint64_t)ms * 1000000u;
}

/* The role the parent holds is the one on disk: the one the child last
 * wrote in its header, a request that timed out or whose client went
 * away included.  The next child writes it again at attach. */
static void snapshot(struct dld_ctx *ctx)
{
	if (dld_status_snapshot(ctx->chan.shm, &ctx->snap) || ctx->snap.slot < 0 ||
	    ctx->snap.role > DL_ROLE_SECONDARY || ctx->snap.role == ctx->role)
		return;
	log_notice(DLD_SUB_ROLE, "replication role: %s (as on disk)",
		   dl_role_name(ctx->snap.role));
	ctx->role = ctx->snap.role;
}

static void detach_chan(struct dld_ctx *ctx)
{
	if (!ctx->chan.shm)
		return;
	snapshot(ctx);
	/* A child that died or was abandoned after writing its generation but
	 * before it was ready: its successor's generation must be above it,
	 * though its header may never land (doc/format.md "Incarnations"). */
	if (atomic_load(&ctx->chan.shm->claimed_generation) > ctx->last_generation)
		ctx->last_generation = atomic_load(&ctx->chan.shm->claimed_generation);
	if (atomic_load(&ctx->chan.shm->alive_ns))
		ctx->last_alive_ns = atomic_load(&ctx->chan.shm->alive_ns);
	dld_loop_del(&ctx->loop, ctx->chan.rx_efd);
	dld_chan_destroy(&ctx->chan);
}

static void schedule_restart(struct dld_ctx *ctx, uint64_t now)
{
	const struct dld_tunables *t = &ctx->cfg.tun;

	if (ctx->child_ready_ns && now - ctx->child_ready_ns > STABLE_NS)
		ctx->backoff_ms = t->restart_min_ms;
	else if (!ctx->backoff_ms)
		ctx->backoff_ms = t->restart_min_ms;
	else
		ctx->backoff_ms = ctx->backoff_ms * 2 > t->restart_max_ms ?
				  t->restart_max_ms : ctx->backoff_ms * 2;
	ctx->restart_at_ns = now + ms_ns(ctx->backoff_ms);
	log_notice(DLD_SUB_CHILD, "restarting the I/O child in %u ms", ctx->backoff_ms);
}

/* Tell systemd, and the launcher when we daemonized, that we serve. */
void dld_notify_ready(struct dld_ctx *ctx)
{
	uint8_t code = 0;

	if (ctx->notified)
		return;
	ctx->notified = true;
	sd_notify(0, "READY=1");
	if (ctx->ready_fd >= 0) {
		if (write(ctx->ready_fd, &code, 1) < 0)
			log_debug(DLD_SUB_CHILD, "launcher gone: %s", strerror(errno));
		close(ctx->ready_fd);
		ctx->ready_fd = -1;
	}
}

/* The peers' node ids for the child (its readers follow this table). */
static void publish_peers(struct dld_ctx *ctx)
{
	uint32_t ids[DLD_MAX_PEERS];

	for (uint32_t i = 0; i < ctx->cfg.peer_count; i++)
		ids[i] = ctx->cfg.peers[i].node_id;
	dld_peers_publish(ctx->chan.shm, ids, ctx->cfg.peer_count);
}

/* Are the requests of an abandoned child that exited still in flight?
 * A psync child exits only once its request returned (it waits in D
 * state): no.  An io_uring child killed on a hung device exits at once,
 * its requests stay with its ring, which the kernel tears down only when
 * they complete: the device's in-flight counters tell (inflight.h).
 * Without counters the parent cannot tell, and says so. */
static bool abandoned_io_pending(struct dld_ctx *ctx)
{
	dld_inflight_fn probe = ctx->inflight ? ctx->inflight : dld_inflight_read;
	enum dld_io_engine e = DLD_ENGINE_AUTO;
	uint64_t n = 0;

	dld_engine_parse(ctx->cfg.io_engine, &e);
	if (e != DLD_ENGINE_URING)
		return false;
	if (probe(ctx->cfg.device, &n)) {
		log_warn(DLD_SUB_CHILD, "device %s: cannot tell whether the abandoned I/O child's "
			 "io_uring requests are still in flight (%s): the next child starts; use "
			 "a block device, or io_engine = psync, for a volume that can hang",
			 ctx->cfg.device, strerror(errno));
		return false;
	}
	return n > 0;
}

/* One stuck child at a time: an abandoned child alive, or gone with its
 * requests in flight, holds the next start back. */
static bool abandoned_holds(struct dld_ctx *ctx)
{
	if (ctx->abandoned && kill(ctx->abandoned, 0) == 0)
		return true;
	if (!ctx->abandoned_inflight)
		return false;
	if (abandoned_io_pending(ctx))
		return true;
	ctx->abandoned_inflight = false;
	log_notice(DLD_SUB_CHILD, "device %s: the abandoned I/O child's requests completed",
		   ctx->cfg.device);
	return false;
}

int dld_child_start(struct dld_ctx *ctx)
{
	uint64_t now = dld_mono_ns();
	pid_t pid, parent;

	ctx->restart_at_ns = 0;
	if (abandoned_holds(ctx)) {
		/* One stuck child at a time: wait for the abandoned one. */
		ctx->restart_at_ns = now + ms_ns(ctx->backoff_ms ? ctx->backoff_ms : 1000);
		return 0;
	}
	if (dld_chan_create(&ctx->chan, ctx->cfg.tun.queue_kib)) {
		int err = errno;

		log_err(DLD_SUB_CHILD, "cannot create the shared memory for the I/O child: %s",
			strerror(err));
		schedule_restart(ctx, now);
		errno = err;
		return -1;
	}
	ctx->chan.shm->tun = ctx->cfg.tun;
	atomic_store(&ctx->chan.shm->tun_seq, 2);
	if (ctx->have_uuid) {
		memcpy(ctx->chan.shm->expect_uuid, ctx->uuid, 16);
		ctx->chan.shm->have_uuid = 1;
	}
	ctx->chan.shm->prev_generation = ctx->last_generation;
	ctx->chan.shm->prev_alive_ns = ctx->last_alive_ns;
	ctx->chan.shm->role = ctx->role;       /* the held role, written at attach */
	publish_peers(ctx);
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		int err = errno;

		log_err(DLD_SUB_CHILD, "cannot start the I/O child: %s", strerror(err));
		dld_chan_destroy(&ctx->chan);
		schedule_restart(ctx, now);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		/* The child owns no socket and none of the parent's fds: every
		 * fd the loop watches (sockets, clients, timers, signals, cmap)
		 * and the launcher's pipe. */
		dld_loop_close_all_fds(&ctx->loop);
		if (ctx->ready_fd >= 0)
			close(ctx->ready_fd);
		_exit(dld_io_child_main(&ctx->cfg, &ctx->chan, parent));
	}
	ctx->child = pid;
	ctx->children++;
	ctx->child_start_ns = now;
	ctx->child_ready_ns = 0;
	ctx->stalled = false;
	if (ctx->on_child_rx &&
	    dld_loop_add(&ctx->loop, ctx->chan.rx_efd, EPOLLIN, ctx->on_child_rx, ctx))
		log_err(DLD_SUB_CHILD, "cannot watch the I/O child's channel: %s", strerror(errno));
	log_info(DLD_SUB_CHILD, "I/O child %d started", (int)pid);
	return 0;
}

static void child_exited(struct dld_ctx *ctx, int status, uint64_t now)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	detach_chan(ctx);
	ctx->child = 0;
	ctx->stalled = false;
	if (ctx->snap.device_error[0])
		snprintf(ctx->error, sizeof(ctx->error), "%s", ctx->snap.device_error);
	else
		snprintf(ctx->error, sizeof(ctx->error), "the I/O child %s %d",
			 WIFEXITED(status) ? "exited with status" : "was killed by signal",
			 WIFEXITED(status) ? code : WTERMSIG(status));
	if (ctx->stopping) {
		dld_loop_quit(&ctx->loop);
		return;
	}
	dld_log(code ? LOG_WARNING : LOG_NOTICE, DLD_SUB_CHILD, "I/O child stopped (status %d): %s",
		code, ctx->error);
	if (code == DLD_EXIT_COLLISION ||
	    (!ctx->ever_ready && (code == DLD_EXIT_VOLUME || code == DLD_EXIT_USAGE))) {
		log_err(DLD_SUB_CHILD, "giving up: %s", ctx->error);
		dld_ctx_exit(ctx, code);
		return;
	}
	/* The device may come back: keep the sockets bound and answer status. */
	dld_notify_ready(ctx);
	schedule_restart(ctx, now);
}

void dld_child_reap(struct dld_ctx *ctx)
{
	uint64_t now = dld_mono_ns();
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == ctx->abandoned) {
			ctx->abandoned = 0;
			ctx->abandoned_inflight = abandoned_io_pending(ctx);
			log_notice(DLD_SUB_CHILD, "the abandoned I/O child %d is gone%s", (int)pid,
				   ctx->abandoned_inflight ? ", its io_uring requests are still in "
				   "flight: the next child waits for them" : "");
			if (ctx->abandoned_inflight)
				snprintf(ctx->error, sizeof(ctx->error), "I/O stuck: the abandoned "
					 "I/O child's requests are still in flight");
		} else if (pid == ctx->child) {
			child_exited(ctx, status, now);
		}
	}
}

static void check_ready(struct dld_ctx *ctx, uint64_t now)
{
	if (ctx->child_ready_ns || !atomic_load(&ctx->chan.shm->ready))
		return;
	ctx->child_ready_ns = now;
	ctx->ever_ready = true;
	snapshot(ctx);
	if (!ctx->have_uuid && dl_uuid_parse(ctx->snap.volume_uuid, ctx->uuid) == 0)
		ctx->have_uuid = true;
	ctx->last_generation = ctx->snap.generation;
	ctx->error[0] = 0;
	log_notice(DLD_SUB_CHILD, "link ready: node %u in slot %d of volume %s, generation %llu",
		   ctx->cfg.node_id, ctx->snap.slot, ctx->snap.volume_uuid,
		   (unsigned long long)ctx->snap.generation);
	dld_notify_ready(ctx);
}

/* The deadline of the request in progress; a ready child that stops
 * turning its loop (it wakes at least every 100 ms) counts as stuck too. */
static void check_deadline(struct dld_ctx *ctx, uint64_t now)
{
	const struct dld_tunables *t = &ctx->cfg.tun;
	uint64_t start = atomic_load(&ctx->chan.shm->io_start_ns);

	if (!start && ctx->child_ready_ns)
		start = atomic_load(&ctx->chan.shm->alive_ns);
	if (start && now > start && now - start > ms_ns(t->io_timeout_ms)) {
		if (!ctx->stalled || ctx->stalled_since_ns != start)
			log_warn(DLD_SUB_CHILD, "device %s stalled: an I/O request has been "
				 "pending for %llu ms (io_timeout_ms %u); datagrams for the disk "
				 "are dropped until it completes", ctx->cfg.device,
				 (unsigned long long)((now - start) / 1000000u), t->io_timeout_ms);
		ctx->stalled = true;
		ctx->stalled_since_ns = start;
	} else if (ctx->stalled && start != ctx->stalled_since_ns) {
		log_notice(DLD_SUB_CHILD, "device %s: the stalled I/O request completed after "
			   "%llu ms", ctx->cfg.device,
			   (unsigned long long)((now - ctx->stalled_since_ns) / 1000000u));
		ctx->stalled = false;
	}
	if (ctx->stalled && t->abandon_ms && now - start > ms_ns(t->abandon_ms) &&
	    !ctx->abandoned && !ctx->stopping) {
		log_err(DLD_SUB_CHILD, "device %s: I/O stuck for %llu ms: abandoning I/O child "
			"%d (it exits when the request returns; it holds no socket)",
			ctx->cfg.device,
			(unsigned long long)((now - start) / 1000000u), (int)ctx->child);
		kill(ctx->child, SIGKILL);
		ctx->abandoned = ctx->child;
		detach_chan(ctx);
		ctx->child = 0;
		snprintf(ctx->error, sizeof(ctx->error), "I/O stuck for more than %u ms: the "
			 "I/O child was abandoned", t->abandon_ms);
		ctx->stalled = false;
		schedule_restart(ctx, now);
	}
}

void dld_child_tick(struct dld_ctx *ctx, uint64_t now)
{
	if (ctx->stopping) {
		if (!ctx->child) {
			dld_loop_quit(&ctx->loop);
		} else if (now >= ctx->stop_deadline_ns) {
			log_warn(DLD_SUB_CHILD, "the I/O child did not stop within %u ms: "
				 "killed (its slot stays marked active)",
				 ctx->cfg.tun.stop_timeout_ms);
			kill(ctx->child, SIGKILL);
			dld_loop_quit(&ctx->loop);
		}
		return;
	}
	if (ctx->child) {
		check_ready(ctx, now);
		if (ctx->chan.shm)
			snapshot(ctx);
		check_deadline(ctx, now);
	}
	if (!ctx->child && ctx->restart_at_ns && now >= ctx->restart_at_ns)
		dld_child_start(ctx);
}

void dld_child_stop(struct dld_ctx *ctx)
{
	if (ctx->stopping)
		return;
	ctx->stopping = true;
	ctx->stop_deadline_ns = dld_mono_ns() + ms_ns(ctx->cfg.tun.stop_timeout_ms);
	sd_notify(0, "STOPPING=1");
	if (!ctx->child) {
		dld_loop_quit(&ctx->loop);
		return;
	}
	atomic_store(&ctx->chan.shm->stop, 1);
	dld_efd_kick(ctx->chan.tx_efd);
}

void dld_child_tunables(struct dld_ctx *ctx)
{
	struct dld_shm *shm = ctx->chan.shm;
	uint32_t s;

	if (!shm)
		return;
	s = atomic_load(&shm->tun_seq);
	atomic_store(&shm->tun_seq, s + 1);
	atomic_thread_fence(memory_order_release);
	shm->tun = ctx->cfg.tun;
	atomic_store(&shm->tun_seq, s + 2);
	dld_efd_kick(ctx->chan.tx_efd);
}

void dld_child_peers(struct dld_ctx *ctx)
{
	if (!ctx->chan.shm)
		return;                /* the next child gets the table at start */
	publish_peers(ctx);
	dld_efd_kick(ctx->chan.tx_efd);
}

void dld_child_snapshot(struct dld_ctx *ctx)
{
	if (ctx->child && ctx->chan.shm)
		snapshot(ctx);
}

bool dld_child_accepts(struct dld_ctx *ctx)
{
	return ctx->child && ctx->child_ready_ns && !ctx->stalled && !ctx->stopping &&
	       ctx->chan.shm;
}

const char *dld_device_state(struct dld_ctx *ctx, char *err, size_t errlen)
{
	uint64_t now = dld_mono_ns();

	err[0] = 0;
	if (ctx->child && ctx->stalled) {
		snprintf(err, errlen, "an I/O request has been pending for %llu ms",
			 (unsigned long long)((now - ctx->stalled_since_ns) / 1000000u));
		return "stalled";
	}
	if (ctx->child) {
		if (ctx->snap.device_state == DLD_DEV_FAILED) {
			snprintf(err, errlen, "%s", ctx->snap.device_error);
			return "failed";
		}
		return ctx->child_ready_ns ? "ok" : "starting";
	}
	if (!ctx->children || (ctx->stopping && !ctx->error[0]))
		return "starting";
	snprintf(err, errlen, "%s", ctx->error);
	return "failed";
}
