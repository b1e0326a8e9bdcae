/* Timed device access and device state for the I/O child (io_dev.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>

#include "ring_writer.h"

#include "io_dev.h"

void dld_dev_init(struct dld_io_dev *d, const struct dl_clock *clock,
		  const struct dl_bio_ops *ops, _Atomic uint64_t *deadline,
		  struct dld_status *st)
{
	*d = (struct dld_io_dev){
		.clock = clock, .ops = ops, .deadline = deadline, .st = st, .name = "",
	};
}

/* An I/O starts: the parent sees since when it is in progress. */
static void begin(struct dld_io_dev *d)
{
	atomic_store_explicit(d->deadline, dl_clock_mono(d->clock), memory_order_release);
}

/* It ended: no latency or state, the deadline word only. */
static void end_untimed(struct dld_io_dev *d)
{
	atomic_store_explicit(d->deadline, 0, memory_order_release);
}

/* A transfer of the main device that took us (failed when failed):
 * counted, timed, and a success after a failure says the device works
 * again (but a read does not clear a failed write: a read-only device
 * reads fine). */
static void account(struct dld_io_dev *d, bool write, bool failed, uint64_t us)
{
	uint64_t *lat = write ? &d->st->io.write_latency_us : &d->st->io.read_latency_us;

	if (write) {
		d->st->io.writes++;
		d->write_failed = failed;
	} else {
		d->st->io.reads++;
	}
	if (failed) {
		d->st->io.errors++;
		return;
	}
	*lat = *lat ? (*lat * 7u + us) / 8u : us;
	if (d->st->device_state == DLD_DEV_FAILED && !d->write_failed)
		dld_dev_ok(d);
}

/* An I/O of the main device ended. */
static void end(struct dld_io_dev *d, bool write, bool failed)
{
	uint64_t start = atomic_load_explicit(d->deadline, memory_order_relaxed);

	end_untimed(d);
	account(d, write, failed, (dl_clock_mono(d->clock) - start) / 1000u);
}

/* A read through a peer's path: counted with the main device's, its
 * state left alone. */
static void end_path(struct dld_io_dev *d, bool failed)
{
	end_untimed(d);
	d->st->io.reads++;
	if (failed)
		d->st->io.errors++;
}

int dld_dev_open(struct dld_io_dev *d, const char *path, bool dsync, enum dl_err *why)
{
	struct dl_bio_opts opts = { .dsync = dsync, .clock = d->clock };
	int rc, err;

	d->name = path;
	*why = DL_OK;
	begin(d);
	rc = dl_volume_open(&d->vol, path, d->ops, &opts, why);
	err = errno;
	end(d, false, rc && *why == DL_OK);
	d->open = rc == 0;
	errno = err;
	return rc;
}

void dld_dev_close(struct dld_io_dev *d)
{
	free(d->ring);
	free(d->wbuf);
	d->ring = d->wbuf = NULL;
	if (d->open)
		dl_volume_close(&d->vol);
	d->open = false;
}

int dld_dev_read_blocks(struct dld_io_dev *d, uint32_t slot, uint32_t first, uint32_t n,
			void *buf)
{
	int rc, err;

	begin(d);
	rc = dl_volume_read_blocks(&d->vol, slot, first, n, buf);
	err = errno;
	end(d, false, rc != 0);
	errno = err;
	return rc;
}

int dld_dev_write_blocks(struct dld_io_dev *d, uint32_t slot, uint32_t first, uint32_t n,
			 const void *buf)
{
	int rc, err;

	begin(d);
	rc = dl_volume_write_blocks(&d->vol, slot, first, n, buf);
	err = errno;
	end(d, true, rc != 0);
	errno = err;
	return rc;
}

int dld_dev_read_heads(struct dld_io_dev *d, uint32_t n, void *buf)
{
	int rc, err;

	begin(d);
	rc = dl_bio_read(&d->vol.bio, buf, (size_t)n * d->vol.sb.head_bytes,
			 d->vol.sb.heads_offset);
	err = errno;
	end(d, false, rc != 0);
	errno = err;
	return rc;
}

int dld_dev_write_head(struct dld_io_dev *d, uint32_t slot, const void *buf)
{
	int rc, err;

	begin(d);
	rc = dl_bio_write(&d->vol.bio, buf, d->vol.sb.head_bytes,
			  dl_sb_head_offset(&d->vol.sb, slot));
	err = errno;
	end(d, true, rc != 0);
	errno = err;
	return rc;
}

