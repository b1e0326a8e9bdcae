/* The maximum datagram age (doc/format.md, "Age rules") in the I/O
 * child's writer (io_write.c) and reader (io_read.c), two nodes on one
 * volume file under a FAKE clock: a datagram queued longer than the
 * writer's budget (half of max_age) is dropped; a write that took longer
 * is voided, and a reader that had not read it never delivers it; what a
 * read that took longer returned is dropped once, and the blocks after it
 * are delivered; a reader back from a gap in reading drops the backlog;
 * a peer whose header stood still drops what appears until the header
 * moves again; the reader stamps what it hands to the parent with the
 * start of its last read that found nothing new.  And the size of the
 * reader's ring reads while data flows (io_read.c, read_size). */
#include "../unit/test_util.h"

#include "ring_writer.h"
#include "volume.h"

#include "io.h"

#define BS    4096u
#define R     64u
#define SLOTS 4u
#define MS    1000000ull
#define MAX_AGE_MS 1500u               /* budget of each side: 750 ms */

/* A fake clock: it stands for CLOCK_MONOTONIC and CLOCK_REALTIME of both
 * nodes (one machine), and moves only when the test, a fake disk or a
 * wait moves it. */
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

static void advance(struct fake_clock *c, uint64_t ns)
{
	c->mono += ns;
	c->real += ns;
}

/* A fake disk: it stands for a device whose reads take read_ns and whose
 * writes take write_ns of the fake clock before they land; the data go
 * to the volume file through dl_bio_direct_ops. */
struct fake_disk {
	struct dl_bio_ops ops;         /* first: found from bio->ops       */
	struct fake_clock *clk;
	uint64_t read_ns, write_ns;
};

static struct fake_disk *disk_of(const struct dl_bio *bio)
{
	return (struct fake_disk *)(uintptr_t)bio->ops;
}

static int disk_open(struct dl_bio *bio, const char *path, const struct dl_bio_opts *o)
{
	return dl_bio_direct_ops.open(bio, path, o);
}

static void disk_close(struct dl_bio *bio)
{
	dl_bio_direct_ops.close(bio);
}

static int disk_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	struct fake_disk *d = disk_of(bio);

	advance(d->clk, req->op == DL_BIO_READ ? d->read_ns : d->write_ns);
	return dl_bio_direct_ops.submit(bio, req);
}

static int disk_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	return dl_bio_direct_ops.wait(bio, timeout_ns);
}

struct node {
	struct dld_config cfg;
	struct dld_chan ch;
	struct fake_disk disk;
	struct dld_io *io;
};

struct env {
	char path[64];
	struct fake_clock clk;
	struct dl_clock clock;
	struct node a, b;              /* node 1 writes, node 2 reads       */
};

/* The idle wait (claim, collision check): the fake clock moves on. */
static int fake_wait(struct dld_io *io, uint64_t timeout_ns)
{
	struct fake_clock *c = io->dev.clock->arg;

	advance(c, timeout_ns);
	return 0;
}

static void node_start(struct env *e, struct node *n, uint32_t id, uint32_t peer)
{
	struct dld_io *io = calloc(1, sizeof(*io));
	int rc = 0;

	assert_non_null(io);
	dld_config_defaults(&n->cfg);
	snprintf(n->cfg.device, sizeof(n->cfg.device), "%s", e->path);
	snprintf(n->cfg.node_name, sizeof(n->cfg.node_name), "n%u", id);
	n->cfg.node_id = id;
	n->cfg.tun.max_age_ms = MAX_AGE_MS;
	assert_int_equal(dld_chan_create(&n->ch, 256), 0);
	n->ch.shm->tun = n->cfg.tun;
	dld_peers_publish(n->ch.shm, &peer, 1);
	n->disk = (struct fake_disk){
		.ops = { .name = "fake", .open = disk_open, .close = disk_close,
			 .submit = disk_submit, .wait = disk_wait },
		.clk = &e->clk,
	};
	io->cfg = &n->cfg;
	io->ch = &n->ch;
	io->shm = n->ch.shm;
	io->tun = n->ch.shm->tun;
	io->st.slot = -1;
	dld_dev_init(&io->dev, &e->clock, &n->disk.ops, &n->ch.shm->io_start_ns, &io->st);
	dld_sched_init(&io->sched, id, &io->tun);
	io->wait_tx = fake_wait;
	n->io = io;
	assert_int_equal(dld_io_attach(io, &rc), 0);
	dld_io_peers_init(io);
	dld_dev_ok(&io->dev);
}

