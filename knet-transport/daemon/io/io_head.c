/* The head area in the I/O child (doc/design.md, "Head area"): the
 * writer's head after each ring commit, and the readers' one read of the
 * area per poll, which tells for each peer whether its ring moved and
 * carries its newest blocks inline.  A head is a hint: whatever this file
 * cannot vouch for sends the reader to the ring, as without heads. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "head.h"
#include "le.h"

#include "io.h"

/* A peer's ring is read at least this often, whatever its head says: a
 * head write that failed or is late delays a datagram, never loses it. */
#define HEAD_RING_NS 250000000ull
#define INLINE_MAX 16u                 /* inline blocks taken per poll at most */

struct dld_io_heads {
	uint8_t *area;                 /* heads of slots 0 .. slot_count-1 */
	uint32_t n;                    /* heads read at this poll (0: none) */
	uint8_t *raw;                  /* INLINE_MAX blocks, rebuilt */
	uint8_t *own;                  /* our head, as written */
	bool own_written;              /* by this generation (else: at the
					* next poll, once our header is)    */
	uint64_t gen_first;            /* this generation's first seq, 0: unknown */
	struct dld_lograte fail_log;
};

void dld_io_heads_free(struct dld_io *io)
{
	if (!io->heads)
		return;
	free(io->heads->area);
	free(io->heads->raw);
	free(io->heads->own);
	free(io->heads);
	io->heads = NULL;
}

static struct dld_io_heads *heads_get(struct dld_io *io)
{
	const struct dl_sb *sb = &io->dev.vol.sb;
	struct dld_io_heads *hs;

	if (io->heads)
		return io->heads;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return NULL;
	io->heads = hs;
	hs->area = dl_bio_alloc((size_t)sb->slot_count * sb->head_bytes);
	hs->raw = dl_bio_alloc((size_t)INLINE_MAX * sb->block_size);
	hs->own = dl_bio_alloc(sb->head_bytes);
	if (!hs->area || !hs->raw || !hs->own) {
		log_err(DLD_SUB_IO, "out of memory for the head area: reading the rings");
		dld_io_heads_free(io);
		return NULL;
	}
	return hs;
}

/* The newest blocks of the commit in wbuf[0..blocks), INLINE_MAX at most,
 * oldest first, as decoded blocks (our own, just built: their header
 * fields are read, not checked again); dl_head_encode keeps the newest
 * of them that fit. */
static uint32_t newest_blocks(const struct dld_io *io, uint32_t blocks, struct dl_block *b)
{
	const struct dl_sb *sb = &io->dev.vol.sb;
	uint32_t k = blocks < INLINE_MAX ? blocks : INLINE_MAX;

	for (uint32_t i = 0; i < k; i++) {
		const uint8_t *p = io->dev.wbuf + (size_t)(blocks - k + i) * sb->block_size;

		b[i] = (struct dl_block){
			.payload = p + DL_BLOCK_HDR_SIZE,
			.payload_len = dl_get32(p + offsetof(struct dl_block_hdr_disk, payload_len)),
			.rec_count = dl_get32(p + offsetof(struct dl_block_hdr_disk, rec_count)),
		};
	}
	return k;
}

static void head_write(struct dld_io *io)
{
	struct dld_io_heads *hs = io->heads;

	hs->own_written = true;
	/* Readers fall back to the ring: no reason to fail the device. */
	if (dld_dev_write_head(&io->dev, io->slot, hs->own)) {
		if (dld_lograte_ok(&hs->fail_log, strerror(errno),
				   dl_clock_mono(io->dev.clock), 10000000000ull))
			log_warn(DLD_SUB_IO, "cannot write the head of slot %u: %s (peers "
				 "read the ring)", io->slot, strerror(errno));
	} else {
		dld_lograte_reset(&hs->fail_log);
	}
}

/* blocks 0: nothing committed yet in this generation (seq first - 1). */
void dld_io_head_commit(struct dld_io *io, uint64_t first, uint32_t blocks)
{
	struct dld_io_heads *hs = heads_get(io);
	const struct dl_sb *sb = &io->dev.vol.sb;
	struct dl_block b[INLINE_MAX];
	struct dl_head h = {
		.slot_index = io->slot, .node_id = io->cfg->node_id,
		.generation = io->w.generation, .seq = first + blocks - 1,
		.write_time_ns = dl_clock_real(io->dev.clock),
	};
	uint32_t k;

	if (!hs || blocks > io->dev.max_batch)
		return;
	if (!hs->gen_first)
		hs->gen_first = first;
	h.gen_blocks = first + blocks - hs->gen_first > UINT32_MAX ? UINT32_MAX :
		       (uint32_t)(first + blocks - hs->gen_first);
	memcpy(h.volume_uuid8, sb->uuid, 8);
	k = newest_blocks(io, blocks, b);
	if (dl_head_encode(hs->own, sb->head_bytes, &h, b, k, NULL) >= 0)
		head_write(io);
}

