/* The poll's reads handed over together (doc/design.md, "I/O engine"):
 * the head area and, for each peer read from the main device while its
 * ring holds new data (p->ahead > 1: the head is not asked), the next
 * blocks of its ring, each into a buffer of its own.  With io_uring
 * that is one io_uring_enter per poll however many peers are busy; with
 * psync the same reads, one pread each.  poll_peer (io_read.c) then
 * takes its first read from here. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "io.h"

struct dld_io_pre_peer {
	uint8_t *buf;                  /* cap blocks, aligned               */
	uint32_t cap;
	uint32_t idx, n;               /* what was read                     */
	int rc, err;
	bool valid;                    /* read at this poll, not yet taken  */
};

struct dld_io_pre {
	struct dld_io_pre_peer peer[DLD_MAX_PEERS];
	struct dld_dev_xfer x[DLD_MAX_PEERS + 1];
	uint32_t who[DLD_MAX_PEERS + 1];   /* x[k] reads peer who[k]      */
	uint64_t start;                /* when the reads were handed over   */
};

void dld_io_prefetch_free(struct dld_io *io)
{
	if (!io->pre)
		return;
	for (uint32_t i = 0; i < DLD_MAX_PEERS; i++)
		free(io->pre->peer[i].buf);
	free(io->pre);
	io->pre = NULL;
}

/* A peer whose first read of this poll is its ring's next blocks. */
static bool busy(const struct dld_io_peer *p)
{
	return p->reader_ok && p->slot >= 0 && !p->dev && !p->resync && p->ahead > 1;
}

/* p's buffer for n blocks: NULL when out of memory (p is then read as
 * without this file). */
static uint8_t *buf_for(struct dld_io *io, struct dld_io_pre_peer *pp, uint32_t n)
{
	uint8_t *b;

	if (pp->cap >= n)
		return pp->buf;
	b = dl_bio_alloc((size_t)n * io->dev.vol.sb.block_size);
	if (!b)
		return NULL;
	free(pp->buf);
	pp->buf = b;
	pp->cap = n;
	return b;
}

/* The busy peers' reads after the area's (x[0..*nx)). */
static void plan_rings(struct dld_io *io, struct dld_io_pre *pre, uint32_t *nx)
{
	for (uint32_t i = 0; i < io->npeers; i++) {
		struct dld_io_peer *p = &io->peers[i];
		struct dld_io_pre_peer *pp = &pre->peer[i];
		uint32_t R, idx, n;
		uint8_t *b;

		pp->valid = false;
		if (!busy(p))
			continue;
		R = p->rd.ring_blocks;
		idx = dl_reader_next_index(&p->rd);
		n = p->ahead < R - idx ? p->ahead : R - idx;
		b = buf_for(io, pp, n);
		if (!b)
			continue;
		dld_dev_xfer_blocks(&io->dev, &pre->x[*nx], false, (uint32_t)p->slot, idx, n, b);
		pp->idx = idx;
		pp->n = n;
		pre->who[(*nx)++] = i;
	}
}

void dld_io_prefetch(struct dld_io *io)
{
	struct dld_io_pre *pre = io->pre ? io->pre : calloc(1, sizeof(*pre));
	uint32_t heads, nx;

	if (!pre) {                    /* each read on its own, as before */
		dld_io_heads_read(io);
		return;
	}
	io->pre = pre;
	heads = dld_io_heads_want(io, &pre->x[0]);
	nx = heads ? 1 : 0;
	plan_rings(io, pre, &nx);
	if (!nx)
		return;
	pre->start = dl_clock_mono(io->dev.clock);
	dld_dev_batch(&io->dev, pre->x, nx);
	if (heads && pre->x[0].rc == 0)
		dld_io_heads_got(io, heads);
	for (uint32_t k = heads ? 1 : 0; k < nx; k++) {
		struct dld_io_pre_peer *pp = &pre->peer[pre->who[k]];

		pp->rc = pre->x[k].rc;
		pp->err = pre->x[k].err;
		pp->valid = true;
	}
}

const uint8_t *dld_io_prefetched(struct dld_io *io, const struct dld_io_peer *p,
				 uint32_t idx, uint32_t n, int *rc, uint64_t *start)
{
	struct dld_io_pre_peer *pp;

	if (!io->pre || p < io->peers || p >= io->peers + io->npeers)
		return NULL;
	pp = &io->pre->peer[p - io->peers];
	if (!pp->valid || pp->idx != idx || pp->n != n)
		return NULL;
	pp->valid = false;
	*rc = pp->rc;
	*start = io->pre->start;
	errno = pp->err;
	return pp->buf;
}
