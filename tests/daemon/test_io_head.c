/* The head area in the I/O child (io_head.c), on a volume in a temporary
 * file under a FAKE clock: the writer's head once its header is written
 * and after each commit (its newest
 * blocks inline, none when they do not fit), and what a reader makes of
 * a peer's head: nothing new (no ring read), the new blocks inline (fed
 * to the ring reader as the ring blocks they are), or the ring: a torn,
 * empty or foreign head, another node's, an older or newer generation
 * than the slot header's, a reader further behind than the head holds,
 * a peer read through its own device, a peer whose last poll consumed
 * blocks (a burst), and every 250 ms whatever the head says.  And the
 * poll's reads handed over together (io_prefetch.c): the area for the
 * quiet peers, the next ring blocks of a busy one, taken once. */
#include "../unit/test_util.h"

#include "head.h"
#include "volume.h"

#include "io.h"

#define R  64u
#define MS 1000000ull

/* A fake clock: it stands for CLOCK_MONOTONIC and CLOCK_REALTIME, and
 * moves only when the test moves it. */
struct fake_clock {
	uint64_t mono, real;
};

static uint64_t fake_mono(void *arg)
{
	return ((struct fake_clock *)arg)->mono;
}

static uint64_t fake_real(void *arg)
{
	return ((struct fake_clock *)arg)->real;
}

struct env {
	uint32_t bs;
	char path[64];
	struct fake_clock clk;
	struct dl_clock clock;
	_Atomic uint64_t deadline[2];
	struct dld_status st[2];
	struct dld_config cfg[2];
	struct dld_io *w, *r;          /* node 2 writes slot 1; node 1 reads */
	uint32_t delivered;
};

static void io_open(struct env *e, int k, struct dld_io *io, uint32_t node, uint32_t slot)
{
	enum dl_err why;

	e->cfg[k].node_id = node;
	io->cfg = &e->cfg[k];
	io->slot = slot;
	dld_dev_init(&io->dev, &e->clock, NULL, &e->deadline[k], &e->st[k]);
	assert_int_equal(dld_dev_open(&io->dev, e->path, false, &why), 0);
	assert_int_equal(dld_dev_alloc(&io->dev, 4, 16), 0);
}

static int setup_bs(void **state, uint32_t bs)
{
	struct env *e = calloc(1, sizeof(*e));
	struct dl_bio bio;
	struct dl_sb sb;
	enum dl_err why;

	if (!e)
		return -1;
	e->bs = bs;
	make_temp_file(e->path, sizeof(e->path), 8u << 20);
	test_sb(&sb, bs, 4, bs == 512 ? 320 : R);
	assert_int_equal(dl_bio_open(&bio, NULL, e->path, NULL), 0);
	assert_int_equal(dl_volume_format(&bio, &sb, &why), 0);
	dl_bio_close(&bio);
	e->clk = (struct fake_clock){ .mono = 1000 * MS, .real = 1700000000000 * MS };
	e->clock = (struct dl_clock){ .mono_ns = fake_mono, .real_ns = fake_real, .arg = &e->clk };
	e->w = calloc(1, sizeof(*e->w));
	e->r = calloc(1, sizeof(*e->r));
	assert_non_null(e->w);
	assert_non_null(e->r);
	io_open(e, 0, e->w, 2, 1);
	e->w->w.generation = 7;
	io_open(e, 1, e->r, 1, 0);
	*state = e;
	return 0;
}

static int setup_4k(void **state)
{
	return setup_bs(state, 4096);
}

static int setup_512(void **state)
{
	return setup_bs(state, 512);
}

static int teardown(void **state)
{
	struct env *e = *state;

	dld_io_peers_free(e->r);
	dld_io_heads_free(e->w);
	dld_dev_close(&e->w->dev);
	dld_dev_close(&e->r->dev);
	unlink(e->path);
	free(e->w);
	free(e->r);
	free(e);
	return 0;
}

/* The writer packs blocks first..first+n-1 into its wbuf (len bytes of
 * data each, to node 1), writes them to its ring and commits its head. */
