/* The I/O child's loop: one idle wait (the tx eventfd, or the
 * simulator's wait) up to the next deadline, then one turn of work (role
 * requests, traffic, header, superblock check, status publication).  The
 * daemon's child (io_child.c) and the simulator (tests/sim) both run it,
 * so the simulator tests the loop the daemon runs. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "io.h"
#include "io_ahead.h"

#define PUBLISH_NS 100000000ull        /* status refresh for the parent */

static void tunables_check(struct dld_io *io)
{
	uint32_t s = atomic_load_explicit(&io->shm->tun_seq, memory_order_acquire);

	if (s == io->tun_seq || (s & 1u))
		return;
	io->tun = io->shm->tun;
	io->tun_seq = s;
	dld_sched_tune(&io->sched, &io->tun);
	for (uint32_t i = 0; i < io->npeers; i++) {
		io->peers[i].rd.torn_limit = io->tun.torn_limit;
		io->peers[i].rd.torn_wait_ns = io->tun.torn_wait_ms * 1000000ull;
	}
	dld_log_set_debug(io->cfg, io->tun.debug);
}

static uint64_t now_ns(const struct dld_io *io)
{
	return dl_clock_mono(io->dev.clock);
}

static void publish(struct dld_io *io, uint64_t now)
{
	dld_io_peers_status(io, now);
	io->st.next_seq = io->w.next_seq;
	dld_status_publish(io->shm, &io->st);
	io->next_pub_ns = now + PUBLISH_NS;
	io->dev.changed = false;
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
	if (io->next_pub_ns < t || io->dev.changed)
		t = io->dev.changed ? 0 : io->next_pub_ns;
	if (!dld_q_empty(io->ch->tx))
		t = 0;
	return t;
}

/* The child's one idle wait: until the next deadline, or a kick on the
 * tx eventfd (a datagram queued, a request from the parent).  One
 * ppoll() per idle poll (a timerfd would cost two more system calls). */
static int wait_event(struct dld_io *io)
{
	uint64_t t = next_deadline(io), now = now_ns(io);

	return dld_io_wait_tx(io, t > now ? t - now : 0);
}

static uint64_t ms(uint32_t v)
{
	return (uint64_t)v * 1000000u;
}

/* Queued datagrams into our ring, the peers' rings when the schedule
 * says so.  A write expects a reply (knet pong, totem token): poll fast
 * (once every peer's pings are learned, only until the answer came,
 * and not after a reply of ours). */
static void traffic(struct dld_io *io, uint64_t *now)
{
	uint64_t before = io->w.next_seq, fast_before;
	bool ask = dld_ahead_sent(io, *now);

	dld_io_drain_tx(io);
	*now = now_ns(io);
	if (io->w.next_seq != before && (ask || !io->sched.learned)) {
		if (!io->sched.learned)
			dld_sched_activity(&io->sched, *now);
		if (io->next_poll_ns > *now + io->sched.fast_ns)
			io->next_poll_ns = *now + io->sched.fast_ns;
	}
	if (*now >= io->next_poll_ns) {
		fast_before = io->sched.fast_until_ns;
		dld_io_poll_peers(io, *now);
		dld_ahead_polled(io, io->sched.last_poll_ns, fast_before);
		io->sched.last_poll_ns = *now;
		*now = now_ns(io);
		io->next_poll_ns = dld_sched_next(&io->sched, *now);
	}
	if (io->delivered) {
		dld_efd_kick(io->ch->rx_efd);
		io->delivered = false;
	}
}

/* One turn of the loop: 0, or -1 with *exit_code when the child ends. */
static int tick(struct dld_io *io, int *exit_code)
{
	uint64_t now = now_ns(io);

	atomic_store_explicit(&io->shm->alive_ns, now, memory_order_relaxed);
	tunables_check(io);
	dld_ahead_forced(io);
	dld_io_peers_check(io, now);
	dld_io_paths_upkeep(io, now);
	if (dld_io_role_check(io, exit_code) && *exit_code) {
		publish(io, now_ns(io));
		return -1;
	}
	traffic(io, &now);
	if (now >= io->next_hdr_ns) {
		if (dld_io_write_header(io, DL_SLOT_ACTIVE, exit_code) && *exit_code)
			return -1;
		dld_io_peer_headers(io, now);
		io->next_hdr_ns = now + ms(io->tun.header_interval_ms);
	}
	if (now >= io->next_sb_ns) {
		if (dld_io_check_volume(io, exit_code) && *exit_code) {
			publish(io, now);
			return -1;
		}
		io->next_sb_ns = now + ms(io->tun.sb_check_ms);
	}
	if (now >= io->next_pub_ns || io->dev.changed)
		publish(io, now);
	return 0;
}

static int run(struct dld_io *io)
{
	uint64_t now = now_ns(io);
	int exit_code = DLD_EXIT_OK;

	io->next_poll_ns = now;
	io->next_hdr_ns = now + ms(io->tun.header_interval_ms);
	io->next_sb_ns = now + ms(io->tun.sb_check_ms);
	io->next_pub_ns = 0;
	while (!dld_chan_stop_asked(io->ch)) {
		if (wait_event(io)) {
			log_err(DLD_SUB_IO, "ppoll failed: %s", strerror(errno));
			return DLD_EXIT_RUNTIME;
		}
		if (dld_chan_stop_asked(io->ch))
			break;
		if (tick(io, &exit_code))
			return exit_code;
	}
	/* A clean stop: peers tell it from a crash. */
	if (dld_io_write_header(io, DL_SLOT_STOPPED, &exit_code) == 0)
		log_notice(DLD_SUB_IO, "slot %u marked stopped", io->slot);
	return DLD_EXIT_OK;
}

int dld_io_serve(struct dld_io *io)
{
	dld_io_peers_init(io);
	dld_dev_ok(&io->dev);
	publish(io, now_ns(io));
	atomic_store_explicit(&io->shm->alive_ns, now_ns(io), memory_order_relaxed);
	atomic_store_explicit(&io->shm->ready, 1, memory_order_release);
	dld_efd_kick(io->ch->rx_efd);
	return run(io);
}
