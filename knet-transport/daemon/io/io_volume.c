/* The I/O child and its volume: open and validate, refuse a node id that
 * another live daemon uses, claim the slot, start a new writer
 * generation, refresh the slot header, and re-check the superblock.
 * Every function: 0, or -1 with errno and *exit_code (io.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "block.h"
#include "io.h"
#include "ring_scan.h"

#include "volume_find.h"

/* Fail with the exit status code: -1, errno err. */
static int fatal(int *exit_code, int code, int err)
{
	*exit_code = code;
	errno = err;
	return -1;
}

static int resolve_device(struct dld_io *io, int *exit_code)
{
	const char *dev = io->cfg->device;
	uint8_t uuid[16];

	io->device = dev;
	if (strncmp(dev, "UUID=", 5))
		return 0;
	if (dl_uuid_parse(dev + 5, uuid)) {
		dld_dev_fail(&io->dev, "device %s: not a volume uuid: give UUID=xxxxxxxx-xxxx-"
			     "xxxx-xxxx-xxxxxxxxxxxx or a device path", dev);
		return fatal(exit_code, DLD_EXIT_USAGE, EINVAL);
	}
	if (dl_volume_find_by_uuid(uuid, io->device_buf, sizeof(io->device_buf)) == 0) {
		io->device = io->device_buf;
		return 0;
	}
	if (errno == ENOTUNIQ) {
		dld_dev_fail(&io->dev, "several devices hold disklink volume %s (first: %s): "
			     "give the device path ('disklink find' lists them)", dev + 5,
			     io->device_buf);
		return fatal(exit_code, DLD_EXIT_VOLUME, ENOTUNIQ);
	}
	dld_dev_fail(&io->dev, "no device holds disklink volume %s: %s (check that the device "
		     "is attached; 'disklink find' lists volumes)", dev + 5, strerror(errno));
	return fatal(exit_code, DLD_EXIT_RUNTIME, ENODEV);
}

/* Highest valid sequence number in a slot's ring (0: none or unreadable). */
static uint64_t ring_head(struct dld_io *io, uint32_t slot)
{
	const struct dl_sb *sb = &io->dev.vol.sb;
	const struct dl_ring_filter f = {
		.block_size = sb->block_size,
		.ring_blocks = sb->ring_blocks,
		.slot_index = slot,
		.uuid = NULL,
		.in_place = false,
	};
	struct dl_ring_newest n = { .count = 0 };

	if (dld_dev_read_blocks(&io->dev, slot, 0, sb->ring_blocks, io->dev.ring))
		return 0;
	dl_ring_newest_scan(io->dev.ring, 0, sb->ring_blocks, &f, &n);
	return n.seq;
}

/* Wait ns, or until the parent asks to stop: 0, or -1/ECANCELED. */
static int watch(struct dld_io *io, uint64_t ns)
{
	uint64_t end = dl_clock_mono(io->dev.clock) + ns;

	for (;;) {
		uint64_t now = dl_clock_mono(io->dev.clock);

		if (dld_chan_stop_asked(io->ch)) {
			errno = ECANCELED;
			return -1;
		}
		if (now >= end)
			return 0;
		if (dld_io_wait_tx(io, end - now))
			return -1;
	}
}

/* A slot of our node id marked active: our own crash, or another daemon
 * that runs with this node id?  A live daemon refreshes its header every
 * header interval, so watch it for a few. */
