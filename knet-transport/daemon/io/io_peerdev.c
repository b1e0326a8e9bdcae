/* Per-reader paths: a peer whose ring this node reads through its own
 * device (--peer-device ID=DEV, the mirror R2 of the peer's send volume)
 * instead of the main --device.  The device is opened read-only with
 * O_DIRECT, validated (a disklink volume of our cluster; the peer's slot
 * is found by node id), and re-checked like the main volume; when it
 * fails (unreadable, gone, reformatted) only that peer's path fails, with
 * a reason, and the open is retried.  A mirror is a block copy of its R1,
 * so it carries the R1's volume uuid: uuids need not differ between
 * devices.  The paths' upkeep (open, retry, re-check) runs once a loop
 * turn (dld_io_paths_upkeep), never inside a read: a read only finds a
 * path usable or not.  Device access goes through io_dev.c's peer-path
 * variant. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

#include "volume_find.h"

static uint64_t retry_ns(const struct dld_io *io)
{
	return (uint64_t)io->tun.header_interval_ms * 1000000u;
}

static uint64_t now_ns(const struct dld_io *io)
{
	return dl_clock_mono(io->dev.clock);
}

static void __attribute__((format(printf, 3, 4)))
pdev_fail(struct dld_io *io, struct dld_io_peer *p, const char *fmt, ...)
{
	struct dld_io_pdev *d = p->dev;
	char msg[sizeof(d->error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!d->failed)
		dld_lograte_reset(&d->fail_log);
	if (dld_lograte_ok(&d->fail_log, msg, now_ns(io), 0))
		log_err(DLD_SUB_IO, "path of node %u: %s", p->node_id, msg);
	d->failed = true;
	snprintf(d->error, sizeof(d->error), "%s", msg);
	d->retry_ns = now_ns(io) + retry_ns(io);
	io->next_pub_ns = 0;
}

static void pdev_close(struct dld_io_peer *p)
{
	struct dld_io_pdev *d = p->dev;

	if (p->reader_ok)
		dl_reader_free(&p->rd);
	p->reader_ok = false;
	p->slot = -1;
	p->slot_state = DL_SLOT_FREE;
	if (d->open)
		dl_volume_close(&d->vol);
	d->open = false;
	free(d->ring);
	d->ring = NULL;
}

void dld_io_pdev_setup(struct dld_io *io, struct dld_io_peer *p)
{
	const char *path = dld_peer_device(io->cfg, p->node_id);

	if (!path || p->dev)
		return;
	p->dev = calloc(1, sizeof(*p->dev));
	if (!p->dev) {
		log_err(DLD_SUB_IO, "out of memory for the device of node %u: reading it from %s",
			p->node_id, io->device);
		return;
	}
	snprintf(p->dev->path, sizeof(p->dev->path), "%s", path);
}

void dld_io_pdev_free(struct dld_io_peer *p)
{
	if (!p->dev)
		return;
	pdev_close(p);
	free(p->dev);
	p->dev = NULL;
}

struct dl_volume *dld_io_peer_vol(struct dld_io *io, struct dld_io_peer *p)
{
	if (!p->dev)
		return &io->dev.vol;
	return p->dev->open && !p->dev->failed ? &p->dev->vol : NULL;
}

uint8_t *dld_io_peer_ring(struct dld_io *io, struct dld_io_peer *p)
{
	return p->dev ? p->dev->ring : io->dev.ring;
}

static int resolve(struct dld_io *io, struct dld_io_peer *p)
{
	struct dld_io_pdev *d = p->dev;
	uint8_t uuid[16];

	if (strncmp(d->path, "UUID=", 5)) {
		snprintf(d->resolved, sizeof(d->resolved), "%s", d->path);
		return 0;
	}
	if (dl_uuid_parse(d->path + 5, uuid)) {
		pdev_fail(io, p, "%s is not a volume uuid: give UUID=xxxxxxxx-xxxx-xxxx-xxxx-"
			  "xxxxxxxxxxxx or a device path", d->path);
		return -1;
	}
	if (dl_volume_find_by_uuid(uuid, d->resolved, sizeof(d->resolved)) == 0)
		return 0;
	if (errno == ENOTUNIQ)
		pdev_fail(io, p, "several devices hold volume %s (an R1 and its mirror?): give "
			  "the mirror's device path", d->path + 5);
	else
		pdev_fail(io, p, "no device holds volume %s: %s (is the mirror attached?)",
			  d->path + 5, strerror(errno));
	return -1;
}

/* Open and validate p's own device. */
static int pdev_open(struct dld_io *io, struct dld_io_peer *p)
{
	struct dld_io_pdev *d = p->dev;
	enum dl_err why = DL_OK;
	char uuid[37];

	pdev_close(p);
	if (resolve(io, p))
		return -1;
	if (dld_dev_path_open(&io->dev, &d->vol, d->resolved, &why)) {
		if (why == DL_OK)
			pdev_fail(io, p, "cannot open %s: %s (check that the mirror is attached)",
				  d->resolved, strerror(errno));
		else
			pdev_fail(io, p, "%s is not a usable disklink volume: %s (is it the mirror "
				  "of node %u's send volume?)", d->resolved, dl_strerror(why),
				  p->node_id);
		return -1;
	}
	d->open = true;
	dl_uuid_format(d->vol.sb.uuid, uuid);
	if (strcmp(d->vol.sb.cluster_name, io->dev.vol.sb.cluster_name)) {
		pdev_fail(io, p, "%s (volume %s) belongs to cluster '%s', not '%s': give node "
			  "%u's mirror", d->resolved, uuid, d->vol.sb.cluster_name,
			  io->dev.vol.sb.cluster_name, p->node_id);
		pdev_close(p);
		return -1;
	}
	if (d->have_uuid && memcmp(d->uuid, d->vol.sb.uuid, 16)) {
		pdev_fail(io, p, "%s now holds another volume (%s): it was reformatted; restart "
			  "disklinkd to read the new volume", d->resolved, uuid);
		pdev_close(p);
		return -1;
	}
	d->ring = dl_bio_alloc((size_t)d->vol.sb.ring_blocks * d->vol.sb.block_size);
	if (!d->ring) {
		pdev_fail(io, p, "out of memory for a ring of %s", d->resolved);
		pdev_close(p);
		return -1;
	}
	memcpy(d->uuid, d->vol.sb.uuid, 16);
	d->have_uuid = true;
	if (d->failed)
		log_notice(DLD_SUB_IO, "path of node %u works again: %s", p->node_id, d->resolved);
	else
		log_info(DLD_SUB_IO, "reading node %u from %s (volume %s)", p->node_id,
			 d->resolved, uuid);
	d->failed = false;
	d->error[0] = 0;
	d->next_check_ns = now_ns(io) + (uint64_t)io->tun.sb_check_ms * 1000000u;
	io->next_pub_ns = 0;
	return 0;
}

