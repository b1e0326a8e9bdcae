/* The I/O child and its volume: open and validate, refuse a node id that
 * another live daemon uses, claim the slot, start a new writer
 * generation, refresh the slot header, and re-check the superblock. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <qb/qblog.h>

#include "block.h"
#include "io.h"

#include "volume_find.h"

static int resolve_device(struct dld_io *io)
{
	const char *dev = io->cfg->device;
	uint8_t uuid[16];

	io->device = dev;
	if (strncmp(dev, "UUID=", 5))
		return 0;
	if (dl_uuid_parse(dev + 5, uuid)) {
		dld_io_fail(io, "device %s: not a volume uuid: give UUID=xxxxxxxx-xxxx-xxxx-xxxx-"
			    "xxxxxxxxxxxx or a device path", dev);
		return DLD_EXIT_USAGE;
	}
	if (dl_volume_find_by_uuid(uuid, io->device_buf, sizeof(io->device_buf)) == 0) {
		io->device = io->device_buf;
		return 0;
	}
	if (errno == ENOTUNIQ) {
		dld_io_fail(io, "several devices hold disklink volume %s (first: %s): give the "
			    "device path ('disklink find' lists them)", dev + 5, io->device_buf);
		return DLD_EXIT_VOLUME;
	}
	dld_io_fail(io, "no device holds disklink volume %s: %s (check that the device is "
		    "attached; 'disklink find' lists volumes)", dev + 5, strerror(errno));
	return DLD_EXIT_RUNTIME;
}

/* Highest valid sequence number in a slot's ring (0: none or unreadable). */
static uint64_t ring_head(struct dld_io *io, uint32_t slot)
{
	const struct dl_sb *sb = &io->vol.sb;
	uint64_t head = 0;

	if (dld_io_read_blocks(io, slot, 0, sb->ring_blocks, io->ring))
		return 0;
	for (uint32_t i = 0; i < sb->ring_blocks; i++) {
		struct dl_block b;

		if (dl_block_decode(io->ring + (size_t)i * sb->block_size, sb->block_size, &b,
				    NULL) == 0 && b.slot_index == slot && b.seq > head)
			head = b.seq;
	}
	return head;
}

/* A slot of our node id marked active: our own crash, or another daemon
 * that runs with this node id?  A live daemon refreshes its header every
 * header interval, so watch it for a few. */
static int collision_check(struct dld_io *io)
{
	struct dl_slot_hdr h1, h2;
	uint32_t slot;
	uint64_t head1, head2, wait_ns;

	if (dl_volume_find_node(&io->vol, io->cfg->node_id, &slot, &h1) ||
	    h1.state != DL_SLOT_ACTIVE)
		return 0;
	if (io->shm->prev_generation && h1.generation == io->shm->prev_generation)
		return 0;              /* our previous I/O child's */
	wait_ns = (2ull * io->tun.header_interval_ms + 250u) * 1000000ull;
	qb_log(LOG_NOTICE, "slot %u of node %u is marked active (a crash, or another "
	       "disklinkd?): watching it for %llu ms", slot, io->cfg->node_id,
	       (unsigned long long)(wait_ns / 1000000u));
	head1 = ring_head(io, slot);
	if (dld_io_wait(io, wait_ns))
		return -1;
	if (dld_io_read_slot(io, slot, &h2))
		return 0;
	head2 = ring_head(io, slot);
	if (h2.node_id == h1.node_id &&
	    (h2.hdr_seq != h1.hdr_seq || h2.update_time_ns != h1.update_time_ns ||
	     head2 != head1)) {
		dld_io_fail(io, "node id %u is already active on %s (slot %u, node name '%s'): "
			    "another disklinkd runs for this node id; stop it or fix the node id",
			    io->cfg->node_id, io->device, slot, h2.node_name);
		return DLD_EXIT_COLLISION;
	}
	qb_log(LOG_NOTICE, "slot %u was left active by a crash: taking it over", slot);
	return 0;
}