static int collision_check(struct dld_io *io, int *exit_code)
{
	struct dl_slot_hdr h1, h2;
	uint32_t slot;
	uint64_t head1, head2, wait_ns;

	if (dl_volume_find_node(&io->dev.vol, io->cfg->node_id, &slot, &h1) ||
	    h1.state != DL_SLOT_ACTIVE)
		return 0;
	if (io->shm->prev_generation) {
		/* The parent ran an I/O child before us: whatever of our node
		 * id is in the slot is our predecessors' (a crash, or a child
		 * abandoned in D state whose writes may still land).  Take it
		 * over as their successor (doc/format.md "Incarnations"). */
		io->takeover = true;
		log_notice(DLD_SUB_MAIN, "slot %u was left active by this daemon's previous I/O "
			   "child (generation %llu): taking it over", slot,
			   (unsigned long long)io->shm->prev_generation);
		return 0;
	}
	wait_ns = (2ull * io->tun.header_interval_ms + 250u) * 1000000ull;
	log_notice(DLD_SUB_MAIN, "slot %u of node %u is marked active (a crash, or another "
		   "disklinkd?): watching it for %llu ms", slot, io->cfg->node_id,
		   (unsigned long long)(wait_ns / 1000000u));
	head1 = ring_head(io, slot);
	if (watch(io, wait_ns))
		return fatal(exit_code, errno == ECANCELED ? DLD_EXIT_OK : DLD_EXIT_RUNTIME,
			     errno);
	if (dld_dev_read_slot(&io->dev, slot, &h2))
		return 0;
	head2 = ring_head(io, slot);
	if (h2.node_id == h1.node_id &&
	    (h2.hdr_seq != h1.hdr_seq || h2.update_time_ns != h1.update_time_ns ||
	     head2 != head1)) {
		dld_dev_fail(&io->dev, "node id %u is already active on %s (slot %u, node name "
			     "'%s'): another disklinkd runs for this node id; stop it or fix the "
			     "node id", io->cfg->node_id, io->device, slot, h2.node_name);
		return fatal(exit_code, DLD_EXIT_COLLISION, EADDRINUSE);
	}
	log_notice(DLD_SUB_MAIN, "slot %u was left active by a crash: taking it over", slot);
	io->takeover = true;
	return 0;
}

/* Open the device and check that it holds the volume we may use. */
static int open_volume(struct dld_io *io, int *exit_code)
{
	const struct dl_sb *sb = &io->dev.vol.sb;
	enum dl_err why = DL_OK;
	char uuid[37];

	if (resolve_device(io, exit_code))
		return -1;
	if (dld_dev_open(&io->dev, io->device, io->tun.dsync != 0, &why)) {
		if (why == DL_OK) {
			dld_dev_fail(&io->dev, "cannot open %s: %s (check the path and that the "
				     "device is attached)", io->device, strerror(errno));
			return fatal(exit_code, DLD_EXIT_RUNTIME, errno);
		}
		if (why == DL_E_VERSION_OLD)
			dld_dev_fail(&io->dev, "%s holds a volume of an older disklink format "
				     "(this disklinkd uses version %u): nothing was written; "
				     "reformat it with 'disklink format --force' once no node "
				     "uses it", io->device, DL_FORMAT_VERSION);
		else
			dld_dev_fail(&io->dev, "%s is not a usable disklink volume: %s (inspect "
				     "it with 'disklink show', create one with 'disklink "
				     "format')", io->device, dl_strerror(why));
		return fatal(exit_code, DLD_EXIT_VOLUME, EMEDIUMTYPE);
	}
	dl_uuid_format(sb->uuid, uuid);
	snprintf(io->st.volume_uuid, sizeof(io->st.volume_uuid), "%s", uuid);
	snprintf(io->st.cluster, sizeof(io->st.cluster), "%s", sb->cluster_name);
	io->st.block_size = sb->block_size;
	io->st.ring_blocks = sb->ring_blocks;
	if (io->cfg->cluster[0] && strcmp(io->cfg->cluster, sb->cluster_name)) {
		dld_dev_fail(&io->dev, "volume %s on %s belongs to cluster '%s', not '%s': give "
			     "the right device", uuid, io->device, sb->cluster_name,
			     io->cfg->cluster);
		return fatal(exit_code, DLD_EXIT_VOLUME, EMEDIUMTYPE);
	}
	if (io->shm->have_uuid && memcmp(io->shm->expect_uuid, sb->uuid, 16)) {
		dld_dev_fail(&io->dev, "%s now holds another volume (%s): it was reformatted; "
			     "restart disklinkd to use the new volume", io->device, uuid);
		return fatal(exit_code, DLD_EXIT_VOLUME, EMEDIUMTYPE);
	}
	if (dld_dev_alloc(&io->dev, io->cfg->peer_count, io->tun.max_batch_blocks) ||
	    dld_io_batch_alloc(io))
		return fatal(exit_code, DLD_EXIT_RUNTIME, ENOMEM);
	return 0;
}

