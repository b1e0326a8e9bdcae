/* The disk I/O child: set-up (no sockets, dies with the parent), the
 * event loop (tx eventfd + ppoll() up to the next deadline), timed
 * device access and status publication. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "io.h"

#define PUBLISH_NS 100000000ull        /* status refresh for the parent */

/* Close every socket this process inherited but the AF_UNIX ones (the
 * syslog connection): a child stuck in uninterruptible I/O must keep no
 * UDP port bound. */
static void close_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name), dom = 0;
		socklen_t len = sizeof(dom);
		struct stat st;

		if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) || !S_ISSOCK(st.st_mode))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && dom == AF_UNIX)
			continue;
		close(fd);
	}
	closedir(d);
}

void dld_io_begin(struct dld_io *io)
{
	atomic_store_explicit(&io->shm->io_start_ns, dld_mono_ns(), memory_order_release);
}

void dld_io_end(struct dld_io *io, bool write, int rc)
{
	uint64_t start = atomic_load_explicit(&io->shm->io_start_ns, memory_order_relaxed);
	uint64_t us = (dld_mono_ns() - start) / 1000u;
	uint64_t *lat = write ? &io->st.io.write_latency_us : &io->st.io.read_latency_us;

	atomic_store_explicit(&io->shm->io_start_ns, 0, memory_order_release);
	if (write)
		io->st.io.writes++;
	else
		io->st.io.reads++;
	if (write)
		io->write_failed = rc != 0;
	if (rc) {
		io->st.io.errors++;
		return;
	}
	*lat = *lat ? (*lat * 7u + us) / 8u : us;
	/* A read-only device reads fine: its reads do not clear a failed write. */
	if (io->st.device_state == DLD_DEV_FAILED && !io->write_failed)
		dld_io_ok(io);
}

int dld_io_read_blocks(struct dld_io *io, uint32_t slot, uint32_t first, uint32_t n, void *buf)
{
	int rc;

	dld_io_begin(io);
	rc = dl_volume_read_blocks(&io->vol, slot, first, n, buf);
	dld_io_end(io, false, rc);
	return rc;
}

int dld_io_write_blocks(struct dld_io *io, uint32_t first, uint32_t n, const void *buf)
{
	int rc;

	dld_io_begin(io);
	rc = dl_volume_write_blocks(&io->vol, io->slot, first, n, buf);
	dld_io_end(io, true, rc);
	return rc;
}

int dld_io_read_slot(struct dld_io *io, uint32_t slot, struct dl_slot_hdr *h)
{
	enum dl_err why;
	int rc, err;

	dld_io_begin(io);
	rc = dl_volume_read_slot(&io->vol, slot, h, &why);
	err = errno;
	/* A header that does not decode is data, not a device error. */
	dld_io_end(io, false, rc && why == DL_OK);
	errno = err;
	return rc;
}

int dld_io_write_slot(struct dld_io *io, struct dl_slot_hdr *h)
{
	int rc, err;

	dld_io_begin(io);
	rc = dl_volume_write_slot(&io->vol, h);
	err = errno;
	dld_io_end(io, true, rc);
	errno = err;
	return rc;
}

