/* The I/O child's writer: drain the tx queue into the ring.  Group
 * commit: whatever is queued is written at once; what arrives while a
 * write is in flight goes into the next batch.  Byte-identical
 * consecutive datagrams (knet sends one buffer to every destination of a
 * broadcast) become one record with a destination set. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <qb/qblog.h>

#include "io.h"

#define MAX_ROUNDS 4                   /* batches before peers get a turn */

static bool dst_overlap(const struct dl_dgram *d, const uint16_t *dst, uint16_t n)
{
	for (uint32_t i = 0; i < d->dst_count; i++)
		for (uint16_t j = 0; j < n; j++)
			if (d->dst[i] == dst[j])
				return true;
	return false;
}

/* Collect queued datagrams from the tail; returns how many entries. */
static uint32_t collect(struct dld_io *io)
{
	struct dld_q *q = io->ch->tx;
	uint64_t pos = dld_q_tail(q);
	struct dld_qmsg m;
	uint32_t n = 0;

	while (n < io->dg_cap && dld_q_read(q, &pos, &m)) {
		struct dl_dgram *prev = n ? &io->dg[n - 1] : NULL;

		if (m.ndst == 0 || m.ndst > DL_DEST_MAX || m.len == 0 || m.len > DL_DGRAM_MAX) {
			io->st.io.write_drops++;
			if (n)
				io->dg_end[n - 1] = pos;
			else
				dld_q_release(q, pos);
			continue;
		}
		if (prev && prev->len == m.len && prev->dst_count + m.ndst <= DL_DEST_MAX &&
		    !dst_overlap(prev, m.dst, m.ndst) && !memcmp(prev->data, m.data, m.len)) {
			memcpy(io->dst[n - 1] + prev->dst_count, m.dst, (size_t)m.ndst * 2u);
			prev->dst_count += m.ndst;
			io->dg_end[n - 1] = pos;
			io->st.io.coalesced += m.ndst;
			continue;
		}
		memcpy(io->dst[n], m.dst, (size_t)m.ndst * 2u);
		io->dg[n] = (struct dl_dgram){
			.dst = io->dst[n], .dst_count = m.ndst, .data = m.data, .len = m.len,
		};
		io->dg_end[n] = pos;
		n++;
	}
	return n;
}

/* Blocks wbuf[0..blocks) hold sequences first.. : write them at their
 * ring indexes, split at the end of the ring. */
static int write_ring(struct dld_io *io, uint64_t first, uint32_t blocks)
{
	uint32_t R = io->vol.sb.ring_blocks, idx = (uint32_t)(first % R);
	uint32_t n1 = blocks < R - idx ? blocks : R - idx;

	if (dld_io_write_blocks(io, idx, n1, io->wbuf))
		return -1;
	if (blocks > n1 &&
	    dld_io_write_blocks(io, 0, blocks - n1, io->wbuf + (size_t)n1 * io->vol.sb.block_size))
		return -1;
	return 0;
}

static void write_batch(struct dld_io *io, uint32_t n)
{
	size_t off = 0;

	while (off < n) {
		uint64_t first = io->w.next_seq;
		uint32_t blocks = 0;
		size_t done = 0;

		if (dl_writer_pack(&io->w, io->dg + off, n - off, &done, io->wbuf, io->max_batch,
				   &blocks, dld_real_ns())) {
			qb_log(LOG_DEBUG, "io: dropping a datagram of %u bytes: %s",
			       io->dg[off].len, strerror(errno));
			io->st.io.write_drops++;
			off++;
			continue;
		}
		if (write_ring(io, first, blocks)) {
			/* Lost like UDP; the sequence numbers are reused so readers
			 * see no gap. */
			io->w.next_seq = first;
			io->st.io.write_drops += done;
			dld_io_fail(io, "cannot write to %s: %s", io->device, strerror(errno));
		} else {
			io->st.io.dgrams_written += done;
			io->st.io.blocks_written += blocks;
		}
		off += done;
	}
}

void dld_io_drain_tx(struct dld_io *io)
{
	for (int round = 0; round < MAX_ROUNDS; round++) {
		uint32_t n = collect(io);

		if (!n)
			return;
		write_batch(io, n);
		dld_q_release(io->ch->tx, io->dg_end[n - 1]);
	}
}
