/* Per-reader paths: a peer whose ring this node reads through its own
 * device (--peer-device ID=DEV, the mirror R2 of the peer's send volume)
 * instead of the main --device.  The device is opened read-only with
 * O_DIRECT, validated (a disklink volume of our cluster; the peer's slot
 * is found by node id), and re-checked like the main volume; when it
 * fails (unreadable, gone, reformatted) only that peer's path fails, with
 * a reason, and the open is retried.  A mirror is a block copy of its R1,
 * so it carries the R1's volume uuid: uuids need not differ between
 * devices. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "io.h"

#include "volume_find.h"

static uint64_t retry_ns(const struct dld_io *io)
{
	return (uint64_t)io->tun.header_interval_ms * 1000000u;
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
	if (!d->failed || strcmp(msg, d->error))
		qb_log(LOG_ERR, "io: path of node %u: %s", p->node_id, msg);
	d->failed = true;
	snprintf(d->error, sizeof(d->error), "%s", msg);
	d->retry_ns = dld_mono_ns() + retry_ns(io);
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
		qb_log(LOG_ERR, "io: out of memory for the device of node %u: reading it from %s",
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
		return &io->vol;
	return p->dev->open && !p->dev->failed ? &p->dev->vol : NULL;
}

uint8_t *dld_io_peer_ring(struct dld_io *io, struct dld_io_peer *p)
{
	return p->dev ? p->dev->ring : io->ring;
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
	struct dl_bio_opts opts = { .read_only = true };
	enum dl_err why = DL_OK;
	char uuid[37];
	int rc;

	pdev_close(p);
	if (resolve(io, p))
		return -1;
	dld_io_begin(io);
	rc = dl_volume_open(&d->vol, d->resolved, NULL, &opts, &why);
	atomic_store_explicit(&io->shm->io_start_ns, 0, memory_order_release);
	if (rc) {
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
	if (strcmp(d->vol.sb.cluster_name, io->vol.sb.cluster_name)) {
		pdev_fail(io, p, "%s (volume %s) belongs to cluster '%s', not '%s': give node "
			  "%u's mirror", d->resolved, uuid, d->vol.sb.cluster_name,
			  io->vol.sb.cluster_name, p->node_id);
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
		qb_log(LOG_NOTICE, "io: path of node %u works again: %s", p->node_id, d->resolved);
	else
		qb_log(LOG_INFO, "io: reading node %u from %s (volume %s)", p->node_id,
		       d->resolved, uuid);
	d->failed = false;
	d->error[0] = 0;
	d->next_check_ns = dld_mono_ns() + (uint64_t)io->tun.sb_check_ms * 1000000u;
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
	int rc;

	dld_io_begin(io);
	rc = dl_bio_read(&d->vol.bio, d->vol.region, DL_REGION_MIN, 0);
	atomic_store_explicit(&io->shm->io_start_ns, 0, memory_order_release);
	if (rc) {
		pdev_fail(io, p, "cannot read the superblock of %s: %s", d->resolved,
			  strerror(errno));
		return -1;
	}
	if (dl_sb_decode(d->vol.region, DL_REGION_MIN, &sb, &why)) {
		pdev_fail(io, p, "the superblock of %s is no longer valid (%s): the mirror was "
			  "overwritten", d->resolved, dl_strerror(why));
		pdev_close(p);
		return -1;
	}
	if (memcmp(sb.uuid, d->vol.sb.uuid, 16) || strcmp(sb.cluster_name, d->vol.sb.cluster_name)) {
		dl_uuid_format(sb.uuid, uuid);
		pdev_fail(io, p, "%s was reformatted (now volume %s, cluster '%s'): restart "
			  "disklinkd to read it", d->resolved, uuid, sb.cluster_name);
		pdev_close(p);
		return -1;
	}
	d->next_check_ns = dld_mono_ns() + (uint64_t)io->tun.sb_check_ms * 1000000u;
	return 0;
}

bool dld_io_pdev_usable(struct dld_io *io, struct dld_io_peer *p, uint64_t now)
{
	struct dld_io_pdev *d = p->dev;

	if (!d)
		return true;
	if (d->failed) {
		if (now < d->retry_ns)
			return false;
		/* A read error with the device still open: re-validate it. */
		if (d->open && pdev_check(io, p) == 0) {
			d->failed = false;
			d->error[0] = 0;
			qb_log(LOG_NOTICE, "io: path of node %u works again: %s", p->node_id,
			       d->resolved);
			io->next_pub_ns = 0;
			return true;
		}
		return !d->open && pdev_open(io, p) == 0;
	}
	if (!d->open)
		return pdev_open(io, p) == 0;
	if (now >= d->next_check_ns)
		return pdev_check(io, p) == 0;
	return true;
}

void dld_io_pdev_error(struct dld_io *io, struct dld_io_peer *p, const char *what, int err)
{
	if (p->dev)
		pdev_fail(io, p, "cannot read %s of %s: %s", what, p->dev->resolved,
			  strerror(err));
}

int dld_io_peer_read_blocks(struct dld_io *io, struct dld_io_peer *p, uint32_t first,
			    uint32_t n, void *buf)
{
	struct dl_volume *v = dld_io_peer_vol(io, p);
	int rc, err;

	if (!p->dev)
		return dld_io_read_blocks(io, (uint32_t)p->slot, first, n, buf);
	if (!v) {
		errno = ENODEV;
		return -1;
	}
	dld_io_begin(io);
	rc = dl_volume_read_blocks(v, (uint32_t)p->slot, first, n, buf);
	err = errno;
	/* Counted with the reads; the main device's state stays its own. */
	atomic_store_explicit(&io->shm->io_start_ns, 0, memory_order_release);
	io->st.io.reads++;
	if (rc) {
		io->st.io.errors++;
		dld_io_pdev_error(io, p, "the ring", err);
	}
	errno = err;
	return rc;
}

int dld_io_peer_read_slot(struct dld_io *io, struct dld_io_peer *p, uint32_t slot,
			  struct dl_slot_hdr *h)
{
	struct dl_volume *v = dld_io_peer_vol(io, p);
	enum dl_err why = DL_OK;
	int rc, err;

	if (!p->dev)
		return dld_io_read_slot(io, slot, h);
	if (!v) {
		errno = ENODEV;
		return -1;
	}
	dld_io_begin(io);
	rc = dl_volume_read_slot(v, slot, h, &why);
	err = errno;
	atomic_store_explicit(&io->shm->io_start_ns, 0, memory_order_release);
	io->st.io.reads++;
	if (rc && why == DL_OK) {
		io->st.io.errors++;
		dld_io_pdev_error(io, p, "a slot header", err);
	}
	errno = err;
	return rc;
}

int dld_io_pdev_find(struct dld_io *io, struct dld_io_peer *p, uint32_t *slot,
		     struct dl_slot_hdr *h)
{
	struct dl_volume *v = dld_io_peer_vol(io, p);

	if (!v)
		return -1;
	for (uint32_t s = 0; s < v->sb.slot_count; s++) {
		if (dld_io_peer_read_slot(io, p, s, h)) {
			if (!dld_io_peer_vol(io, p))
				return -1;     /* the path failed */
			continue;
		}
		if (h->state != DL_SLOT_FREE && h->node_id == p->node_id) {
			*slot = s;
			return 0;
		}
	}
	return -1;
}
