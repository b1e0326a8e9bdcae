/* The I/O child's writer: drain the tx queue into the ring.  Group
 * commit: whatever is queued is written at once; what arrives while a
 * write is in flight goes into the next batch.  Byte-identical
 * consecutive datagrams (knet sends one buffer to every destination of a
 * broadcast) become one record with a destination set. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

#define MAX_ROUNDS 4                   /* batches before peers get a turn */
#define BATCH_ENTRIES 256              /* queue entries packed at most at once */

int dld_io_batch_alloc(struct dld_io *io)
{
	io->dg_cap = BATCH_ENTRIES;
	io->dg = calloc(io->dg_cap, sizeof(*io->dg));
	io->dst = calloc(io->dg_cap, sizeof(*io->dst));
	io->dg_end = calloc(io->dg_cap, sizeof(*io->dg_end));
	io->dg_t = calloc(io->dg_cap, sizeof(*io->dg_t));
	if (!io->dg || !io->dst || !io->dg_end || !io->dg_t) {
		log_err(DLD_SUB_IO, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void dld_io_batch_free(struct dld_io *io)
{
	free(io->dg);
	free(io->dst);
	free(io->dg_end);
	free(io->dg_t);
	io->dg_t = NULL;
	io->dg = NULL;
	io->dst = NULL;
	io->dg_end = NULL;
}

static bool dst_overlap(const struct dl_dgram *d, const uint16_t *dst, uint16_t n)
{
	for (uint32_t i = 0; i < d->dst_count; i++)
		for (uint16_t j = 0; j < n; j++)
			if (d->dst[i] == dst[j])
				return true;
	return false;
}

/* The writer's side of the age budget (half of max_age, shm_queue.h). */
static uint64_t budget_ns(const struct dld_io *io)
{
	return dld_age_budget_ns(io->tun.max_age_ms);
}

/* Age rule of the writer: a datagram queued longer than its budget (its
 * stamp against this child's clock, the parent's clock domain) is
 * dropped, counted. */
static bool queued_too_long(struct dld_io *io, const struct dld_qmsg *m, uint64_t now)
{
	if (!dld_q_too_old(m, budget_ns(io), now))
		return false;
	io->st.io.aged_queued++;
	return true;
}

/* Collect queued datagrams from the tail; returns how many entries. */
static uint32_t collect(struct dld_io *io)
{
	struct dld_q *q = io->ch->tx;
	uint64_t pos = dld_q_tail(q), now = dl_clock_mono(io->dev.clock);
	struct dld_qmsg m;
	uint32_t n = 0;

	while (n < io->dg_cap && dld_q_read(q, &pos, &m)) {
		struct dl_dgram *prev = n ? &io->dg[n - 1] : NULL;
		bool bad = m.ndst == 0 || m.ndst > DL_DEST_MAX || m.len == 0 ||
			   m.len > DL_DGRAM_MAX;

		if (bad || queued_too_long(io, &m, now)) {
			io->st.io.write_drops += bad;
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
			if (m.t_ns < io->dg_t[n - 1])
				io->dg_t[n - 1] = m.t_ns;
			io->st.io.coalesced += m.ndst;
			continue;
		}
		memcpy(io->dst[n], m.dst, (size_t)m.ndst * 2u);
		io->dg[n] = (struct dl_dgram){
			.dst = io->dst[n], .dst_count = m.ndst, .data = m.data, .len = m.len,
		};
		io->dg_end[n] = pos;
		io->dg_t[n] = m.t_ns;
		n++;
	}
	return n;
}

/* Blocks wbuf[0..blocks) hold sequences first.. : write them at their
 * ring indexes, split at the end of the ring (both parts handed over
 * together); *ok: the blocks written before a failure. */
static int write_ring(struct dld_io *io, uint64_t first, uint32_t blocks, uint32_t *ok)
{
	struct dld_io_dev *d = &io->dev;
	uint32_t R = d->vol.sb.ring_blocks, idx = (uint32_t)(first % R);
	uint32_t n1 = blocks < R - idx ? blocks : R - idx;
	struct dld_dev_xfer x[2];
	uint32_t nx = blocks > n1 ? 2 : 1;

	dld_dev_xfer_blocks(d, &x[0], true, io->slot, idx, n1, d->wbuf);
	if (nx == 2)
		dld_dev_xfer_blocks(d, &x[1], true, io->slot, 0, blocks - n1,
				    d->wbuf + (size_t)n1 * d->vol.sb.block_size);
	if (dld_dev_batch(d, x, nx) == 0) {
		*ok = blocks;
		return 0;
	}
	*ok = x[0].rc ? 0 : n1;
	return -1;
}

/* A write failed: its sequence numbers are never reused (a reader may
 * have read part of it while it landed); they are voided, empty blocks
 * written over them before the next data, so readers move on at once.
 * More than a lap: only the last lap's indexes matter. */
static void void_failed(struct dld_io *io, uint64_t first)
{
	uint64_t n;

	if (!io->void_n)
		io->void_first = first;
	n = io->w.next_seq - io->void_first;
	if (n > io->w.ring_blocks) {
		io->void_first = io->w.next_seq - io->w.ring_blocks;
		n = io->w.ring_blocks;
	}
	io->void_n = (uint32_t)n;
}

/* Write the void blocks; kept for the next try when the device fails. */
static void write_void(struct dld_io *io)
{
	while (io->void_n) {
		uint32_t n = io->void_n < io->dev.max_batch ? io->void_n : io->dev.max_batch, ok;

		dl_writer_void(&io->w, io->void_first, n, io->dev.wbuf,
			       dl_clock_real(io->dev.clock));
		if (write_ring(io, io->void_first, n, &ok)) {
			io->void_first += ok;
			io->void_n -= ok;
			return;
		}
		io->void_first += n;
		io->void_n -= n;
	}
}

/* The oldest enqueue time of entries [off, off + done). */
static uint64_t oldest(const struct dld_io *io, size_t off, size_t done)
{
	uint64_t t = UINT64_MAX;

	for (size_t i = off; i < off + done; i++)
		if (io->dg_t[i] < t)
			t = io->dg_t[i];
	return t;
}

static void write_batch(struct dld_io *io, uint32_t n)
{
	size_t off = 0;

	while (off < n) {
		uint64_t first;
		uint32_t blocks = 0, ok;
		size_t done = 0;

		if (io->void_n)
			write_void(io);
		first = io->w.next_seq;
		if (dl_writer_pack(&io->w, io->dg + off, n - off, &done, io->dev.wbuf,
				   io->dev.max_batch, &blocks, dl_clock_real(io->dev.clock))) {
			log_debug(DLD_SUB_IO, "dropping a datagram of %u bytes: %s",
				  io->dg[off].len, strerror(errno));
			io->st.io.write_drops++;
			off++;
			continue;
		}
		if (write_ring(io, first, blocks, &ok)) {
			/* Lost like UDP, counted; the sequence numbers of the
			 * part that failed are voided. */
			void_failed(io, first + ok);
			io->st.io.write_drops += done;
			dld_dev_fail(&io->dev, "cannot write to %s: %s", io->device,
				     strerror(errno));
		} else if (budget_ns(io) && dld_q_age(oldest(io, off, done),
					       dl_clock_mono(io->dev.clock)) > budget_ns(io)) {
			/* Age rule: it landed too late (queued and written in
			 * more than the writer's budget).  A later marker, the
			 * void blocks written at once, takes it back from the
			 * readers that have not read it yet. */
			void_failed(io, first);
			io->st.io.aged_late += done;
			write_void(io);
		} else {
			io->st.io.dgrams_written += done;
			io->st.io.blocks_written += blocks;
			dld_io_head_commit(io, first, blocks);
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