static void commit(struct env *e, uint64_t first, uint32_t n, uint32_t len)
{
	struct dld_io *io = e->w;
	uint8_t data[4096];
	uint16_t dst = 1;

	for (uint32_t i = 0; i < n; i++) {
		struct dl_block_builder bb;

		fill_pattern(data, len, (uint32_t)(first + i));
		dl_bb_start(&bb, io->dev.wbuf + (size_t)i * e->bs, e->bs);
		assert_int_equal(dl_bb_add(&bb, &dst, 1, data, len, len, 0,
					   (uint32_t)(first + i)), 0);
		dl_bb_seal(&bb, io->slot, io->cfg->node_id, io->w.generation, first + i,
			   io->dev.vol.sb.uuid, dl_clock_real(&e->clock));
		assert_int_equal(dld_dev_write_blocks(&io->dev, io->slot,
						      (uint32_t)((first + i) % io->dev.vol.sb.ring_blocks),
						      1, io->dev.wbuf + (size_t)i * e->bs), 0);
	}
	dld_io_head_commit(io, first, n);
}

/* Three of these fit a 4 KiB head, one a 512-byte head. */
static uint32_t small(const struct env *e)
{
	return e->bs == 512 ? 200 : 40;
}

static void read_head(struct env *e, uint32_t slot, struct dl_head *h, uint8_t *buf)
{
	assert_int_equal(dld_dev_read_heads(&e->r->dev, slot + 1, buf), 0);
	assert_int_equal(dl_head_decode(buf + (size_t)slot * e->bs, e->bs, h, NULL), 0);
}

static void test_writer(void **state)
{
	struct env *e = *state;
	uint8_t *buf = dl_bio_alloc(4u * e->bs);
	struct dl_head h;
	struct dl_block b;

	assert_non_null(buf);
	/* At the start of a generation, once its header is written (at its
	 * first poll): where the ring is, nothing inline. */
	e->w->w.next_seq = 10;
	dld_io_heads_read(e->w);
	assert_int_equal(dld_dev_read_heads(&e->r->dev, 2, buf), 0);
	assert_int_equal(dl_head_decode(buf + e->bs, e->bs, &h, NULL), -1);
	e->w->hdr_written = true;
	dld_io_heads_read(e->w);
	read_head(e, 1, &h, buf);
	assert_int_equal(h.seq, 9);
	assert_int_equal(h.gen_blocks, 0);
	assert_int_equal(h.generation, 7);
	assert_int_equal(h.inline_count, 0);
	commit(e, 10, 3, small(e));
	read_head(e, 1, &h, buf);
	assert_int_equal(h.node_id, 2);
	assert_int_equal(h.slot_index, 1);
	assert_int_equal(h.generation, 7);
	assert_int_equal(h.seq, 12);
	assert_int_equal(h.gen_blocks, 3);
	assert_int_equal(h.write_time_ns, e->clk.real);
	assert_memory_equal(h.volume_uuid8, e->w->dev.vol.sb.uuid, 8);
	/* a 512-byte head holds the newest of them */
	assert_int_equal(h.inline_seq, e->bs == 512 ? 12 : 10);
	assert_int_equal(dl_head_block(&h, 12, &b), 0);
	assert_int_equal(b.rec_count, 1);
	/* too big to go inline: the head still says where the ring is */
	commit(e, 13, 1, e->bs - 96);
	read_head(e, 1, &h, buf);
	assert_int_equal(h.seq, 13);
	assert_int_equal(h.gen_blocks, 4);
	assert_int_equal(h.inline_count, 0);
	free(buf);
}

static void count(void *ctx, uint32_t src, const uint8_t *data, uint32_t len)
{
	struct env *e = ctx;

	(void)data;
	(void)len;
	assert_int_equal(src, 2);
	e->delivered++;
}

/* The reader with one peer, node 2 in slot 1, synced at next_seq. */
static struct dld_io_peer *reader(struct env *e, uint64_t next, uint64_t gen)
{
	struct dld_io *io = e->r;
	struct dld_io_peer *p = &io->peers[0];