static void node_stop(struct node *n)
{
	dld_io_peers_free(n->io);
	dld_io_batch_free(n->io);
	dld_dev_close(&n->io->dev);
	free(n->io);
	dld_chan_destroy(&n->ch);
}

/* Node a sends one datagram to node b, queued at the fake clock's now. */
static void send_one(struct env *e, uint8_t tag)
{
	uint8_t data[100];
	uint16_t dst = 2;

	memset(data, tag, sizeof(data));
	assert_int_equal(dld_q_push_at(e->a.ch.tx, e->clk.mono, 0, &dst, 1, data, sizeof(data)),
			 0);
}

/* One turn of node b's reader: headers, then the ring. */
static void b_reads(struct env *e)
{
	dld_io_peer_headers(e->b.io, e->clk.mono);
	dld_io_poll_peers(e->b.io, e->clk.mono);
}

/* Node a's header refresh. */
static void a_header(struct env *e)
{
	int rc = 0;

	assert_int_equal(dld_io_write_header(e->a.io, DL_SLOT_ACTIVE, &rc), 0);
}

/* ms of normal life: node b reads every 5 ms, node a refreshes its
 * header every second. */
static void idle(struct env *e, uint32_t ms)
{
	for (uint32_t t = 5; t <= ms; t += 5) {
		advance(&e->clk, 5 * MS);
		if (t % 1000u == 0)
			a_header(e);
		dld_io_poll_peers(e->b.io, e->clk.mono);
		if (t % 1000u == 0)
			dld_io_peer_headers(e->b.io, e->clk.mono);
	}
}

/* The tags delivered to node b since the last call, in *tags; how many. */
static uint32_t b_got(struct env *e, uint8_t *tags, uint32_t max, uint64_t *stamp)
{
	struct dld_q *q = e->b.ch.rx;
	uint64_t pos = dld_q_tail(q);
	struct dld_qmsg m;
	uint32_t n = 0;

	while (dld_q_read(q, &pos, &m)) {
		assert_int_equal(m.node, 1);
		if (n < max)
			tags[n] = m.data[0];
		if (stamp)
			*stamp = m.t_ns;
		n++;
		dld_q_release(q, pos);
	}
	return n;
}

/* Node a sends one datagram (tag), node b reads twice: it arrives, alone. */
static void crosses(struct env *e, uint8_t tag)
{
	uint8_t tags[4];

	send_one(e, tag);
	dld_io_drain_tx(e->a.io);
	b_reads(e);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 1);
	assert_int_equal(tags[0], tag);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct dl_bio bio;
	struct dl_sb sb;
	enum dl_err why;
	uint8_t tags[4];

	if (!e)
		return -1;
	make_temp_file(e->path, sizeof(e->path), 4u << 20);
	test_sb(&sb, BS, SLOTS, R);
	assert_int_equal(dl_bio_open(&bio, NULL, e->path, NULL), 0);
	assert_int_equal(dl_volume_format(&bio, &sb, &why), 0);
	dl_bio_close(&bio);
	e->clk = (struct fake_clock){ .mono = 1000 * MS, .real = 1700000000000 * MS };
	e->clock = (struct dl_clock){ .mono_ns = fake_mono, .real_ns = fake_real, .arg = &e->clk };
	node_start(e, &e->a, 1, 2);
	node_start(e, &e->b, 2, 1);
	a_header(e);
	/* In step: a fresh datagram crosses. */
	b_reads(e);
	send_one(e, 1);
	dld_io_drain_tx(e->a.io);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 1);
	assert_int_equal(tags[0], 1);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	node_stop(&e->a);
	node_stop(&e->b);
	unlink(e->path);
	free(e);
	return 0;
}

/* Queued longer than the writer's budget: dropped and counted, never
 * written; a fresh one behind it is. */
static void test_writer_drops_what_waited(void **state)
{
	struct env *e = *state;
	uint8_t tags[4];

	send_one(e, 2);
	idle(e, 755);                  /* node a's writer is held up */
	send_one(e, 3);
	dld_io_drain_tx(e->a.io);
	assert_int_equal(e->a.io->st.io.aged_queued, 1);
	assert_int_equal(e->a.io->st.io.dgrams_written, 2);   /* setup's and 3 */
	assert_true(dld_q_empty(e->a.ch.tx));
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 1);
	assert_int_equal(tags[0], 3);
}

