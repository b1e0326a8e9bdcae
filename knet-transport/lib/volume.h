/* A disklink volume on a block device: open and validate, format, slot
 * headers (read both copies, write alternately), claim and release of
 * slots by node id, and ring block transfers. */
#ifndef DL_VOLUME_H
#define DL_VOLUME_H

#include <stdint.h>

#include "bio.h"
#include "fmt_error.h"
#include "slot_header.h"
#include "superblock.h"

struct dl_volume {
	struct dl_bio bio;
	struct dl_sb  sb;
	uint8_t      *region;          /* 2 * region_bytes scratch, aligned */
};

/* Open a device and validate its superblock against the device (sector
 * size, size).  -1 with errno and *why (DL_OK when the failure was the
 * device itself: errno then says what, e.g. ENOENT, EACCES). */
int dl_volume_open(struct dl_volume *v, const char *path, const struct dl_bio_ops *ops,
		   const struct dl_bio_opts *opts, enum dl_err *why);
void dl_volume_close(struct dl_volume *v);

/* Write a new volume described by sb on an open device: superblock, free
 * slot headers, zeroed rings.  The device must be large enough and its
 * sector size must divide the block size. */
int dl_volume_format(struct dl_bio *bio, const struct dl_sb *sb, enum dl_err *why);

/* Read a slot's header (newest valid copy).  -1 when neither copy is
 * valid (errno EBADMSG/EINVAL/EMEDIUMTYPE, *why the first copy's reason,
 * else the second's) or on an I/O error (*why DL_OK, errno from the read). */
int dl_volume_read_slot(struct dl_volume *v, uint32_t slot, struct dl_slot_hdr *h,
			enum dl_err *why);

/* The same, saying what was wrong with each copy: 0 with *h the newest
 * valid copy, *why_a and *why_b DL_OK for a valid copy, else its reason
 * (also when the call fails); both DL_OK after an I/O error.  why_a and
 * why_b may be NULL. */
int dl_volume_read_slot_copies(struct dl_volume *v, uint32_t slot, struct dl_slot_hdr *h,
			       enum dl_err *why_a, enum dl_err *why_b);

/* Write a slot header: hdr_seq is advanced and the copy it selects is
 * written, so the other copy stays intact if this write tears. */
int dl_volume_write_slot(struct dl_volume *v, struct dl_slot_hdr *h);

/* Read slot `slot`'s header into *h for dl_slot_find_owner: 0 when read,
 * 1 when unreadable or invalid (the slot is skipped), -1 with errno to
 * stop the search. */
typedef int (*dl_slot_read_fn)(void *arg, uint32_t slot, struct dl_slot_hdr *h);

/* The slot claimed by node_id (not free, owned by node_id) among slots
 * 0 .. slot_count - 1 in order, headers read through read_fn(arg, ...): 0
 * with *slot and *h, -1/ENOENT when none is, or -1 with read_fn's errno when
 * it stopped the search. */
int dl_slot_find_owner(uint32_t slot_count, uint32_t node_id, dl_slot_read_fn read_fn,
		       void *arg, uint32_t *slot, struct dl_slot_hdr *h);

/* Find the slot claimed by node_id: 0 with the slot and its header, or -1/ENOENT. */
int dl_volume_find_node(struct dl_volume *v, uint32_t node_id, uint32_t *slot,
			struct dl_slot_hdr *h);

/* Claim a slot for node_id (its own if it has one, else a free one,
 * searched from (node_id - 1) % slot_count so that small ids rarely
 * race), and write it as stopped-and-owned.  -1/ENOSPC when no slot is
 * free; after writing, the claim is read back at once and a lost race is
 * retried.  For a tool or a test: two claimers whose writes overlap in
 * time can both read themselves back (a daemon uses the two steps below
 * with a wait between them). */
int dl_volume_claim(struct dl_volume *v, uint32_t node_id, const char *node_name,
		    uint32_t *slot, struct dl_slot_hdr *h);

/* A claim in two steps (delta-lease style, doc/format.md "Slot claim"):
 * the intent writes the first free slot (searched as above) as
 * stopped-and-owned by node_id, or finds node_id's own slot (*owned = 1,
 * nothing written, nothing to confirm); -1/ENOSPC when no slot is free.
 * After a wait longer than any claim write still in flight, the confirm
 * reads the slot back: 0 when it is still node_id's, -1/EBUSY when
 * another claim landed over it (the race is lost: claim again). */
int dl_volume_claim_intent(struct dl_volume *v, uint32_t node_id, const char *node_name,
			   uint32_t *slot, struct dl_slot_hdr *h, int *owned);
int dl_volume_claim_confirm(struct dl_volume *v, uint32_t slot, uint32_t node_id,
			    struct dl_slot_hdr *h);

/* Release a slot: it becomes free, keeping its generation and sequence
 * so the next owner's blocks still move forward. */
int dl_volume_release(struct dl_volume *v, uint32_t slot);

/* Ring blocks [first, first + n) of a slot, n > 0, first + n <= ring_blocks. */
int dl_volume_read_blocks(struct dl_volume *v, uint32_t slot, uint32_t first,
			  uint32_t n, void *buf);
int dl_volume_write_blocks(struct dl_volume *v, uint32_t slot, uint32_t first,
			   uint32_t n, const void *buf);

#endif