	dld_io_peers_free(io);
	memset(p, 0, sizeof(*p));
	io->npeers = 1;
	p->node_id = 2;
	p->slot = 1;
	assert_int_equal(dl_reader_init(&p->rd, &io->dev.vol.sb, 1, 1), 0);
	p->reader_ok = true;
	p->rd.synced = 1;
	p->rd.next_seq = next;
	p->rd.generation = gen;
	p->rd.writer_id = 2;
	p->rd.min_generation = gen;
	p->head_ring_ns = e->clk.mono;
	return p;
}

static enum dld_head_use use(struct env *e, struct dld_io_peer *p, uint32_t *n)
{
	const uint8_t *blocks = NULL;
	uint64_t reads = e->st[1].io.reads;
	enum dld_head_use u;

	dld_io_heads_read(e->r);
	assert_int_equal(e->st[1].io.reads, reads + 1);      /* one read, every peer */
	*n = 0;
	u = dld_io_head_use(e->r, p, e->clk.mono, &blocks, n);
	if (u == DLD_HEAD_INLINE) {
		int again = 0;

		assert_non_null(blocks);
		assert_int_equal(dl_reader_poll(&p->rd, blocks, *n, count, e, &again), *n);
		assert_int_equal(again, 0);
	}
	return u;
}

static void test_reader(void **state)
{
	struct env *e = *state;
	struct dld_io_peer *p;
	uint32_t n;

	commit(e, 10, 3, small(e));
	p = reader(e, 10, 7);
	if (e->bs == 512) {            /* only 12 inline: the ring for 10 */
		assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
		p->rd.next_seq = 12;
	}
	assert_int_equal(use(e, p, &n), DLD_HEAD_INLINE);
	assert_int_equal(n, e->bs == 512 ? 1 : 3);
	assert_int_equal(e->delivered, n);
	assert_int_equal(p->rd.next_seq, 13);
	/* nothing new: no ring read, however often it polls */
	for (int i = 0; i < 5; i++) {
		e->clk.mono += 5 * MS;
		assert_int_equal(use(e, p, &n), DLD_HEAD_IDLE);
	}
	/* the next commit, inline again */
	commit(e, 13, 1, small(e));
	assert_int_equal(use(e, p, &n), DLD_HEAD_INLINE);
	assert_int_equal(p->rd.next_seq, 14);
	/* 250 ms since the ring was last read: the ring, whatever the head
	 * says; then the head again */
	e->clk.mono += 250 * MS;
	assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
	assert_int_equal(use(e, p, &n), DLD_HEAD_IDLE);
}

/* A writer that reopened and wrote nothing yet: the blocks the reader
 * would find from its next_seq on are an older generation's (never
 * delivered), so its ring need not be read. */
static void test_new_generation(void **state)
{
	struct env *e = *state;
	struct dld_io_peer *p;
	uint32_t n;

	e->w->w.next_seq = 40;
	e->w->hdr_written = true;
	dld_io_heads_read(e->w);
	p = reader(e, 25, 7);
	assert_int_equal(use(e, p, &n), DLD_HEAD_IDLE);
	/* its first block: the ring reader takes it from there */
	commit(e, 40, 1, small(e));
	assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
	p = reader(e, 40, 7);
	assert_int_equal(use(e, p, &n), DLD_HEAD_INLINE);
	assert_int_equal(p->rd.next_seq, 41);
}