int dld_io_attach(struct dld_io *io)
{
	struct dl_bio_opts opts = { .dsync = io->tun.dsync != 0 };
	char uuid[37];
	enum dl_err why = DL_OK;
	int rc;

	rc = resolve_device(io);
	if (rc)
		return rc;
	dld_io_begin(io);
	rc = dl_volume_open(&io->vol, io->device, NULL, &opts, &why);
	dld_io_end(io, false, rc && why == DL_OK);
	if (rc) {
		if (why == DL_OK) {
			dld_io_fail(io, "cannot open %s: %s (check the path and that the device "
				    "is attached)", io->device, strerror(errno));
			return DLD_EXIT_RUNTIME;
		}
		dld_io_fail(io, "%s is not a usable disklink volume: %s (inspect it with "
			    "'disklink show', create one with 'disklink format')", io->device,
			    dl_strerror(why));
		return DLD_EXIT_VOLUME;
	}
	io->vol_open = true;
	dl_uuid_format(io->vol.sb.uuid, uuid);
	snprintf(io->st.volume_uuid, sizeof(io->st.volume_uuid), "%s", uuid);
	snprintf(io->st.cluster, sizeof(io->st.cluster), "%s", io->vol.sb.cluster_name);
	io->st.block_size = io->vol.sb.block_size;
	io->st.ring_blocks = io->vol.sb.ring_blocks;
	if (io->cfg->cluster[0] && strcmp(io->cfg->cluster, io->vol.sb.cluster_name)) {
		dld_io_fail(io, "volume %s on %s belongs to cluster '%s', not '%s': give the "
			    "right device", uuid, io->device, io->vol.sb.cluster_name,
			    io->cfg->cluster);
		return DLD_EXIT_VOLUME;
	}
	if (io->shm->have_uuid && memcmp(io->shm->expect_uuid, io->vol.sb.uuid, 16)) {
		dld_io_fail(io, "%s now holds another volume (%s): it was reformatted; restart "
			    "disklinkd to use the new volume", io->device, uuid);
		return DLD_EXIT_VOLUME;
	}
	if (dld_io_alloc(io))
		return DLD_EXIT_RUNTIME;
	rc = collision_check(io);
	if (rc)
		return rc < 0 ? DLD_EXIT_OK : rc;
	dld_io_begin(io);
	rc = dl_volume_claim(&io->vol, io->cfg->node_id, io->cfg->node_name, &io->slot, &io->hdr);
	dld_io_end(io, true, rc && errno != ENOSPC);
	if (rc) {
		if (errno == ENOSPC) {
			dld_io_fail(io, "no free slot for node %u on %s (%u slots, all claimed): "
				    "release one with 'disklink release' or format with more slots",
				    io->cfg->node_id, io->device, io->vol.sb.slot_count);
			return DLD_EXIT_VOLUME;
		}
		dld_io_fail(io, "cannot claim a slot on %s: %s", io->device, strerror(errno));
		return DLD_EXIT_RUNTIME;
	}
	io->claimed = io->hdr;
	/* A new generation; the sequence continues after everything in the
	 * ring and the header, so peers never see a sequence number twice. */
	if (dld_io_read_blocks(io, io->slot, 0, io->vol.sb.ring_blocks, io->ring))
		rc = dl_writer_open(&io->w, &io->vol.sb, io->slot, io->cfg->node_id, &io->hdr, NULL);
	else
		rc = dl_writer_open(&io->w, &io->vol.sb, io->slot, io->cfg->node_id, &io->hdr,
				    io->ring);
	if (rc) {
		dld_io_fail(io, "cannot start the writer of slot %u: %s", io->slot, strerror(errno));
		return DLD_EXIT_RUNTIME;
	}
	snprintf(io->hdr.node_name, sizeof(io->hdr.node_name), "%s", io->cfg->node_name);
	io->hdr.generation = io->w.generation;
	/* The replication role the parent holds (a restarted child keeps it). */
	io->role_seq = atomic_load_explicit(&io->shm->role_seq, memory_order_acquire);
	io->hdr.role = io->shm->role <= DL_ROLE_SECONDARY ? io->shm->role : DL_ROLE_NONE;
	io->st.role = io->hdr.role;
	rc = dld_io_write_header(io, DL_SLOT_ACTIVE);
	if (rc)
		return rc;
	if (io->st.device_state == DLD_DEV_FAILED)
		return DLD_EXIT_RUNTIME;
	io->st.slot = (int32_t)io->slot;
	io->st.generation = io->w.generation;
	qb_log(LOG_NOTICE, "attached to %s (volume %s, cluster '%s'): node %u in slot %u, "
	       "generation %llu, next block %llu", io->device, uuid, io->vol.sb.cluster_name,
	       io->cfg->node_id, io->slot, (unsigned long long)io->w.generation,
	       (unsigned long long)io->w.next_seq);
	return 0;
}

