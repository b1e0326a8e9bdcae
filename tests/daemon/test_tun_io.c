/* TUN mode's packet path (daemon/parent/tun_io.c): a packet read from the
 * interface is queued for the peer owning its destination (a broadcast
 * for every peer); a packet for a peer that is not up or for nobody's
 * address gets an ICMP unreachable back; bulk goes within tun_bulk_kib
 * and while the tx queue is under half full, knet's port and ICMP always;
 * a delivered packet enters the interface only from its peer's address.
 *
 * A SOCK_SEQPACKET socketpair stands for the TUN device (one packet per
 * read or write); the test plays the I/O child on the channel's queues,
 * and ctx->child, ctx->snap stand for a running child and its status. */
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

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define SELF  IP(169, 254, 0, 1)
#define PEER2 IP(169, 254, 0, 2)
#define PEER3 IP(169, 254, 0, 3)
#define KNET_PORT 5406

struct fix {
	struct dld_ctx *ctx;
	int dev;                       /* the test's end of the "TUN device" */
};

static void add_peer(struct dld_ctx *ctx, uint32_t id, const char *addr, uint32_t state)
{
	struct dld_peer_conf *p = &ctx->cfg.peers[ctx->cfg.peer_count];

	p->node_id = id;
	snprintf(p->text, sizeof(p->text), "%s", addr);
	assert_int_equal(dld_addr_parse(addr, KNET_PORT, &p->addr, &p->addr_len), 0);
	ctx->snap.peers[ctx->cfg.peer_count] = (struct dld_peer_status){ .node_id = id,
									 .state = state };
	ctx->cfg.peer_count++;
	ctx->snap.peer_count = ctx->cfg.peer_count;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	f->ctx = calloc(1, sizeof(*f->ctx));
	assert_non_null(f->ctx);
	dld_ctx_init(f->ctx);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	f->ctx->vnic.fd = sv[0];
	f->dev = sv[1];
	f->ctx->vnic.addr = SELF;
	f->ctx->cfg.port = KNET_PORT;
	f->ctx->cfg.tun.tun_bulk_kib = 0;
	add_peer(f->ctx, 2, "169.254.0.2", DLD_PEER_UP);
	add_peer(f->ctx, 3, "169.254.0.3", DLD_PEER_DOWN);
	assert_int_equal(dld_chan_create(&f->ctx->chan, 256), 0);
	f->ctx->child = 1;             /* a running, ready child */
	f->ctx->child_ready_ns = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	dld_tun_io_stop(f->ctx);       /* the bulk queue's ring */
	dld_chan_destroy(&f->ctx->chan);
	close(f->ctx->vnic.fd);
	close(f->dev);
	free(f->ctx);
	free(f);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The kernel sends packet src -> dst (proto, ports) of len bytes into dl0. */
static void send_pkt(struct fix *f, size_t len, uint8_t proto, uint32_t src, uint32_t dst,
		     uint16_t dport)
{
	uint8_t p[2048] = { 0x45 };

	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, src);
	put32(p + 16, dst);
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	if (proto == 1)
		p[20] = 8;             /* echo request */
	assert_int_equal(write(f->dev, p, len), (ssize_t)len);
}

static void pump(struct fix *f)
{
	dld_tun_on_readable(f->ctx->vnic.fd, EPOLLIN, f->ctx);
}

/* The next record in the tx queue (as the I/O child reads it), or 0. */
static int next_record(struct fix *f, struct dld_qmsg *m)
{
	uint64_t pos = dld_q_tail(f->ctx->chan.tx);

	if (!dld_q_read(f->ctx->chan.tx, &pos, m))
		return 0;
	dld_q_release(f->ctx->chan.tx, pos);   /* m stays readable: nothing writes */
	return 1;
}

static void test_unicast_and_broadcast(void **state)
{
	struct fix *f = *state;
	struct dld_qmsg m;

	send_pkt(f, 100, 17, SELF, PEER2, KNET_PORT);
	pump(f);
	assert_true(next_record(f, &m));
	assert_int_equal(m.ndst, 1);
	assert_int_equal(m.dst[0], 2);
	assert_int_equal(m.len, 100);
	assert_true(f->ctx->tx_kick);
	send_pkt(f, 60, 17, SELF, IP(169, 254, 255, 255), 9);
	pump(f);
	assert_true(next_record(f, &m));
	assert_int_equal(m.ndst, 2);
	assert_false(next_record(f, &m));
	assert_int_equal(f->ctx->vnic.st.pkts_out, 2);
}

/* An ICMP destination unreachable arrived on the device, to src. */
static void expect_icmp(struct fix *f, uint32_t to)
{
	uint8_t p[1000], want[4];

	assert_true(read(f->dev, p, sizeof(p)) > 28);
	assert_int_equal(p[9], 1);
	assert_int_equal(p[20], 3);
	put32(want, to);
	assert_memory_equal(p + 16, want, 4);
}