/* A write that took longer than the budget is voided at once: a reader
 * that had not read it never delivers it, and what follows arrives. */
static void test_late_write_voided(void **state)
{
	struct env *e = *state;
	uint8_t tags[4];
	uint64_t seq = e->a.io->w.next_seq;

	e->a.disk.write_ns = 800 * MS;
	send_one(e, 4);
	dld_io_drain_tx(e->a.io);
	assert_int_equal(e->a.io->st.io.aged_late, 1);
	assert_int_equal(e->a.io->void_n, 0);               /* the void is on disk */
	assert_true(e->a.io->w.next_seq > seq);            /* never reused */
	e->a.disk.write_ns = 0;
	a_header(e);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 0);
	send_one(e, 5);
	dld_io_drain_tx(e->a.io);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 1);
	assert_int_equal(tags[0], 5);
}

/* What a read that took longer than the reader's budget returned is
 * dropped, counted, and not read again; the blocks after it arrive. */
static void test_slow_read_dropped(void **state)
{
	struct env *e = *state;
	uint8_t tags[4];

	send_one(e, 6);
	dld_io_drain_tx(e->a.io);
	e->b.disk.read_ns = 800 * MS;
	dld_io_poll_peers(e->b.io, e->clk.mono);
	e->b.disk.read_ns = 0;
	assert_int_equal(b_got(e, tags, 4, NULL), 0);
	assert_int_equal(e->b.io->st.aged_read, 1);
	a_header(e);
	b_reads(e);                    /* up to date again */
	crosses(e, 7);
	assert_int_equal(e->b.io->st.aged_read, 1);
}

/* A reader back from a gap in reading longer than the budget (its own
 * device stalled) drops the backlog; the header moving, fresh data
 * arrives.  The stamp on the rx queue is the start of the last read that
 * found nothing new. */
static void test_gap_and_stamp(void **state)
{
	struct env *e = *state;
	uint8_t tags[4];
	uint64_t stamp = 0, before;

	send_one(e, 8);
	dld_io_drain_tx(e->a.io);
	advance(&e->clk, 800 * MS);
	a_header(e);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 0);
	assert_int_equal(e->b.io->st.aged_read, 1);
	advance(&e->clk, 10 * MS);
	before = e->clk.mono;
	b_reads(e);                    /* finds nothing new */
	advance(&e->clk, 10 * MS);
	send_one(e, 9);
	dld_io_drain_tx(e->a.io);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, &stamp), 1);
	assert_int_equal(tags[0], 9);
	assert_true(stamp == before);
}

/* A peer whose header stood still longer than max_age (and 3 header
 * intervals): what appears in its ring is dropped (it may be a write
 * that landed late) until its header is seen moving again. */
static void test_silent_peer(void **state)
{
	struct env *e = *state;
	uint8_t tags[4];

	for (int i = 0; i < 40; i++) {          /* 4 s: b reads, a is stuck */
		advance(&e->clk, 100 * MS);
		b_reads(e);
	}
	send_one(e, 10);
	e->a.io->tun.max_age_ms = 0;            /* its own rules off: it lands */
	dld_io_drain_tx(e->a.io);
	e->a.io->tun.max_age_ms = MAX_AGE_MS;
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 0);
	assert_int_equal(e->b.io->st.aged_read, 1);
	a_header(e);
	b_reads(e);                             /* moved since the last look */
	send_one(e, 11);
	dld_io_drain_tx(e->a.io);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 1);
	assert_int_equal(tags[0], 11);
}

/* Read size (io_read.c, read_size): 24 datagrams of 3,000 bytes (19
 * blocks) are read in reads that double after a full one (8, then 16
 * that finds the end: two, where read_ahead's fixed 8 took three), and
 * the next poll reads as much as this one found: the next burst (16
 * blocks) in one read (two before); quiet, one block. */
static uint64_t burst(struct env *e, uint8_t first, uint8_t n)
{
	uint64_t before = e->a.io->st.io.blocks_written;
	uint8_t data[3000];
	uint16_t dst = 2;

	for (uint8_t i = 0; i < n; i++) {
		memset(data, first + i, sizeof(data));
		assert_int_equal(dld_q_push_at(e->a.ch.tx, e->clk.mono, 0, &dst, 1, data,
					       sizeof(data)), 0);
	}
	dld_io_drain_tx(e->a.io);
	return e->a.io->st.io.blocks_written - before;
}

