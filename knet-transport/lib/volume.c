/* Volume access. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dl_clock.h"
#include "volume.h"

int dl_volume_open(struct dl_volume *v, const char *path, const struct dl_bio_ops *ops,
		   const struct dl_bio_opts *opts, enum dl_err *why)
{
	uint8_t *buf;
	int err;

	memset(v, 0, sizeof(*v));
	if (why)
		*why = DL_OK;
	if (dl_bio_open(&v->bio, ops, path, opts))
		return -1;
	if (v->bio.size < DL_REGION_MIN) {
		dl_bio_close(&v->bio);
		return dl_fail(why, DL_E_TRUNCATED, ENOSPC);
	}
	buf = dl_bio_alloc(DL_REGION_MIN);
	if (!buf)
		goto fail_errno;
	if (dl_bio_read(&v->bio, buf, DL_REGION_MIN, 0)) {
		free(buf);
		goto fail_errno;
	}
	if (dl_sb_decode(buf, DL_REGION_MIN, &v->sb, why)) {
		err = errno;
		free(buf);
		dl_bio_close(&v->bio);
		errno = err;
		return -1;
	}
	free(buf);
	if (v->sb.block_size % v->bio.sector_size) {
		dl_bio_close(&v->bio);
		return dl_fail(why, DL_E_SECTOR, EINVAL);
	}
	if (v->sb.volume_bytes > v->bio.size) {
		dl_bio_close(&v->bio);
		return dl_fail(why, DL_E_TRUNCATED, ENOSPC);
	}
	v->region = dl_bio_alloc(2u * v->sb.region_bytes);
	if (!v->region)
		goto fail_errno;
	return 0;
fail_errno:
	err = errno;
	dl_bio_close(&v->bio);
	errno = err;
	return -1;
}

void dl_volume_close(struct dl_volume *v)
{
	free(v->region);
	v->region = NULL;
	dl_bio_close(&v->bio);
}

#define ZERO_CHUNK (1u << 20)

/* Write len zero bytes at off through buf (ZERO_CHUNK bytes). */
static int zero_extent(struct dl_bio *bio, uint8_t *buf, uint64_t off, uint64_t left)
{
	memset(buf, 0, ZERO_CHUNK);
	while (left) {
		size_t n = left < ZERO_CHUNK ? (size_t)left : ZERO_CHUNK;

		if (dl_bio_write(bio, buf, n, off))
			return -1;
		off += n;
		left -= n;
	}
	return 0;
}

int dl_volume_format(struct dl_bio *bio, const struct dl_sb *sb, enum dl_err *why)
{
	uint8_t *buf;
	int rc = -1, err = 0;

	if (why)
		*why = DL_OK;
	if (sb->block_size % bio->sector_size)
		return dl_fail(why, DL_E_SECTOR, EINVAL);
	if (sb->volume_bytes > bio->size)
		return dl_fail(why, DL_E_TRUNCATED, ENOSPC);
	buf = dl_bio_alloc(ZERO_CHUNK);
	if (!buf)
		return -1;
	/* The head area (empty: no head yet), rings, then slot headers, the
	 * superblock last: a format that fails half-way never leaves a valid
	 * superblock over a bad layout. */
	if (zero_extent(bio, buf, sb->heads_offset, sb->slots_offset - sb->heads_offset))
		goto out;
	for (uint32_t s = 0; s < sb->slot_count; s++) {
		if (zero_extent(bio, buf, dl_sb_block_offset(sb, s, 0),
				(uint64_t)sb->ring_blocks * sb->block_size))
			goto out;
		for (unsigned copy = 0; copy < 2; copy++) {
			struct dl_slot_hdr h;

			dl_slot_hdr_init_free(&h, sb->uuid, s, copy);
			memset(buf, 0, sb->region_bytes);
			if (dl_slot_hdr_encode(&h, buf, sb->region_bytes, why))
				goto out;
			if (dl_bio_write(bio, buf, sb->region_bytes, dl_sb_hdr_offset(sb, s, copy)))
				goto out;
		}
	}
	memset(buf, 0, sb->region_bytes);
	if (dl_sb_encode(sb, buf, sb->region_bytes))
		goto out;
	if (dl_bio_write(bio, buf, sb->region_bytes, 0))
		goto out;
	rc = 0;
out:
	err = errno;
	free(buf);
	errno = err;
	return rc;
}

int dl_volume_read_slot_copies(struct dl_volume *v, uint32_t slot, struct dl_slot_hdr *h,
			       enum dl_err *why_a, enum dl_err *why_b)
{
	enum dl_err ea = DL_OK, eb = DL_OK;
	uint32_t rb = v->sb.region_bytes;
	int rc;

	if (why_a)
		*why_a = DL_OK;
	if (why_b)
		*why_b = DL_OK;
	if (slot >= v->sb.slot_count) {
		errno = EINVAL;
		return -1;
	}
	if (dl_bio_read(&v->bio, v->region, 2u * rb, dl_sb_hdr_offset(&v->sb, slot, 0)))
		return -1;
	rc = dl_slot_hdr_pick(v->region, v->region + rb, rb, v->sb.uuid, slot, h, &ea, &eb);
	if (why_a)
		*why_a = ea;
	if (why_b)
		*why_b = eb;
	return rc;
}

