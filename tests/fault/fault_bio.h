/* A fault-injecting block I/O for tests: it stands for a FAILING DISK.
 *
 * struct fault_bio holds its own dl_bio_ops table, which wraps a real
 * implementation (dl_bio_direct_ops by default) and, following a plan
 * that may be changed at any time, injects:
 *   - EIO on reads or writes, after N operations and/or with a
 *     probability drawn from a seeded PRNG (reproducible);
 *   - short writes: only the first sectors are written, and EIO is
 *     reported, as the real ops do for a short transfer;
 *   - torn writes: only the first K sectors (or the last K) of a
 *     multi-sector write reach the medium, and the write then fails with
 *     EIO or reports success (a device that lies, or a crash the writer
 *     did not live to see);
 *   - delays (nanosleep) before each operation.
 * Operations can be limited to a byte range of the device (a window), so
 * that a fault hits ring blocks but not slot headers, or the reverse.
 *
 * It does not emulate a HUNG device: a request stuck in uninterruptible
 * sleep is tested with a FUSE-backed loop device elsewhere.
 *
 * No globals: the ops table is embedded in struct fault_bio, and its open
 * finds the plan from bio->ops.  Usage:
 *     struct fault_bio fb;
 *     fault_bio_init(&fb, NULL);
 *     dl_volume_open(&v, path, fault_bio_ops(&fb), NULL, &why);
 *     fault_bio_set_plan(&fb, &(struct fault_plan){ ... });
 * One struct fault_bio serves one open device at a time.  Its submit
 * decides and performs the transfer through the real ops, and completes
 * the request before it returns (bio.h). */
#ifndef DL_FAULT_BIO_H
#define DL_FAULT_BIO_H

#include <stdbool.h>
#include <stdint.h>

#include "bio.h"

enum fault_kind {
	FAULT_NONE = 0,
	FAULT_EIO,            /* nothing transferred, EIO                     */
	FAULT_SHORT,          /* first `sectors` sectors transferred, EIO     */
	FAULT_TORN,           /* first (or last) `sectors` sectors land; then
			       * EIO, or success when torn_success is set    */
};

/* When a rule fires: for the operations of its direction that touch the
 * window, after `after` unaffected ones; then for `count` operations
 * (0: every one after that).  With ppm > 0, each operation past `after`
 * is hit with probability ppm / 1e6 instead (count still limits the hits). */
struct fault_rule {
	enum fault_kind kind;
	uint64_t after;
	uint64_t count;
	uint32_t ppm;
	uint32_t sectors;     /* SHORT/TORN: sectors that land (clamped to len-1) */
	bool     torn_tail;   /* TORN: the LAST `sectors` land, not the first */
	bool     torn_success;/* TORN: report success                         */
};

struct fault_plan {
	uint64_t seed;                  /* PRNG seed (0 picks a fixed one)    */
	struct fault_rule read;         /* FAULT_EIO or FAULT_SHORT           */
	struct fault_rule write;
	uint64_t read_delay_ns;
	uint64_t write_delay_ns;
	uint64_t window_off;            /* operations overlapping            */
	uint64_t window_len;            /* [off, off+len); len 0: all        */
};

struct fault_stats {
	uint64_t reads, writes;                   /* operations seen          */
	uint64_t read_faults, write_faults;       /* faults injected          */
	uint64_t torn, short_writes;
	uint64_t sectors_dropped;                 /* sectors not written      */
};

struct fault_bio {
	struct dl_bio_ops ops;          /* handed to dl_bio_open / dl_volume_open */
	const struct dl_bio_ops *real;
	struct fault_plan plan;
	struct fault_stats st;
	uint64_t rng;
	uint64_t read_seen, write_seen; /* window operations since the plan */
	uint64_t read_hits, write_hits;
};

/* Wrap real (NULL: dl_bio_direct_ops), with no faults planned. */
void fault_bio_init(struct fault_bio *fb, const struct dl_bio_ops *real);

/* The ops table to open a device with. */
static inline const struct dl_bio_ops *fault_bio_ops(struct fault_bio *fb)
{
	return &fb->ops;
}

/* Replace the plan: counters of the rules restart, the PRNG is reseeded;
 * the statistics are kept. */
void fault_bio_set_plan(struct fault_bio *fb, const struct fault_plan *plan);

/* Back to a healthy disk. */
void fault_bio_clear(struct fault_bio *fb);

#endif