/* The superblock is still the one validated at the open. */
static int pdev_check(struct dld_io *io, struct dld_io_peer *p)
{
	struct dld_io_pdev *d = p->dev;
	enum dl_err why = DL_OK;
	struct dl_sb sb;
	char uuid[37];

	if (dld_dev_path_read_sb(&io->dev, &d->vol, &sb, &why) && why == DL_OK) {
		pdev_fail(io, p, "cannot read the superblock of %s: %s", d->resolved,
			  strerror(errno));
		return -1;
	}
	if (why != DL_OK) {
		pdev_fail(io, p, "the superblock of %s is no longer valid (%s): the mirror was "
			  "overwritten", d->resolved, dl_strerror(why));
		pdev_close(p);
		return -1;
	}
	if (memcmp(sb.uuid, d->vol.sb.uuid, 16) ||
	    strcmp(sb.cluster_name, d->vol.sb.cluster_name)) {
		dl_uuid_format(sb.uuid, uuid);
		pdev_fail(io, p, "%s was reformatted (now volume %s, cluster '%s'): restart "
			  "disklinkd to read it", d->resolved, uuid, sb.cluster_name);
		pdev_close(p);
		return -1;
	}
	d->next_check_ns = now_ns(io) + (uint64_t)io->tun.sb_check_ms * 1000000u;
	return 0;
}