int dl_volume_read_slot(struct dl_volume *v, uint32_t slot, struct dl_slot_hdr *h,
			enum dl_err *why)
{
	enum dl_err ea, eb;

	if (why)
		*why = DL_OK;
	if (dl_volume_read_slot_copies(v, slot, h, &ea, &eb)) {
		if (why)
			*why = ea != DL_OK ? ea : eb;
		return -1;
	}
	return 0;
}

int dl_volume_write_slot(struct dl_volume *v, struct dl_slot_hdr *h)
{
	uint32_t rb = v->sb.region_bytes;

	h->hdr_seq++;
	h->update_time_ns = dl_clock_real(v->bio.clock);
	memset(v->region, 0, rb);
	if (dl_slot_hdr_encode(h, v->region, rb, NULL))
		return -1;
	return dl_bio_write(&v->bio, v->region, rb,
			    dl_sb_hdr_offset(&v->sb, h->slot_index, (unsigned)(h->hdr_seq & 1u)));
}

int dl_slot_find_owner(uint32_t slot_count, uint32_t node_id, dl_slot_read_fn read_fn,
		       void *arg, uint32_t *slot, struct dl_slot_hdr *h)
{
	for (uint32_t s = 0; s < slot_count; s++) {
		int r = read_fn(arg, s, h);

		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (h->state != DL_SLOT_FREE && h->node_id == node_id) {
			*slot = s;
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

/* dl_slot_read_fn over a volume: an unreadable or invalid slot is skipped. */
static int volume_slot_read(void *arg, uint32_t slot, struct dl_slot_hdr *h)
{
	return dl_volume_read_slot(arg, slot, h, NULL) ? 1 : 0;
}

int dl_volume_find_node(struct dl_volume *v, uint32_t node_id, uint32_t *slot,
			struct dl_slot_hdr *h)
{
	return dl_slot_find_owner(v->sb.slot_count, node_id, volume_slot_read, v, slot, h);
}

int dl_volume_claim_intent(struct dl_volume *v, uint32_t node_id, const char *node_name,
			   uint32_t *slot, struct dl_slot_hdr *h, int *owned)
{
	const uint32_t n = v->sb.slot_count;

	*owned = 0;
	if (node_id == 0 || node_id > DL_NODE_ID_MAX || !node_name ||
	    strlen(node_name) >= DL_NODE_NAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (dl_volume_find_node(v, node_id, slot, h) == 0) {
		*owned = 1;
		return 0;
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t s = (node_id - 1 + k) % n;

		if (dl_volume_read_slot(v, s, h, NULL) || h->state != DL_SLOT_FREE)
			continue;
		h->node_id = node_id;
		h->state = DL_SLOT_STOPPED;
		h->role = DL_ROLE_NONE;
		h->ack_count = 0;
		memset(h->node_name, 0, sizeof(h->node_name));
		strcpy(h->node_name, node_name);
		if (dl_volume_write_slot(v, h))
			return -1;
		*slot = s;
		return 0;
	}
	errno = ENOSPC;
	return -1;
}

int dl_volume_claim_confirm(struct dl_volume *v, uint32_t slot, uint32_t node_id,
			    struct dl_slot_hdr *h)
{
	if (dl_volume_read_slot(v, slot, h, NULL))
		return -1;
	if (h->node_id != node_id || h->state == DL_SLOT_FREE) {
		errno = EBUSY;
		return -1;
	}
	return 0;
}

int dl_volume_claim(struct dl_volume *v, uint32_t node_id, const char *node_name,
		    uint32_t *slot, struct dl_slot_hdr *h)
{
	for (uint32_t k = 0; k < v->sb.slot_count; k++) {
		int owned;

		if (dl_volume_claim_intent(v, node_id, node_name, slot, h, &owned))
			return -1;
		if (owned || dl_volume_claim_confirm(v, *slot, node_id, h) == 0)
			return 0;
		if (errno != EBUSY)
			return -1;
	}
	errno = ENOSPC;
	return -1;
}

int dl_volume_release(struct dl_volume *v, uint32_t slot)
{
	struct dl_slot_hdr h;

	if (dl_volume_read_slot(v, slot, &h, NULL))
		return -1;
	h.node_id = 0;
	h.state = DL_SLOT_FREE;
	h.role = DL_ROLE_NONE;
	h.ack_count = 0;
	memset(h.node_name, 0, sizeof(h.node_name));
	return dl_volume_write_slot(v, &h);
}

static int blocks_check(const struct dl_volume *v, uint32_t slot, uint32_t first, uint32_t n)
{
	if (slot >= v->sb.slot_count || n == 0 || first >= v->sb.ring_blocks ||
	    n > v->sb.ring_blocks - first) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int dl_volume_read_blocks(struct dl_volume *v, uint32_t slot, uint32_t first,
			  uint32_t n, void *buf)
{
	if (blocks_check(v, slot, first, n))
		return -1;
	return dl_bio_read(&v->bio, buf, (size_t)n * v->sb.block_size,
			   dl_sb_block_offset(&v->sb, slot, first));
}

int dl_volume_write_blocks(struct dl_volume *v, uint32_t slot, uint32_t first,
			   uint32_t n, const void *buf)
{
	if (blocks_check(v, slot, first, n))
		return -1;
	return dl_bio_write(&v->bio, buf, (size_t)n * v->sb.block_size,
			    dl_sb_block_offset(&v->sb, slot, first));
}
