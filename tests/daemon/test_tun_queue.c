/* TUN mode's bulk queue (daemon/parent/tun_queue.c, tun_io.c): bulk over
 * tun_bulk_kib waits in a bounded FIFO instead of being dropped, leaves
 * it in order as tokens come, is dropped only when the FIFO is full (as a
 * qdisc does), when it is over a second old, when its peer went down or
 * when the daemon stops; knet's port and ICMP go past it at once.
 *
 * A FAKE clock (struct dl_clock: the monotonic clock the token bucket and
 * the packets' ages read) is moved by the test; dld_tun_bulk_release
 * stands for the release timer's expiry.  A SOCK_SEQPACKET socketpair
 * stands for the TUN device; the test plays the I/O child on the tx
 * queue, and ctx->child, ctx->snap stand for a running child and its
 * status. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctx.h"
#include "tun_io.h"
#include "tun_queue.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define SELF  IP(169, 254, 0, 1)
#define PEER2 IP(169, 254, 0, 2)
#define KNET_PORT 5406
#define MS 1000000ull
#define SEG 1400                       /* a TCP segment's bytes          */

struct fix {
	struct dld_ctx *ctx;
	int dev;                       /* the test's end of the "TUN device" */
	uint64_t now;                  /* the fake clock, ns                 */
	struct dl_clock clock;
};

static uint64_t fake_mono(void *arg)
{
	return ((struct fix *)arg)->now;
}