static void test_unreachable(void **state)
{
	struct fix *f = *state;
	struct dld_qmsg m;

	send_pkt(f, 84, 1, SELF, PEER3, 0);       /* peer 3 is down */
	pump(f);
	expect_icmp(f, SELF);
	send_pkt(f, 84, 6, SELF, IP(169, 254, 9, 9), 22);  /* nobody's */
	pump(f);
	expect_icmp(f, SELF);
	assert_false(next_record(f, &m));
	assert_int_equal(f->ctx->vnic.st.icmp_sent, 2);
	/* No child: peer 2 is unreachable too. */
	f->ctx->child = 0;
	send_pkt(f, 84, 1, SELF, PEER2, 0);
	pump(f);
	expect_icmp(f, SELF);
	/* Not IPv4: dropped and counted. */
	f->ctx->child = 1;
	{
		uint8_t v6[40] = { 0x60 };

		assert_int_equal(write(f->dev, v6, sizeof(v6)), (ssize_t)sizeof(v6));
	}
	pump(f);
	assert_int_equal(f->ctx->vnic.st.bad_drops, 1);
}

static void test_bulk_limited_knet_not(void **state)
{
	struct fix *f = *state;
	struct dld_qmsg m;
	int queued = 0;

	f->ctx->cfg.tun.tun_bulk_kib = 1;         /* 1 KiB/s after the burst */
	for (int k = 0; k < 300; k++) {           /* 420 KB of TCP: over the burst */
		send_pkt(f, 1400, 6, SELF, PEER2, 22);
		pump(f);
		while (next_record(f, &m))
			queued++;
	}
	assert_true(queued < 200);
	assert_true(f->ctx->vnic.st.bulk_drops >= 100);
	/* knet's port and ICMP still go at once. */
	send_pkt(f, 1400, 17, SELF, PEER2, KNET_PORT);
	send_pkt(f, 84, 1, SELF, PEER2, 0);
	pump(f);
	assert_true(next_record(f, &m));
	assert_int_equal(m.len, 1400);
	assert_true(next_record(f, &m));
	assert_int_equal(m.len, 84);
}

static void test_bulk_waits_for_queue_room(void **state)
{
	struct fix *f = *state;
	struct dld_qmsg m;
	uint64_t before;

	/* knet's traffic fills the queue (the child is slow) past half. */
	for (int k = 0; k < 100; k++) {
		send_pkt(f, 1400, 17, SELF, PEER2, KNET_PORT);
		pump(f);
	}
	before = f->ctx->vnic.st.bulk_drops;
	send_pkt(f, 1400, 6, SELF, PEER2, 22);
	pump(f);
	assert_int_equal(f->ctx->vnic.st.bulk_drops, before + 1);
	while (next_record(f, &m))
		;
	send_pkt(f, 1400, 6, SELF, PEER2, 22);
	pump(f);
	assert_int_equal(f->ctx->vnic.st.bulk_drops, before + 1);
	assert_true(next_record(f, &m));
}

/* The child delivers a packet from node `from`: the packet src -> dst. */
static void deliver(struct fix *f, uint16_t from, uint8_t first, uint32_t src, uint32_t dst)
{
	uint8_t p[60] = { first };

	p[3] = sizeof(p);
	p[8] = 64;
	p[9] = 17;
	put32(p + 12, src);
	put32(p + 16, dst);
	assert_int_equal(dld_q_push(f->ctx->chan.rx, from, NULL, 0, p, sizeof(p)), 0);
	dld_tun_deliver(f->ctx);
}

static void test_deliver_checks_source(void **state)
{
	struct fix *f = *state;
	uint8_t p[100];

	deliver(f, 2, 0x45, PEER2, SELF);
	assert_int_equal(read(f->dev, p, sizeof(p)), 60);
	deliver(f, 2, 0x45, PEER2, IP(224, 0, 0, 251));
	assert_int_equal(read(f->dev, p, sizeof(p)), 60);
	assert_int_equal(f->ctx->vnic.st.pkts_in, 2);
	deliver(f, 2, 0x45, PEER3, SELF);         /* node 2 claims node 3's address */
	deliver(f, 2, 0x45, PEER2, PEER3);        /* not for us */
	deliver(f, 9, 0x45, PEER2, SELF);         /* no such peer */
	deliver(f, 2, 0x60, PEER2, SELF);         /* not IPv4 */
	assert_int_equal(read(f->dev, p, sizeof(p)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(f->ctx->vnic.st.rx_drops, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unicast_and_broadcast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_limited_knet_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_waits_for_queue_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_checks_source, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