static void test_ring_fallbacks(void **state)
{
	struct env *e = *state;
	struct dld_io_peer *p;
	uint64_t reads;
	uint32_t n;

	commit(e, 10, 3, small(e));
	/* further behind than the head holds */
	p = reader(e, 5, 7);
	assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
	/* the slot header's generation is newer (the head is a superseded
	 * incarnation's) or older (the writer reopened: header first) */
	p = reader(e, 12, 8);
	assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
	p = reader(e, 12, 6);
	assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
	/* another node in that slot */
	p = reader(e, 12, 7);
	p->node_id = 3;
	assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
	/* its last poll consumed blocks: a burst, the ring as it lands */
	p = reader(e, 12, 7);
	p->ahead = 8;
	reads = e->st[1].io.reads;
	dld_io_heads_read(e->r);
	assert_int_equal(e->st[1].io.reads, reads);  /* no area read for it */
	assert_int_equal(dld_io_head_use(e->r, p, e->clk.mono, NULL, &n), DLD_HEAD_RING);
	/* read through its own device */
	p = reader(e, 12, 7);
	p->dev = (struct dld_io_pdev *)(uintptr_t)1;
	assert_int_equal(dld_io_head_use(e->r, p, e->clk.mono, NULL, &n), DLD_HEAD_RING);
	p->dev = NULL;
	/* an empty head (slot 2, never written) */
	p = reader(e, 1, 7);
	p->slot = 2;
	assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
	/* a torn head: one byte of its inline data changed */
	p = reader(e, 12, 7);
	assert_int_equal(use(e, p, &n), DLD_HEAD_INLINE);
	{
		uint8_t *buf = dl_bio_alloc(e->bs);

		assert_non_null(buf);
		assert_int_equal(dl_bio_read(&e->w->dev.vol.bio, buf, e->bs,
					     dl_sb_head_offset(&e->w->dev.vol.sb, 1)), 0);
		buf[DL_HEAD_HDR_SIZE + 20] ^= 1;
		assert_int_equal(dl_bio_write(&e->w->dev.vol.bio, buf, e->bs,
					      dl_sb_head_offset(&e->w->dev.vol.sb, 1)), 0);
		free(buf);
	}
	p = reader(e, 12, 7);
	assert_int_equal(use(e, p, &n), DLD_HEAD_RING);
}

/* A busy peer's next blocks are read with the poll's other reads, into
 * a buffer of their own, and taken once, for that index and count only;
 * the area is read only for the quiet peers. */
static void test_prefetch(void **state)
{
	struct env *e = *state;
	struct dld_io_peer *p;
	const uint8_t *got;
	uint64_t reads, start = 0;
	int rc = -1, again = 0;

	commit(e, 10, 3, small(e));
	p = reader(e, 10, 7);
	p->ahead = 4;                  /* its last poll consumed blocks */
	reads = e->st[1].io.reads;
	e->clk.mono += MS;
	dld_io_prefetch(e->r);
	assert_int_equal(e->st[1].io.reads, reads + 1);      /* the ring only */
	assert_null(dld_io_prefetched(e->r, p, 11, 4, &rc, &start));
	assert_null(dld_io_prefetched(e->r, p, 10, 3, &rc, &start));
	got = dld_io_prefetched(e->r, p, 10, 4, &rc, &start);
	assert_non_null(got);
	assert_int_equal(rc, 0);
	assert_int_equal(start, e->clk.mono);
	assert_int_equal(dl_reader_poll(&p->rd, got, 4, count, e, &again), 3);
	assert_int_equal(e->delivered, 3);
	assert_null(dld_io_prefetched(e->r, p, 10, 4, &rc, &start));   /* taken */
	/* A quiet peer beside it: the area and the busy ring, both read. */
	e->r->peers[1] = (struct dld_io_peer){ .node_id = 3, .slot = 2, .reader_ok = true,
					       .ahead = 1 };
	assert_int_equal(dl_reader_init(&e->r->peers[1].rd, &e->r->dev.vol.sb, 2, 1), 0);
	e->r->npeers = 2;
	reads = e->st[1].io.reads;
	dld_io_prefetch(e->r);
	assert_int_equal(e->st[1].io.reads, reads + 2);
	assert_non_null(dld_io_prefetched(e->r, p, 13, 4, &rc, &start));
	assert_null(dld_io_prefetched(e->r, &e->r->peers[1], 0, 1, &rc, &start));
	/* Nothing busy: the area alone, nothing read ahead. */
	p->ahead = 1;
	reads = e->st[1].io.reads;
	dld_io_prefetch(e->r);
	assert_int_equal(e->st[1].io.reads, reads + 1);
	assert_null(dld_io_prefetched(e->r, p, 13, 1, &rc, &start));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writer, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_reader, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_ring_fallbacks, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_new_generation, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_prefetch, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_writer, setup_512, teardown),
		cmocka_unit_test_setup_teardown(test_reader, setup_512, teardown),
		cmocka_unit_test_setup_teardown(test_ring_fallbacks, setup_512, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