/* Open (or retry) and re-check p's own device when due. */
static void upkeep(struct dld_io *io, struct dld_io_peer *p, uint64_t now)
{
	struct dld_io_pdev *d = p->dev;

	if (d->failed) {
		if (now < d->retry_ns)
			return;
		/* A read error with the device still open: re-validate it. */
		if (d->open && pdev_check(io, p) == 0) {
			d->failed = false;
			d->error[0] = 0;
			log_notice(DLD_SUB_IO, "path of node %u works again: %s", p->node_id,
				   d->resolved);
			io->next_pub_ns = 0;
		} else if (!d->open) {
			pdev_open(io, p);
		}
		return;
	}
	if (!d->open)
		pdev_open(io, p);
	else if (now >= d->next_check_ns)
		pdev_check(io, p);
}

void dld_io_paths_upkeep(struct dld_io *io, uint64_t now)
{
	for (uint32_t i = 0; i < io->npeers; i++)
		if (io->peers[i].dev)
			upkeep(io, &io->peers[i], now);
}

static void pdev_error(struct dld_io *io, struct dld_io_peer *p, const char *what, int err)
{
	pdev_fail(io, p, "cannot read %s of %s: %s", what, p->dev->resolved, strerror(err));
}

int dld_io_peer_read_blocks(struct dld_io *io, struct dld_io_peer *p, uint32_t first,
			    uint32_t n, void *buf)
{
	struct dl_volume *v = dld_io_peer_vol(io, p);
	int err;

	if (!p->dev)
		return dld_dev_read_blocks(&io->dev, (uint32_t)p->slot, first, n, buf);
	if (!v) {
		errno = ENODEV;
		return -1;
	}
	if (dld_dev_path_read_blocks(&io->dev, v, (uint32_t)p->slot, first, n, buf) == 0)
		return 0;
	err = errno;
	pdev_error(io, p, "the ring", err);
	errno = err;
	return -1;
}

int dld_io_peer_read_slot(struct dld_io *io, struct dld_io_peer *p, uint32_t slot,
			  struct dl_slot_hdr *h)
{
	struct dl_volume *v = dld_io_peer_vol(io, p);
	enum dl_err why = DL_OK;
	int err;

	if (!p->dev)
		return dld_dev_read_slot(&io->dev, slot, h);
	if (!v) {
		errno = ENODEV;
		return -1;
	}
	if (dld_dev_path_read_slot(&io->dev, v, slot, h, &why) == 0)
		return 0;
	err = errno;
	if (why == DL_OK)
		pdev_error(io, p, "a slot header", err);
	errno = err;
	return -1;
}

struct pdev_find_arg {
	struct dld_io *io;
	struct dld_io_peer *p;
};

/* dl_slot_find_owner's reader: an unreadable slot is skipped unless the
 * path itself failed, which ends the search. */
static int pdev_find_read(void *arg, uint32_t slot, struct dl_slot_hdr *h)
{
	struct pdev_find_arg *a = arg;

	if (dld_io_peer_read_slot(a->io, a->p, slot, h) == 0)
		return 0;
	if (!dld_io_peer_vol(a->io, a->p)) {
		errno = EIO;
		return -1;
	}
	return 1;
}

int dld_io_pdev_find(struct dld_io *io, struct dld_io_peer *p, uint32_t *slot,
		     struct dl_slot_hdr *h)
{
	struct dl_volume *v = dld_io_peer_vol(io, p);
	struct pdev_find_arg a = { .io = io, .p = p };

	if (!v)
		return -1;
	return dl_slot_find_owner(v->sb.slot_count, p->node_id, pdev_find_read, &a, slot, h);
}
