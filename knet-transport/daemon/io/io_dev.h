/* Timed device access for the I/O child, below its read, write, volume
 * and mirror-path modules: every transfer sets the deadline word in the
 * shared area (an I/O is in progress since when: the parent's stall
 * detector reads it) and clears it after; reads, writes, errors and
 * latencies are counted in the published status; the device's state
 * (ok, or failed with its reason) follows its results.  Devices are
 * opened through an ops table (bio.h) and time is read only through an
 * injected clock (struct dl_clock), so a test or a simulator can stand
 * in for both.  The variant for a peer path (a peer's ring read through
 * its own mirror device) counts with the main device but leaves its
 * state alone: the path's own state is the caller's (io_peerdev.c).
 * Also the buffers sized from the volume.  0, or -1 with errno. */
#ifndef DLD_IO_DEV_H
#define DLD_IO_DEV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "volume.h"

#include "log.h"
#include "shm_queue.h"

struct dld_io_dev {
	const struct dl_clock *clock;
	const struct dl_bio_ops *ops;  /* every device is opened through it */
	_Atomic uint64_t *deadline;    /* start of the I/O in progress, 0: none */
	struct dld_status *st;         /* device_state, device_error, io counters */
	const char *name;              /* the device, for messages          */
	struct dl_volume vol;
	bool open;
	bool write_failed;             /* the last write failed: only a write clears it */
	bool changed;                  /* the state changed: publish it soon */
	struct dld_lograte fail_log;   /* one message per failure reason   */
	uint8_t *ring;                 /* one ring of blocks, aligned       */
	uint8_t *wbuf;                 /* max_batch blocks, aligned         */
	uint32_t max_batch;
};

void dld_dev_init(struct dld_io_dev *d, const struct dl_clock *clock,
		  const struct dl_bio_ops *ops, _Atomic uint64_t *deadline,
		  struct dld_status *st);
/* Open the main device read-write: -1 with errno and *why (DL_OK: the
 * device itself failed, counted as an error). */
int dld_dev_open(struct dld_io_dev *d, const char *path, bool dsync, enum dl_err *why);
/* Close the device, free the buffers. */
void dld_dev_close(struct dld_io_dev *d);

int dld_dev_read_blocks(struct dld_io_dev *d, uint32_t slot, uint32_t first, uint32_t n,
			void *buf);
int dld_dev_write_blocks(struct dld_io_dev *d, uint32_t slot, uint32_t first, uint32_t n,
			 const void *buf);
/* The heads of slots 0..n-1 of the head area in one read; our slot's
 * head (head_bytes). */
int dld_dev_read_heads(struct dld_io_dev *d, uint32_t n, void *buf);
int dld_dev_write_head(struct dld_io_dev *d, uint32_t slot, const void *buf);
/* A header that does not decode is data, not a device error. */
int dld_dev_read_slot(struct dld_io_dev *d, uint32_t slot, struct dl_slot_hdr *h);
int dld_dev_write_slot(struct dld_io_dev *d, struct dl_slot_hdr *h);
/* dl_volume_claim_intent, timed; ENOSPC (no free slot) is no device error. */
int dld_dev_claim_intent(struct dld_io_dev *d, uint32_t node_id, const char *node_name,
			 uint32_t *slot, struct dl_slot_hdr *h, int *owned);
/* Read and decode the superblock: -1 with errno and *why (DL_OK: the
 * read failed). */
int dld_dev_read_sb(struct dld_io_dev *d, struct dl_sb *sb, enum dl_err *why);

/* Transfers of the main device handed over together (dld_dev_batch):
 * one io_uring_enter for all with the uring engine, one call each with
 * psync.  Filled by dld_dev_xfer_blocks / dld_dev_xfer_heads. */
struct dld_dev_xfer {
	struct dl_bio_req req;
	int rc;                        /* 0, or -1 with err                */
	int err;
};
/* n blocks of slot's ring from index first (read into or written from
 * buf); out of the ring: the transfer fails with EINVAL. */
void dld_dev_xfer_blocks(const struct dld_io_dev *d, struct dld_dev_xfer *x, bool write,
			 uint32_t slot, uint32_t first, uint32_t n, void *buf);
/* The heads of slots 0..n-1 (as dld_dev_read_heads). */
void dld_dev_xfer_heads(const struct dld_io_dev *d, struct dld_dev_xfer *x, uint32_t n,
			void *buf);
/* Run x[0..n) at once: the deadline word stands from the first submit
 * to the last completion, each transfer is counted and timed as the
 * single calls are.  0 when all succeeded, else -1 with the errno of
 * the first that failed (x[i].rc says which). */
int dld_dev_batch(struct dld_io_dev *d, struct dld_dev_xfer *x, uint32_t n);

/* The device failed (logged once a reason), or works again. */
void dld_dev_fail(struct dld_io_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dld_dev_ok(struct dld_io_dev *d);

/* Buffers: the ring, and a write buffer of max(batch_tunable, one
 * largest datagram for each of peers) blocks, at most a ring. */
int dld_dev_alloc(struct dld_io_dev *d, uint32_t peers, uint32_t batch_tunable);
/* Grow the write buffer when peers were added: 0, or -1 (logged; the
 * old size stays). */
int dld_dev_resize(struct dld_io_dev *d, uint32_t peers);

/* The peer-path variant, on a volume v of the caller's (read-only). */
int dld_dev_path_open(struct dld_io_dev *d, struct dl_volume *v, const char *path,
		      enum dl_err *why);
int dld_dev_path_read_blocks(struct dld_io_dev *d, struct dl_volume *v, uint32_t slot,
			     uint32_t first, uint32_t n, void *buf);
/* A header that does not decode: -1 with *why set (no error counted). */
int dld_dev_path_read_slot(struct dld_io_dev *d, struct dl_volume *v, uint32_t slot,
			   struct dl_slot_hdr *h, enum dl_err *why);
int dld_dev_path_read_sb(struct dld_io_dev *d, struct dl_volume *v, struct dl_sb *sb,
			 enum dl_err *why);

#endif