static int claim_failed(struct dld_io *io, int *exit_code)
{
	if (errno == ENOSPC) {
		dld_dev_fail(&io->dev, "no free slot for node %u on %s (%u slots, all "
			     "claimed): release one with 'disklink release' or format "
			     "with more slots", io->cfg->node_id, io->device,
			     io->dev.vol.sb.slot_count);
		return fatal(exit_code, DLD_EXIT_VOLUME, ENOSPC);
	}
	dld_dev_fail(&io->dev, "cannot claim a slot on %s: %s", io->device, strerror(errno));
	return fatal(exit_code, DLD_EXIT_RUNTIME, errno);
}

/* The back-off after a lost claim race: half a header interval to one
 * and a half, drawn from the node id and the clock (no other state, so
 * a simulator replays it) so that two losers do not meet again. */
static uint64_t backoff_ns(const struct dld_io *io)
{
	uint64_t x = dl_clock_mono(io->dev.clock) ^
		     ((uint64_t)io->cfg->node_id * 0x9e3779b97f4a7c15ull);
	uint64_t ms = io->tun.header_interval_ms;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (ms / 2 + x % (ms + 1)) * 1000000ull;
}

/* Take a slot, delta-lease style (doc/format.md "Slot claim"): write the
 * intent, wait longer than a claim write still in flight can take (the
 * device's worst I/O, io_timeout_ms, plus a header interval), read it
 * back.  Another node's claim landed over ours: back off with jitter and
 * claim again, another slot as the winner holds this one.  A lost race
 * is never taken for another daemon of our node id. */
static int claim_safely(struct dld_io *io, int *exit_code)
{
	const uint64_t wait_ns =
		((uint64_t)io->tun.io_timeout_ms + io->tun.header_interval_ms) * 1000000ull;

	for (;;) {
		struct dl_slot_hdr back = { .node_id = 0 };
		int owned;

		if (dld_dev_claim_intent(&io->dev, io->cfg->node_id, io->cfg->node_name,
					 &io->slot, &io->hdr, &owned))
			return claim_failed(io, exit_code);
		if (owned)
			return 0;
		log_info(DLD_SUB_MAIN, "claimed slot %u: checking for %llu ms that no other node "
			 "claims it at the same time", io->slot,
			 (unsigned long long)(wait_ns / 1000000u));
		if (watch(io, wait_ns))
			break;
		if (dld_dev_read_slot(&io->dev, io->slot, &back) == 0 &&
		    back.node_id == io->cfg->node_id && back.state != DL_SLOT_FREE) {
			io->hdr = back;
			return 0;
		}
		log_notice(DLD_SUB_MAIN, "slot %u was claimed by node %u at the same time: "
			   "claiming another", io->slot, back.node_id);
		if (watch(io, backoff_ns(io)))
			break;
	}
	return fatal(exit_code, errno == ECANCELED ? DLD_EXIT_OK : DLD_EXIT_RUNTIME, errno);
}

/* Claim our slot and start a new generation; the sequence continues
 * after everything in the ring and the header, so peers never see a
 * sequence number twice. */
static int claim_slot(struct dld_io *io, int *exit_code)
{
	const struct dl_sb *sb = &io->dev.vol.sb;
	int rc;

	if (claim_safely(io, exit_code))
		return -1;
	io->claimed = io->hdr;
	/* A successor's generation is above its predecessors' (the parent
	 * knows the last one even if its header never landed), and after a
	 * take-over its header sequence skips the one header write a
	 * predecessor may still have in flight. */
	if (io->hdr.generation < io->shm->prev_generation)
		io->hdr.generation = io->shm->prev_generation;
	if (io->takeover)
		io->hdr.hdr_seq += 2;
	if (dld_dev_read_blocks(&io->dev, io->slot, 0, sb->ring_blocks, io->dev.ring))
		rc = dl_writer_open(&io->w, sb, io->slot, io->cfg->node_id, &io->hdr, NULL);
	else
		rc = dl_writer_open(&io->w, sb, io->slot, io->cfg->node_id, &io->hdr,
				    io->dev.ring);
	if (rc) {
		dld_dev_fail(&io->dev, "cannot start the writer of slot %u: %s", io->slot,
			     strerror(errno));
		return fatal(exit_code, DLD_EXIT_RUNTIME, errno);
	}
	return 0;
}