void dld_dev_xfer_blocks(const struct dld_io_dev *d, struct dld_dev_xfer *x, bool write,
			 uint32_t slot, uint32_t first, uint32_t n, void *buf)
{
	const struct dl_sb *sb = &d->vol.sb;
	bool ok = slot < sb->slot_count && n && first < sb->ring_blocks &&
		  n <= sb->ring_blocks - first;

	*x = (struct dld_dev_xfer){
		.req = {
			.op = write ? DL_BIO_WRITE : DL_BIO_READ, .buf = buf,
			.len = ok ? (size_t)n * sb->block_size : 0,
			.off = ok ? dl_sb_block_offset(sb, slot, first) : 0,
		},
	};
}

void dld_dev_xfer_heads(const struct dld_io_dev *d, struct dld_dev_xfer *x, uint32_t n,
			void *buf)
{
	*x = (struct dld_dev_xfer){
		.req = {
			.op = DL_BIO_READ, .buf = buf, .len = (size_t)n * d->vol.sb.head_bytes,
			.off = d->vol.sb.heads_offset,
		},
	};
}

int dld_dev_batch(struct dld_io_dev *d, struct dld_dev_xfer *x, uint32_t n)
{
	struct dl_bio *bio = &d->vol.bio;
	int first_err = 0;

	begin(d);
	for (uint32_t i = 0; i < n; i++) {
		x[i].rc = 0;
		if (!x[i].req.len) {
			x[i].rc = -1;
			x[i].err = EINVAL;
		} else if (dl_bio_submit(bio, &x[i].req)) {
			x[i].rc = -1;
			x[i].err = errno;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		if (x[i].rc == 0 && dl_bio_wait_req(bio, &x[i].req)) {
			x[i].rc = -1;
			x[i].err = errno;
		} else if (x[i].rc == 0 && x[i].req.result) {
			x[i].rc = -1;
			x[i].err = x[i].req.error;
		}
	}
	end_untimed(d);
	for (uint32_t i = 0; i < n; i++) {
		const struct dl_bio_req *r = &x[i].req;

		account(d, r->op == DL_BIO_WRITE, x[i].rc != 0,
			r->done ? (r->complete_ns - r->submit_ns) / 1000u : 0);
		if (x[i].rc && !first_err)
			first_err = x[i].err;
	}
	errno = first_err;
	return first_err ? -1 : 0;
}

int dld_dev_read_slot(struct dld_io_dev *d, uint32_t slot, struct dl_slot_hdr *h)
{
	enum dl_err why = DL_OK;
	int rc, err;

	begin(d);
	rc = dl_volume_read_slot(&d->vol, slot, h, &why);
	err = errno;
	end(d, false, rc && why == DL_OK);
	errno = err;
	return rc;
}

int dld_dev_write_slot(struct dld_io_dev *d, struct dl_slot_hdr *h)
{
	int rc, err;

	begin(d);
	rc = dl_volume_write_slot(&d->vol, h);
	err = errno;
	end(d, true, rc != 0);
	errno = err;
	return rc;
}

int dld_dev_claim_intent(struct dld_io_dev *d, uint32_t node_id, const char *node_name,
			 uint32_t *slot, struct dl_slot_hdr *h, int *owned)
{
	int rc, err;

	begin(d);
	rc = dl_volume_claim_intent(&d->vol, node_id, node_name, slot, h, owned);
	err = errno;
	end(d, true, rc && err != ENOSPC);
	errno = err;
	return rc;
}

static int read_sb(struct dl_volume *v, struct dl_sb *sb, enum dl_err *why, int *io_rc)
{
	*why = DL_OK;
	*io_rc = dl_bio_read(&v->bio, v->region, DL_REGION_MIN, 0);
	if (*io_rc)
		return -1;
	return dl_sb_decode(v->region, DL_REGION_MIN, sb, why) ? -1 : 0;
}

int dld_dev_read_sb(struct dld_io_dev *d, struct dl_sb *sb, enum dl_err *why)
{
	int rc, io_rc, err;

	begin(d);
	rc = read_sb(&d->vol, sb, why, &io_rc);
	err = errno;
	end(d, false, io_rc != 0);
	errno = err;
	return rc;
}

/* Did the write fail because the block device is read-only (BLKROGET:
 * blockdev --setro, a LUN mapped read-only)?  Its writes fail with EPERM,
 * "Operation not permitted", which says nothing of the cause. */
static bool write_refused_read_only(const struct dld_io_dev *d, int err)
{
	int ro = 0;

	if (!d->open || !d->write_failed || !d->vol.bio.is_blockdev ||
	    (err != EPERM && err != EROFS && err != EACCES))
		return false;
	return ioctl(d->vol.bio.fd, BLKROGET, &ro) == 0 && ro;
}

void dld_dev_fail(struct dld_io_dev *d, const char *fmt, ...)
{
	char msg[sizeof(d->st->device_error)];
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (write_refused_read_only(d, err))
		snprintf(msg, sizeof(msg), "device %s is read-only: make it writable (blockdev "
			 "--setrw %s) or map the LUN read-write to this node; disklinkd retries",
			 d->name, d->name);
	if (dld_lograte_ok(&d->fail_log, msg, dl_clock_mono(d->clock), 0))
		log_err(DLD_SUB_MAIN, "%s", msg);
	d->st->device_state = DLD_DEV_FAILED;
	memcpy(d->st->device_error, msg, sizeof(msg));
	d->changed = true;	errno = err;               /* the callers report it */
}

void dld_dev_ok(struct dld_io_dev *d)
{
	if (d->st->device_state == DLD_DEV_FAILED)
		log_notice(DLD_SUB_MAIN, "device %s works again", d->name);
	if (d->st->device_state != DLD_DEV_OK)
		d->changed = true;
	dld_lograte_reset(&d->fail_log);
	d->st->device_state = DLD_DEV_OK;
	d->st->device_error[0] = 0;
}

/* Blocks for one largest datagram to each of peers, at most a ring. */
static uint32_t batch_need(const struct dl_sb *sb, uint32_t peers)
{
	uint32_t need = dl_writer_blocks_for(sb->block_size, peers ? peers : 1, DL_DGRAM_MAX);

	return need < sb->ring_blocks ? need : sb->ring_blocks;
}

int dld_dev_alloc(struct dld_io_dev *d, uint32_t peers, uint32_t batch_tunable)
{
	const struct dl_sb *sb = &d->vol.sb;
	uint32_t need = batch_need(sb, peers);

	d->max_batch = batch_tunable > need ? batch_tunable : need;
	if (d->max_batch > sb->ring_blocks)
		d->max_batch = sb->ring_blocks;
	d->ring = dl_bio_alloc((size_t)sb->ring_blocks * sb->block_size);
	d->wbuf = dl_bio_alloc((size_t)d->max_batch * sb->block_size);
	if (!d->ring || !d->wbuf) {
		log_err(DLD_SUB_IO, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int dld_dev_resize(struct dld_io_dev *d, uint32_t peers)
{
	const struct dl_sb *sb = &d->vol.sb;
	uint32_t need = batch_need(sb, peers);
	uint8_t *buf;

	if (need <= d->max_batch)
		return 0;
	buf = dl_bio_alloc((size_t)need * sb->block_size);
	if (!buf) {
		log_err(DLD_SUB_IO, "out of memory for a write buffer of %u blocks", need);
		errno = ENOMEM;
		return -1;
	}
	free(d->wbuf);
	d->wbuf = buf;
	d->max_batch = need;
	return 0;
}

int dld_dev_path_open(struct dld_io_dev *d, struct dl_volume *v, const char *path,
		      enum dl_err *why)
{
	struct dl_bio_opts opts = { .read_only = true, .clock = d->clock };
	int rc, err;

	*why = DL_OK;
	begin(d);
	rc = dl_volume_open(v, path, d->ops, &opts, why);
	err = errno;
	end_untimed(d);
	errno = err;
	return rc;
}

int dld_dev_path_read_blocks(struct dld_io_dev *d, struct dl_volume *v, uint32_t slot,
			     uint32_t first, uint32_t n, void *buf)
{
	int rc, err;

	begin(d);
	rc = dl_volume_read_blocks(v, slot, first, n, buf);
	err = errno;
	end_path(d, rc != 0);
	errno = err;
	return rc;
}

int dld_dev_path_read_slot(struct dld_io_dev *d, struct dl_volume *v, uint32_t slot,
			   struct dl_slot_hdr *h, enum dl_err *why)
{
	int rc, err;

	*why = DL_OK;
	begin(d);
	rc = dl_volume_read_slot(v, slot, h, why);
	err = errno;
	end_path(d, rc && *why == DL_OK);
	errno = err;
	return rc;
}

int dld_dev_path_read_sb(struct dld_io_dev *d, struct dl_volume *v, struct dl_sb *sb,
			 enum dl_err *why)
{
	int rc, io_rc, err;

	begin(d);
	rc = read_sb(v, sb, why, &io_rc);
	err = errno;
	end_untimed(d);
	errno = err;
	return rc;
}