int dld_io_write_header(struct dld_io *io, uint32_t state)
{
	struct dl_slot_hdr cur;
	int got = -1;

	/* Our slot must still be ours: someone else writing it is a second
	 * daemon with our node id (or a release behind our back).  A header
	 * that no longer reads back as ours may also mean the volume was
	 * reformatted or overwritten: check the superblock before writing
	 * anything (never write into a new volume). */
	if (io->hdr_written) {
		got = dld_io_read_slot(io, io->slot, &cur);
		if (got || cur.node_id != io->cfg->node_id || cur.hdr_seq > io->hdr.hdr_seq ||
		    cur.generation != io->hdr.generation) {
			int rc = dld_io_check_volume(io);

			if (rc)
				return rc;
		}
	}
	if (got == 0 &&
	    (cur.node_id != io->cfg->node_id || cur.hdr_seq > io->hdr.hdr_seq ||
	     cur.generation != io->hdr.generation)) {
		dld_io_fail(io, "slot %u on %s was written by someone else (node %u, generation "
			    "%llu): another disklinkd runs for node id %u, or the slot was "
			    "released; stop the other daemon or fix the node id", io->slot,
			    io->device, cur.node_id, (unsigned long long)cur.generation,
			    io->cfg->node_id);
		return DLD_EXIT_COLLISION;
	}
	io->hdr.state = state;
	io->hdr.last_seq = io->w.next_seq ? io->w.next_seq - 1 : 0;
	io->hdr.ack_count = 0;
	for (uint32_t i = 0; i < io->npeers; i++) {
		const struct dld_io_peer *p = &io->peers[i];

		if (p->reader_ok && p->rd.synced && p->rd.next_seq > 1)
			dl_slot_hdr_set_ack(&io->hdr, p->node_id, p->rd.next_seq - 1);
	}
	if (dld_io_write_slot(io, &io->hdr)) {
		dld_io_fail(io, "cannot write the header of slot %u on %s: %s", io->slot,
			    io->device, strerror(errno));
		return 0;
	}
	io->hdr_written = true;
	return 0;
}

int dld_io_role_check(struct dld_io *io)
{
	uint32_t seq = atomic_load_explicit(&io->shm->role_seq, memory_order_acquire);
	uint32_t old = io->hdr.role, role = io->shm->role;
	int rc;

	if (seq == io->role_seq)
		return 0;
	io->role_seq = seq;
	io->shm->role_err[0] = 0;
	if (role > DL_ROLE_SECONDARY) {
		snprintf(io->shm->role_err, sizeof(io->shm->role_err), "invalid role %u", role);
		goto done;
	}
	io->hdr.role = role;
	rc = dld_io_write_header(io, DL_SLOT_ACTIVE);
	if (rc)
		return rc;
	if (io->write_failed || io->st.device_state == DLD_DEV_FAILED) {
		io->hdr.role = old;
		snprintf(io->shm->role_err, sizeof(io->shm->role_err), "the header was not "
			 "written: %.130s", io->st.device_error[0] ? io->st.device_error :
			 "write failed");
	} else {
		qb_log(LOG_NOTICE, "io: replication role %s written to slot %u", dl_role_name(role),
		       io->slot);
	}
done:
	io->st.role = io->hdr.role;
	io->next_pub_ns = 0;
	atomic_store_explicit(&io->shm->role_done, seq, memory_order_release);
	dld_efd_kick(io->ch->rx_efd);
	return 0;
}

int dld_io_check_volume(struct dld_io *io)
{
	struct dl_sb sb;
	enum dl_err why = DL_OK;
	char uuid[37];
	int rc;

	dld_io_begin(io);
	rc = dl_bio_read(&io->vol.bio, io->vol.region, DL_REGION_MIN, 0);
	dld_io_end(io, false, rc);
	if (rc) {
		dld_io_fail(io, "cannot read the superblock of %s: %s", io->device, strerror(errno));
		return 0;
	}
	if (dl_sb_decode(io->vol.region, DL_REGION_MIN, &sb, &why)) {
		dld_io_fail(io, "the superblock of %s is no longer valid (%s): the volume was "
			    "overwritten; check it with 'disklink show', then restart disklinkd",
			    io->device, dl_strerror(why));
		return DLD_EXIT_VOLUME;
	}
	if (memcmp(sb.uuid, io->vol.sb.uuid, 16) ||
	    strcmp(sb.cluster_name, io->vol.sb.cluster_name)) {
		dl_uuid_format(sb.uuid, uuid);
		dld_io_fail(io, "%s was reformatted (now volume %s of cluster '%s'): stopped "
			    "using it; restart disklinkd to use the new volume", io->device, uuid,
			    sb.cluster_name);
		return DLD_EXIT_VOLUME;
	}
	return 0;
}