int dld_io_attach(struct dld_io *io, int *exit_code)
{
	*exit_code = DLD_EXIT_OK;
	if (open_volume(io, exit_code) || collision_check(io, exit_code) ||
	    claim_slot(io, exit_code))
		return -1;
	snprintf(io->hdr.node_name, sizeof(io->hdr.node_name), "%s", io->cfg->node_name);
	io->hdr.generation = io->w.generation;
	/* Before anything of this generation is written: a successor's must be
	 * above it even if this child dies before it is ready. */
	atomic_store(&io->shm->claimed_generation, io->w.generation);
	/* The replication role the parent holds (a restarted child keeps it). */
	io->role_seq = atomic_load_explicit(&io->shm->role_seq, memory_order_acquire);
	io->hdr.role = io->shm->role <= DL_ROLE_SECONDARY ? io->shm->role : DL_ROLE_NONE;
	io->st.role = io->hdr.role;
	if (dld_io_write_header(io, DL_SLOT_ACTIVE, exit_code) && *exit_code)
		return -1;
	if (io->st.device_state == DLD_DEV_FAILED)
		return fatal(exit_code, DLD_EXIT_RUNTIME, EIO);
	io->st.slot = (int32_t)io->slot;
	io->st.generation = io->w.generation;
	log_notice(DLD_SUB_MAIN, "attached to %s (volume %s, cluster '%s'): node %u in slot %u, "
		   "generation %llu, next block %llu", io->device, io->st.volume_uuid,
		   io->dev.vol.sb.cluster_name, io->cfg->node_id, io->slot,
		   (unsigned long long)io->w.generation, (unsigned long long)io->w.next_seq);
	return 0;
}

/* A header of our node id with an older generation than ours: a
 * predecessor's write (a killed or abandoned I/O child) that landed
 * late, never another daemon.  Ours, written next, wins again: its
 * generation is higher, and its header sequence goes past the late one. */
static int predecessor_write(struct dld_io *io, const struct dl_slot_hdr *cur)
{
	if (dld_lograte_ok(&io->late_hdr_log, "late-hdr", dl_clock_mono(io->dev.clock),
			   10000000000ull))
		log_notice(DLD_SUB_IO, "slot %u: a late header write of an earlier I/O child "
			   "of this node (generation %llu) landed over ours (generation %llu): "
			   "writing ours again", io->slot, (unsigned long long)cur->generation,
			   (unsigned long long)io->hdr.generation);
	if (cur->hdr_seq > io->hdr.hdr_seq)
		io->hdr.hdr_seq = cur->hdr_seq;
	return 0;
}

/* Our slot must still be ours: someone else writing it is a second
 * daemon with our node id (or a release behind our back).  A header
 * that no longer reads back as ours may also mean the volume was
 * reformatted or overwritten: check the superblock before writing
 * anything (never write into a new volume). */
static int still_ours(struct dld_io *io, int *exit_code)
{
	struct dl_slot_hdr cur;
	int got;

	if (!io->hdr_written)
		return 0;
	got = dld_dev_read_slot(&io->dev, io->slot, &cur);
	if (got == 0 && cur.node_id == io->cfg->node_id && cur.hdr_seq <= io->hdr.hdr_seq &&
	    cur.generation == io->hdr.generation)
		return 0;
	if (got == 0 && cur.node_id == io->cfg->node_id && cur.generation < io->hdr.generation)
		return predecessor_write(io, &cur);
	if (dld_io_check_volume(io, exit_code) && *exit_code)
		return -1;
	if (got)
		return 0;              /* unreadable: the write tells */
	dld_dev_fail(&io->dev, "slot %u on %s was written by someone else (node %u, generation "
		     "%llu): another disklinkd runs for node id %u, or the slot was "
		     "released; stop the other daemon or fix the node id", io->slot,
		     io->device, cur.node_id, (unsigned long long)cur.generation,
		     io->cfg->node_id);
	return fatal(exit_code, DLD_EXIT_COLLISION, EADDRINUSE);
}