void dld_io_fail(struct dld_io *io, const char *fmt, ...)
{
	char msg[sizeof(io->st.device_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (io->st.device_state != DLD_DEV_FAILED || strcmp(msg, io->st.device_error))
		qb_log(LOG_ERR, "%s", msg);
	io->st.device_state = DLD_DEV_FAILED;
	memcpy(io->st.device_error, msg, sizeof(msg));
	io->next_pub_ns = 0;
}

void dld_io_ok(struct dld_io *io)
{
	if (io->st.device_state == DLD_DEV_FAILED)
		qb_log(LOG_NOTICE, "device %s works again", io->device);
	if (io->st.device_state != DLD_DEV_OK)
		io->next_pub_ns = 0;
	io->st.device_state = DLD_DEV_OK;
	io->st.device_error[0] = 0;
}

bool dld_io_stop_requested(struct dld_io *io)
{
	return atomic_load_explicit(&io->shm->stop, memory_order_acquire) != 0;
}

bool dld_io_wait(struct dld_io *io, uint64_t ns)
{
	uint64_t end = dld_mono_ns() + ns;

	for (;;) {
		struct pollfd p = { .fd = io->ch->tx_efd, .events = POLLIN };
		uint64_t now = dld_mono_ns();

		if (dld_io_stop_requested(io))
			return true;
		if (now >= end)
			return false;
		if (poll(&p, 1, (int)((end - now + 999999u) / 1000000u)) > 0)
			dld_efd_drain(io->ch->tx_efd);
	}
}

static void tunables_check(struct dld_io *io)
{
	uint32_t s = atomic_load_explicit(&io->shm->tun_seq, memory_order_acquire);

	if (s == io->tun_seq || (s & 1u))
		return;
	io->tun = io->shm->tun;
	io->tun_seq = s;
	dld_sched_tune(&io->sched, &io->tun);
	for (uint32_t i = 0; i < io->npeers; i++)
		io->peers[i].rd.torn_limit = io->tun.torn_limit;
	dld_log_set_debug(io->cfg, io->tun.debug);
}

static void publish(struct dld_io *io, uint64_t now)
{
	dld_io_peers_status(io, now);
	io->st.next_seq = io->w.next_seq;
	dld_status_publish(io->shm, &io->st);
	io->next_pub_ns = now + PUBLISH_NS;
}

/* The next deadline: the earliest of the poll schedule, the header, the
 * superblock check and the status refresh; now when the queue still
 * holds datagrams. */
static uint64_t next_deadline(struct dld_io *io)
{
	uint64_t t = io->next_poll_ns;

	if (io->next_hdr_ns < t)
		t = io->next_hdr_ns;
	if (io->next_sb_ns < t)
		t = io->next_sb_ns;
	if (io->next_pub_ns < t)
		t = io->next_pub_ns;
	if (!dld_q_empty(io->ch->tx))
		t = 0;
	return t;
}

/* Sleep until the deadline or a wake-up on the tx eventfd: one ppoll()
 * per idle poll (a timerfd would cost two more system calls each time). */
static int wait_event(struct dld_io *io)
{
	struct pollfd p = { .fd = io->ch->tx_efd, .events = POLLIN };
	uint64_t t = next_deadline(io), now = dld_mono_ns();
	struct timespec ts = { 0 };

	if (t > now) {
		ts.tv_sec = (time_t)((t - now) / 1000000000u);
		ts.tv_nsec = (long)((t - now) % 1000000000u);
	}
	if (ppoll(&p, 1, &ts, NULL) < 0 && errno != EINTR)
		return -1;
	if (p.revents & POLLIN)
		dld_efd_drain(io->ch->tx_efd);
	return 0;
}

static int run(struct dld_io *io)
{
	uint64_t now = dld_mono_ns();

	io->next_poll_ns = now;
	io->next_hdr_ns = now + (uint64_t)io->tun.header_interval_ms * 1000000u;
	io->next_sb_ns = now + (uint64_t)io->tun.sb_check_ms * 1000000u;
	io->next_pub_ns = 0;
	while (!dld_io_stop_requested(io)) {
		uint64_t before;
		int rc;

		if (wait_event(io)) {
			qb_log(LOG_ERR, "io: ppoll failed: %s", strerror(errno));
			return DLD_EXIT_RUNTIME;
		}
		if (dld_io_stop_requested(io))
			break;
		atomic_store_explicit(&io->shm->alive_ns, dld_mono_ns(), memory_order_relaxed);
		tunables_check(io);
		dld_io_peers_check(io, dld_mono_ns());
		rc = dld_io_role_check(io);
		if (rc) {
			publish(io, dld_mono_ns());
			return rc;
		}
		before = io->w.next_seq;
		dld_io_drain_tx(io);
		now = dld_mono_ns();
		if (io->w.next_seq != before) {
			/* We wrote: a reply (knet pong, totem token) is expected. */
			dld_sched_activity(&io->sched, now);
			if (io->next_poll_ns > now + io->sched.fast_ns)
				io->next_poll_ns = now + io->sched.fast_ns;
		}
		if (now >= io->next_poll_ns) {
			dld_io_poll_peers(io, now);
			now = dld_mono_ns();
			io->next_poll_ns = dld_sched_next(&io->sched, now);
		}
		if (io->delivered) {
			dld_efd_kick(io->ch->rx_efd);
			io->delivered = false;
		}
		if (now >= io->next_hdr_ns) {
			rc = dld_io_write_header(io, DL_SLOT_ACTIVE);
			if (rc)
				return rc;
			dld_io_peer_headers(io, now);
			io->next_hdr_ns = now + (uint64_t)io->tun.header_interval_ms * 1000000u;
		}
		if (now >= io->next_sb_ns) {
			rc = dld_io_check_volume(io);
			if (rc) {
				publish(io, now);
				return rc;
			}
			io->next_sb_ns = now + (uint64_t)io->tun.sb_check_ms * 1000000u;
		}
		if (now >= io->next_pub_ns)
			publish(io, now);
	}
	/* A clean stop: peers tell it from a crash. */
	if (dld_io_write_header(io, DL_SLOT_STOPPED) == 0)
		qb_log(LOG_NOTICE, "io: slot %u marked stopped", io->slot);
	return DLD_EXIT_OK;
}

int dld_io_alloc(struct dld_io *io)
{
	const struct dl_sb *sb = &io->vol.sb;
	uint32_t need = dl_writer_blocks_for(sb->block_size, io->cfg->peer_count, DL_DGRAM_MAX);

	io->max_batch = io->tun.max_batch_blocks;
	if (io->max_batch < need)
		io->max_batch = need;
	if (io->max_batch > sb->ring_blocks)
		io->max_batch = sb->ring_blocks;
	io->dg_cap = 256;
	io->ring = dl_bio_alloc((size_t)sb->ring_blocks * sb->block_size);
	io->wbuf = dl_bio_alloc((size_t)io->max_batch * sb->block_size);
	io->dg = calloc(io->dg_cap, sizeof(*io->dg));
	io->dst = calloc(io->dg_cap, sizeof(*io->dst));
	io->dg_end = calloc(io->dg_cap, sizeof(*io->dg_end));
	if (!io->ring || !io->wbuf || !io->dg || !io->dst || !io->dg_end) {
		qb_log(LOG_ERR, "io: out of memory");
		return -1;
	}
	return 0;
}

int dld_io_resize(struct dld_io *io)
{
	const struct dl_sb *sb = &io->vol.sb;
	uint32_t need = dl_writer_blocks_for(sb->block_size, io->npeers ? io->npeers : 1,
					     DL_DGRAM_MAX);
	uint8_t *buf;

	if (need > sb->ring_blocks)
		need = sb->ring_blocks;
	if (need <= io->max_batch)
		return 0;
	buf = dl_bio_alloc((size_t)need * sb->block_size);
	if (!buf) {
		qb_log(LOG_ERR, "io: out of memory for a write buffer of %u blocks", need);
		return -1;
	}
	free(io->wbuf);
	io->wbuf = buf;
	io->max_batch = need;
	return 0;
}

static void io_free(struct dld_io *io)
{
	dld_io_peers_free(io);
	free(io->ring);
	free(io->wbuf);
	free(io->dg);
	free(io->dst);
	free(io->dg_end);
	if (io->vol_open)
		dl_volume_close(&io->vol);
}

int dld_io_child_main(const struct dld_config *cfg, struct dld_chan *ch)
{
	struct dld_io *io;
	sigset_t all;
	int rc;

	/* Die with the parent (once any I/O in progress returns). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return DLD_EXIT_RUNTIME;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);      /* the parent asks through the shm */
	close_sockets();
	prctl(PR_SET_NAME, "disklinkd-io");

	io = calloc(1, sizeof(*io));
	if (!io)
		return DLD_EXIT_RUNTIME;
	io->cfg = cfg;
	io->ch = ch;
	io->shm = ch->shm;
	io->tun = ch->shm->tun;
	io->tun_seq = atomic_load(&ch->shm->tun_seq);
	io->st.slot = -1;
	io->st.device_state = DLD_DEV_STARTING;
	dld_sched_init(&io->sched, cfg->node_id, &io->tun);
	rc = dld_io_attach(io);
	if (rc)
		goto out;
	dld_io_peers_init(io);
	dld_io_ok(io);
	publish(io, dld_mono_ns());
	atomic_store_explicit(&io->shm->alive_ns, dld_mono_ns(), memory_order_relaxed);
	atomic_store_explicit(&io->shm->ready, 1, memory_order_release);
	dld_efd_kick(ch->rx_efd);
	rc = run(io);
out:
	dld_status_publish(io->shm, &io->st);
	io_free(io);
	free(io);
	return rc;
}