uint32_t dld_io_heads_want(struct dld_io *io, struct dld_dev_xfer *x)
{
	struct dld_io_heads *hs = heads_get(io);
	uint32_t n = 0;

	if (!hs)
		return 0;
	/* Our head at the start of a generation, after our header: readers
	 * that find nothing new need not read our ring. */
	if (!hs->own_written && io->hdr_written && io->w.generation)
		dld_io_head_commit(io, io->w.next_seq, 0);
	hs->n = 0;
	for (uint32_t i = 0; i < io->npeers; i++) {
		const struct dld_io_peer *p = &io->peers[i];

		/* Not for a peer in a burst (read on its ring) nor one to be
		 * resynchronised: no area read while every peer is busy. */
		if (!p->dev && p->reader_ok && p->slot >= 0 && !p->resync && p->ahead <= 1 &&
		    (uint32_t)p->slot + 1 > n)
			n = (uint32_t)p->slot + 1;
	}
	if (n)
		dld_dev_xfer_heads(&io->dev, x, n, hs->area);
	return n;
}

void dld_io_heads_got(struct dld_io *io, uint32_t n)
{
	if (io->heads)
		io->heads->n = n;
}

void dld_io_heads_read(struct dld_io *io)
{
	struct dld_dev_xfer x;
	uint32_t n = dld_io_heads_want(io, &x);

	if (n && dld_dev_batch(&io->dev, &x, 1) == 0)
		dld_io_heads_got(io, n);
}

/* The head of p's slot, when it speaks for the ring p reads now. */
static int head_of(struct dld_io *io, const struct dld_io_peer *p, struct dl_head *h)
{
	const struct dl_sb *sb = &io->dev.vol.sb;
	const uint8_t *buf = io->heads->area + (size_t)p->slot * sb->head_bytes;

	if (dl_head_decode(buf, sb->head_bytes, h, NULL))
		return -1;             /* empty, torn, invalid */
	/* Another slot's, volume's or node's; an older generation (a
	 * superseded incarnation's late head) or a newer one (the header
	 * says first, then the ring). */
	if (h->slot_index != (uint32_t)p->slot || memcmp(h->volume_uuid8, sb->uuid, 8) ||
	    h->node_id != p->node_id || h->generation != p->rd.min_generation)
		return -1;
	return 0;
}

/* How long a head may speak for p's ring: HEAD_RING_NS, and at most half
 * the reader's age budget, since only a ring read that finds nothing new
 * moves the origin of the age rules (io_read.c, read_aged) forward. */
static uint64_t ring_period_ns(const struct dld_io *io)
{
	uint64_t budget = dld_age_budget_ns(io->tun.max_age_ms);

	return budget && budget / 2 < HEAD_RING_NS ? budget / 2 : HEAD_RING_NS;
}

enum dld_head_use dld_io_head_use(struct dld_io *io, struct dld_io_peer *p, uint64_t now,
				  const uint8_t **blocks, uint32_t *n)
{
	const uint32_t bs = io->dev.vol.sb.block_size;
	struct dld_io_heads *hs = io->heads;
	uint64_t next = p->rd.next_seq;
	struct dl_head h;

	/* The last poll consumed blocks (p->ahead > 1): a burst may go on,
	 * read the ring as it lands rather than wait for the next head. */
	if (!hs || p->dev || p->slot < 0 || (uint32_t)p->slot >= hs->n || !p->rd.synced ||
	    p->ahead > 1 || now - p->head_ring_ns >= ring_period_ns(io) || head_of(io, p, &h))
		goto ring;
	/* Nothing new, or nothing of this generation yet: what the ring
	 * holds at next is an older generation's, never delivered. */
	if (h.seq < next || !h.gen_blocks)
		return DLD_HEAD_IDLE;
	if (!h.inline_count || next < h.inline_seq || h.seq - next >= INLINE_MAX)
		goto ring;
	for (uint64_t s = next; s <= h.seq; s++)
		if (dl_head_block_raw(&h, s, hs->raw + (size_t)(s - next) * bs, bs))
			goto ring;
	*blocks = hs->raw;
	*n = (uint32_t)(h.seq - next + 1);
	return DLD_HEAD_INLINE;
ring:
	p->head_ring_ns = now;
	return DLD_HEAD_RING;
}