int dld_io_write_header(struct dld_io *io, uint32_t state, int *exit_code)
{
	*exit_code = DLD_EXIT_OK;
	if (still_ours(io, exit_code))
		return -1;
	io->hdr.state = state;
	io->hdr.last_seq = io->w.next_seq ? io->w.next_seq - 1 : 0;
	io->hdr.ack_count = 0;
	for (uint32_t i = 0; i < io->npeers; i++) {
		const struct dld_io_peer *p = &io->peers[i];

		if (p->reader_ok && p->rd.synced && p->rd.next_seq > 1)
			dl_slot_hdr_set_ack(&io->hdr, p->node_id, p->rd.next_seq - 1);
	}
	if (dld_dev_write_slot(&io->dev, &io->hdr)) {
		int err = errno;

		dld_dev_fail(&io->dev, "cannot write the header of slot %u on %s: %s", io->slot,
			     io->device, strerror(err));
		errno = err;
		return -1;
	}
	io->hdr_written = true;
	return 0;
}

int dld_io_role_check(struct dld_io *io, int *exit_code)
{
	uint32_t seq = atomic_load_explicit(&io->shm->role_seq, memory_order_acquire);
	uint32_t old = io->hdr.role, role = io->shm->role;

	*exit_code = DLD_EXIT_OK;
	if (seq == io->role_seq)
		return 0;
	io->role_seq = seq;
	io->shm->role_err[0] = 0;
	if (role > DL_ROLE_SECONDARY) {
		snprintf(io->shm->role_err, sizeof(io->shm->role_err), "invalid role %u", role);
		goto done;
	}
	io->hdr.role = role;
	if (dld_io_write_header(io, DL_SLOT_ACTIVE, exit_code) && *exit_code)
		return -1;
	if (io->dev.write_failed || io->st.device_state == DLD_DEV_FAILED) {
		io->hdr.role = old;
		snprintf(io->shm->role_err, sizeof(io->shm->role_err), "the header was not "
			 "written: %.130s", io->st.device_error[0] ? io->st.device_error :
			 "write failed");
	} else {
		log_notice(DLD_SUB_IO, "replication role %s written to slot %u",
			   dl_role_name(role), io->slot);
	}
done:
	io->st.role = io->hdr.role;
	/* At once: the parent holds the role its status says is on disk. */
	dld_status_publish(io->shm, &io->st);
	io->next_pub_ns = 0;
	atomic_store_explicit(&io->shm->role_done, seq, memory_order_release);
	dld_efd_kick(io->ch->rx_efd);
	return 0;
}

int dld_io_check_volume(struct dld_io *io, int *exit_code)
{
	struct dl_sb sb;
	enum dl_err why = DL_OK;
	char uuid[37];

	*exit_code = DLD_EXIT_OK;
	if (dld_dev_read_sb(&io->dev, &sb, &why)) {
		if (why == DL_OK) {
			int err = errno;

			dld_dev_fail(&io->dev, "cannot read the superblock of %s: %s", io->device,
				     strerror(err));
			errno = err;
			return -1;     /* the device failed: not fatal */
		}
		dld_dev_fail(&io->dev, "the superblock of %s is no longer valid (%s): the volume "
			     "was overwritten; check it with 'disklink show', then restart "
			     "disklinkd", io->device, dl_strerror(why));
		return fatal(exit_code, DLD_EXIT_VOLUME, EMEDIUMTYPE);
	}
	if (memcmp(sb.uuid, io->dev.vol.sb.uuid, 16) ||
	    strcmp(sb.cluster_name, io->dev.vol.sb.cluster_name)) {
		dl_uuid_format(sb.uuid, uuid);
		dld_dev_fail(&io->dev, "%s was reformatted (now volume %s of cluster '%s'): "
			     "stopped using it; restart disklinkd to use the new volume",
			     io->device, uuid, sb.cluster_name);
		return fatal(exit_code, DLD_EXIT_VOLUME, EMEDIUMTYPE);
	}
	return 0;
}