static void test_read_size(void **state)
{
	struct env *e = *state;
	struct dld_io_peer *p = &e->b.io->peers[0];
	uint32_t ra = e->b.io->tun.read_ahead;
	uint64_t reads, blocks;
	uint8_t tags[32];

	assert_int_equal(p->ahead, ra);                /* after setup's one */
	blocks = burst(e, 100, 24);
	assert_true(blocks > ra && blocks <= 3 * ra);
	reads = e->b.io->st.io.reads;
	dld_io_poll_peers(e->b.io, e->clk.mono);
	assert_int_equal(b_got(e, tags, 32, NULL), 24);
	for (uint8_t i = 0; i < 24; i++)
		assert_int_equal(tags[i], 100 + i);
	assert_int_equal(e->b.io->st.io.reads - reads, 2);
	assert_int_equal(p->ahead, blocks);
	blocks = burst(e, 0, 20);
	assert_true(blocks > ra && blocks <= p->ahead);
	reads = e->b.io->st.io.reads;
	dld_io_poll_peers(e->b.io, e->clk.mono);
	assert_int_equal(b_got(e, tags, 32, NULL), 20);
	assert_int_equal(e->b.io->st.io.reads - reads, 1);
	assert_int_equal(p->ahead, blocks);
	/* Quiet: one block at the next poll, read_ahead after data. */
	dld_io_poll_peers(e->b.io, e->clk.mono);
	assert_int_equal(p->ahead, 1);
	send_one(e, 9);
	dld_io_drain_tx(e->a.io);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 32, NULL), 1);
	assert_int_equal(p->ahead, ra);
}

/* Both nodes restart, the writer first, and the writer has written
 * nothing of its new generation when the reader attaches: the reader
 * starts after the writer's header's last_seq (the new generation
 * continues the sequence), not at seq 1 behind the old generation's
 * blocks, where it counted every read as stale and never delivered. */
static void test_restart_both(void **state)
{
	struct env *e = *state;
	uint8_t tags[4];

	for (uint8_t i = 0; i < 20; i++) {
		send_one(e, 20 + i);
		dld_io_drain_tx(e->a.io);
		b_reads(e);
	}
	assert_int_equal(b_got(e, tags, 4, NULL), 20);
	assert_int_equal(dld_io_write_header(e->b.io, DL_SLOT_ACTIVE, &(int){ 0 }), 0);
	node_stop(&e->a);
	node_stop(&e->b);
	advance(&e->clk, 10000 * MS);
	node_start(e, &e->a, 1, 2);
	assert_int_equal(e->a.io->w.generation, 2);
	a_header(e);
	node_start(e, &e->b, 2, 1);
	b_reads(e);
	crosses(e, 99);
	assert_int_equal(e->b.io->peers[0].rd.st.stale, 0);
}

/* The writer restarts while the reader, synced, has not read the last
 * of the old generation, and the new one has written nothing yet when
 * the reader sees its header: the reader skips the old generation's
 * unread blocks (counted stale) to where the new one starts, after its
 * header's last_seq.  It used to wait at the first unread block,
 * counting it stale at each poll, and never delivered again (found by
 * relay/test-peer-restart.sh's lagging case). */
static void test_restart_unread(void **state)
{
	struct env *e = *state;
	uint8_t tags[4];

	crosses(e, 1);
	for (uint8_t i = 0; i < 20; i++) {
		send_one(e, 20 + i);
		dld_io_drain_tx(e->a.io);
	}
	node_stop(&e->a);
	advance(&e->clk, 10000 * MS);
	node_start(e, &e->a, 1, 2);
	assert_int_equal(e->a.io->w.generation, 2);
	a_header(e);
	b_reads(e);
	assert_int_equal(b_got(e, tags, 4, NULL), 0);
	assert_true(e->b.io->peers[0].rd.st.stale >= 20);
	assert_int_equal(e->b.io->peers[0].rd.next_seq, e->a.io->w.next_seq);
	/* b did not read for 10 s: a's writer counts as alive again once
	 * its header moves between two reads of b (age rules). */
	advance(&e->clk, 500 * MS);
	a_header(e);
	b_reads(e);
	crosses(e, 99);
	crosses(e, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writer_drops_what_waited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_write_voided, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_read_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_and_stamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_both, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_unread, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