static uint64_t fake_real(void *arg)
{
	return ((struct fix *)arg)->now;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct dld_peer_conf *p;
	int sv[2];

	assert_non_null(f);
	f->ctx = calloc(1, sizeof(*f->ctx));
	assert_non_null(f->ctx);
	dld_ctx_init(f->ctx);
	assert_int_equal(dld_loop_init(&f->ctx->loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	f->ctx->vnic.fd = sv[0];
	f->dev = sv[1];
	f->now = 1000 * MS;
	f->clock = (struct dl_clock){ .mono_ns = fake_mono, .real_ns = fake_real, .arg = f };
	f->ctx->vnic.clock = &f->clock;
	f->ctx->vnic.addr = SELF;
	f->ctx->cfg.port = KNET_PORT;
	f->ctx->cfg.tun.tun_bulk_kib = 1000;      /* 1,024,000 bytes/s */
	p = &f->ctx->cfg.peers[0];
	p->node_id = 2;
	assert_int_equal(dld_addr_parse("169.254.0.2", KNET_PORT, &p->addr, &p->addr_len), 0);
	f->ctx->cfg.peer_count = 1;
	f->ctx->snap.peers[0] = (struct dld_peer_status){ .node_id = 2, .state = DLD_PEER_UP };
	f->ctx->snap.peer_count = 1;
	assert_int_equal(dld_chan_create(&f->ctx->chan, 4096), 0);
	f->ctx->child = 1;             /* a running, ready child */
	f->ctx->child_ready_ns = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	dld_tun_io_stop(f->ctx);
	dld_chan_destroy(&f->ctx->chan);
	close(f->ctx->vnic.fd);
	close(f->dev);
	dld_loop_fini(&f->ctx->loop);
	free(f->ctx);
	free(f);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The kernel sends a packet of len bytes to peer 2 (proto, dport) into
 * dl0, numbered seq (bytes 24..27), and the daemon reads it. */
static void send_pkt(struct fix *f, size_t len, uint8_t proto, uint16_t dport, uint32_t seq)
{
	uint8_t p[2048] = { 0x45 };

	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, SELF);
	put32(p + 16, PEER2);
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	if (proto == 1)
		p[20] = 8;             /* echo request */
	put32(p + 24, seq);
	assert_int_equal(write(f->dev, p, len), (ssize_t)len);
	dld_tun_on_readable(f->ctx->vnic.fd, EPOLLIN, f->ctx);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The next record in the tx queue (as the I/O child reads it): its
 * number, its protocol in *proto; -1 when there is none. */
static int64_t next_record(struct fix *f, uint8_t *proto)
{
	uint64_t pos = dld_q_tail(f->ctx->chan.tx);
	struct dld_qmsg m;

	if (!dld_q_read(f->ctx->chan.tx, &pos, &m))
		return -1;
	dld_q_release(f->ctx->chan.tx, pos);   /* m stays readable: nothing writes */
	if (proto)
		*proto = ((const uint8_t *)m.data)[9];
	return get32((const uint8_t *)m.data + 24);
}

/* Spend the first burst of tokens (256 KiB): 187 segments go at once. */
static uint32_t spend_burst(struct fix *f)
{
	uint32_t seq = 0;

	while (f->ctx->vnic.bulk.count == 0 && seq < 1000) {
		send_pkt(f, SEG, 6, 22, seq++);
		while (next_record(f, NULL) >= 0)
			;
	}
	assert_int_equal(f->ctx->vnic.bulk.count, 1);
	return seq;
}

/* Over the rate, bulk waits (not dropped) and leaves in order as the
 * clock gives tokens. */
static void test_queued_then_released_in_order(void **state)
{
	struct fix *f = *state;
	uint32_t first = spend_burst(f) - 1, seq = first + 1;
	int64_t got, want = first;

	for (int k = 0; k < 20; k++)
		send_pkt(f, SEG, 6, 22, seq++);
	assert_int_equal(next_record(f, NULL), -1);       /* no tokens yet */
	assert_int_equal(f->ctx->vnic.bulk.count, 21);
	assert_int_equal(f->ctx->vnic.st.bulk_queued, 21);
	assert_int_equal(f->ctx->vnic.st.bulk_drops, 0);
	assert_true(f->ctx->vnic.bulk_timer);           /* the release is armed */
	/* 10 ms: 10,240 bytes of tokens (with the burst's rest): 7 segments. */
	f->now += 10 * MS;
	dld_tun_bulk_release(f->ctx);
	for (int k = 0; k < 7; k++)
		assert_int_equal(next_record(f, NULL), want++);
	assert_int_equal(next_record(f, NULL), -1);
	/* A second later every one has gone, in order, none dropped. */
	for (int k = 0; k < 10; k++) {
		f->now += 5 * MS;
		dld_tun_bulk_release(f->ctx);
		while ((got = next_record(f, NULL)) >= 0)
			assert_int_equal(got, want++);
	}
	assert_int_equal(want, seq);
	assert_int_equal(f->ctx->vnic.bulk.count, 0);
	assert_int_equal(f->ctx->vnic.st.bulk_drops, 0);
}

/* The queue holds a second of the rate at most: past it, bulk is dropped
 * and counted; what is queued still goes. */
static void test_full_queue_drops(void **state)
{
	struct fix *f = *state;
	uint32_t seq = spend_burst(f);
	uint64_t drops;

	for (int k = 0; k < 2000; k++)                   /* 2.8 MB: over a second */
		send_pkt(f, SEG, 6, 22, seq++);
	drops = f->ctx->vnic.st.bulk_drops;
	assert_true(drops > 1000);
	assert_true(f->ctx->vnic.bulk.count > 600);       /* ~1 MB of 1.4 KB */
	assert_true(f->ctx->vnic.bulk.count < 800);
	assert_int_equal(f->ctx->vnic.bulk.count + drops, 2001);
	assert_int_equal(f->ctx->vnic.bulk.head - f->ctx->vnic.bulk.tail <= 1024000, 1);
}

/* knet's port and ICMP go at once, before the bulk that waits. */
static void test_priority_bypasses_queue(void **state)
{
	struct fix *f = *state;
	uint32_t seq = spend_burst(f);
	uint8_t proto;

	for (int k = 0; k < 5; k++)
		send_pkt(f, SEG, 6, 22, seq++);
	send_pkt(f, SEG, 17, KNET_PORT, 7000);
	send_pkt(f, 84, 1, 0, 7001);
	assert_int_equal(next_record(f, &proto), 7000);
	assert_int_equal(proto, 17);
	assert_int_equal(next_record(f, &proto), 7001);
	assert_int_equal(proto, 1);
	assert_int_equal(next_record(f, NULL), -1);
	assert_int_equal(f->ctx->vnic.bulk.count, 6);
}

/* Too old at dequeue, the peer down, the daemon stopping: dropped and
 * counted. */
static void test_stale_and_stop_drop(void **state)
{
	struct fix *f = *state;
	uint32_t seq = spend_burst(f);

	for (int k = 0; k < 4; k++)
		send_pkt(f, SEG, 6, 22, seq++);
	f->now += 1100 * MS;                              /* over a second old */
	dld_tun_bulk_release(f->ctx);
	assert_int_equal(next_record(f, NULL), -1);
	assert_int_equal(f->ctx->vnic.st.bulk_drops, 5);
	assert_int_equal(f->ctx->vnic.st.bulk_queued, 0);
	/* Queued, then the peer goes down: emptied at the next release. */
	f->ctx->vnic.tokens = 0;
	f->ctx->vnic.refill_ns = f->now;
	for (int k = 0; k < 3; k++)
		send_pkt(f, SEG, 6, 22, seq++);
	assert_int_equal(f->ctx->vnic.bulk.count, 3);
	f->ctx->snap.peers[0].state = DLD_PEER_DOWN;
	f->now += 100 * MS;
	dld_tun_bulk_release(f->ctx);
	assert_int_equal(next_record(f, NULL), -1);
	assert_int_equal(f->ctx->vnic.st.bulk_drops, 8);
	/* Queued, then the daemon stops. */
	f->ctx->snap.peers[0].state = DLD_PEER_UP;
	f->ctx->vnic.tokens = 0;
	f->ctx->vnic.refill_ns = f->now;
	for (int k = 0; k < 2; k++)
		send_pkt(f, SEG, 6, 22, seq++);
	dld_tun_io_stop(f->ctx);
	assert_int_equal(f->ctx->vnic.st.bulk_drops, 10);
	assert_false(f->ctx->vnic.bulk_timer);
	assert_null(f->ctx->vnic.bulk.buf);
}

/* The FIFO alone: records wrap around the ring's end intact, in order;
 * a full ring refuses; an empty one takes a packet over the cap. */
static void test_ring_wraps(void **state)
{
	static struct dld_tunq q;
	struct dld_tunq_pkt h = { .ndst = 2, .dst = { 2, 3 } }, o;
	static uint8_t data[60000], out[60000];
	uint32_t in = 0, got = 0;

	(void)state;
	for (int round = 0; round < 100; round++) {
		while (true) {
			h.t_ns = in;
			h.len = 1000 + (in * 7919) % 59000;
			memset(data, (int)(in & 0xff), h.len);
			if (dld_tunq_put(&q, DLD_TUNQ_BYTES, &h, data))
				break;
			in++;
		}
		assert_int_equal(errno, ENOSPC);
		for (int k = 0; k < 5; k++, got++) {
			assert_true(dld_tunq_peek(&q, &o));
			assert_int_equal(o.t_ns, got);
			assert_int_equal(o.ndst, 2);
			assert_int_equal(o.dst[1], 3);
			dld_tunq_pop(&q, &o, out);
			assert_int_equal(out[0], got & 0xff);
			assert_int_equal(out[o.len - 1], got & 0xff);
		}
	}
	assert_int_equal(q.count, in - got);
	assert_int_equal(dld_tunq_free(&q), in - got);
	assert_false(dld_tunq_peek(&q, &o));
	h.len = 5000;
	assert_int_equal(dld_tunq_put(&q, 100, &h, data), 0);    /* alone: over cap */
	assert_int_equal(dld_tunq_put(&q, 100, &h, data), -1);
	dld_tunq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queued_then_released_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_queue_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_bypasses_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_stop_drop, setup, teardown),
		cmocka_unit_test(test_ring_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
