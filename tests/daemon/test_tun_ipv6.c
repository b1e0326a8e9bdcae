/* TUN mode's IPv6 (doc/vnic.md, tun_ipv6): the /64 ULA plan (prefix::N,
 * daemon/parent/tun_plan.c), IPv6 packets classified (tun_pkt.c), the
 * ICMPv6 destination unreachable (checksum over the pseudo-header, the
 * quote, the packets that get none), and the packet path (tun_io.c):
 * unicast to the owner of prefix::N, ICMPv6 for nobody's address or a
 * peer down, multicast from our address to every peer, the kernel's own
 * multicast (from fe80::) dropped, IPv6 dropped when tun_ipv6 is off, a
 * delivered packet checked against its peer's address.
 *
 * A SOCK_SEQPACKET socketpair stands for the TUN device (one packet per
 * read or write); the test plays the I/O child on the channel's queues,
 * and ctx->child, ctx->snap stand for a running child and its status. */
#include "config.h"

#include <arpa/inet.h>
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
#include "tun_pkt.h"
#include "tun_plan.h"

#define PREFIX "fd5a:1b2c:3d4e:1::/64"
#define KNET_PORT 5406

static uint8_t prefix6[8];

/* addr <- text */
static void a6(const char *text, uint8_t addr[16])
{
	assert_int_equal(inet_pton(AF_INET6, text, addr), 1);
}

static void test_plan6(void **state)
{
	uint8_t a[16], want[16];
	uint32_t id;

	(void)state;
	assert_int_equal(dld_tun_prefix6_parse(PREFIX, prefix6), 0);
	dld_tun_addr6_of(prefix6, 1, a);
	a6("fd5a:1b2c:3d4e:1::1", want);
	assert_memory_equal(a, want, 16);
	dld_tun_addr6_of(prefix6, 258, a);
	a6("fd5a:1b2c:3d4e:1::102", want);
	assert_memory_equal(a, want, 16);
	assert_int_equal(dld_tun_node6_of(prefix6, a, &id), 0);
	assert_int_equal(id, 258);
	for (uint32_t n = 1; n <= 65535; n++) {
		dld_tun_addr6_of(prefix6, n, a);
		assert_int_equal(dld_tun_node6_of(prefix6, a, &id), 0);
		assert_int_equal(id, n);
	}
	/* Not a node's: another prefix, ::0, an identifier over 65535. */
	a6("fd5a:1b2c:3d4e:2::1", a);
	assert_int_equal(dld_tun_node6_of(prefix6, a, &id), -1);
	assert_int_equal(errno, ENOENT);
	a6("fd5a:1b2c:3d4e:1::", a);
	assert_int_equal(dld_tun_node6_of(prefix6, a, &id), -1);
	a6("fd5a:1b2c:3d4e:1::1:1", a);
	assert_int_equal(dld_tun_node6_of(prefix6, a, &id), -1);
	/* Only a /64 in fd00::/8 without host bits. */
	assert_int_equal(dld_tun_prefix6_parse("fd5a:1b2c:3d4e:1::/48", a), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dld_tun_prefix6_parse("fc5a:1b2c:3d4e:1::/64", a), -1);
	assert_int_equal(dld_tun_prefix6_parse("2001:db8::/64", a), -1);
	assert_int_equal(dld_tun_prefix6_parse("fd5a:1b2c:3d4e:1::5/64", a), -1);
	assert_int_equal(dld_tun_prefix6_parse("fd5a:1b2c:3d4e:1::", a), -1);
	assert_int_equal(dld_tun_prefix6_parse("169.254.0.0/64", a), -1);
}

/* An IPv6 packet of len bytes (header included), next header nh,
 * src -> dst, ports (UDP) or type (ICMPv6: sport >> 8). */
static size_t mk6(uint8_t *p, size_t len, uint8_t nh, const char *src, const char *dst,
		  uint16_t sport, uint16_t dport)
{
	memset(p, 0, len);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = nh;
	p[7] = 64;
	a6(src, p + 8);
	a6(dst, p + 24);
	p[40] = (uint8_t)(sport >> 8);
	p[41] = (uint8_t)sport;
	p[42] = (uint8_t)(dport >> 8);
	p[43] = (uint8_t)dport;
	return len;
}

static void test_classify6(void **state)
{
	uint8_t p[200];
	struct dld_pkt_info in;
	size_t n;

	(void)state;
	n = mk6(p, 100, 17, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::2", 1, KNET_PORT);
	assert_int_equal(dld_pkt_classify(p, n, KNET_PORT, &in), DLD_PKT_UNICAST);
	assert_int_equal(in.family, 6);
	assert_int_equal(in.node, 2);
	assert_int_equal(in.cls, DLD_CLASS_PRIO);
	assert_memory_equal(in.dst6, p + 24, 16);
	n = mk6(p, 100, 6, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::2", 1, KNET_PORT);
	dld_pkt_classify(p, n, KNET_PORT, &in);
	assert_int_equal(in.cls, DLD_CLASS_BULK);      /* TCP: bulk */
	n = mk6(p, 64, 58, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::2", 0x8000, 0);
	dld_pkt_classify(p, n, KNET_PORT, &in);
	assert_int_equal(in.cls, DLD_CLASS_PRIO);      /* ICMPv6 */
	n = mk6(p, 64, 58, "fe80::1", "ff02::16", 0x8f00, 0);
	assert_int_equal(dld_pkt_classify(p, n, KNET_PORT, &in), DLD_PKT_ALL);
	n = mk6(p, 64, 17, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::1:2", 1, 2);
	assert_int_equal(dld_pkt_classify(p, n, KNET_PORT, &in), DLD_PKT_NOBODY);
	n = mk6(p, 64, 17, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::", 1, 2);
	assert_int_equal(dld_pkt_classify(p, n, KNET_PORT, &in), DLD_PKT_NOBODY);
	/* Bad: short, payload beyond the buffer. */
	assert_int_equal(dld_pkt_classify(p, 39, 0, &in), DLD_PKT_BAD);
	assert_int_equal(dld_pkt_classify(p, 63, 0, &in), DLD_PKT_BAD);
}

/* The ICMPv6 checksum of the message in out (0 when it is right). */
static uint16_t icmp6_sum(const uint8_t *out, size_t len)
{
	uint8_t buf[2000];
	size_t n = len - 40;

	/* The pseudo-header, then the message (RFC 8200 8.1). */
	memset(buf, 0, 40);
	memcpy(buf, out + 8, 32);
	buf[34] = (uint8_t)(n >> 8);
	buf[35] = (uint8_t)n;
	buf[39] = 58;
	memcpy(buf + 40, out + 40, n);
	return dld_inet_csum(buf, 40 + n);
}

static void test_icmp6_unreach(void **state)
{
	uint8_t p[2000], out[1280], from[16];
	size_t n, m;

	(void)state;
	a6("fd5a:1b2c:3d4e:1::9", from);
	n = mk6(p, 1500, 6, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::9", 40000, 22);
	m = dld_icmp6_unreach(p, n, from, DLD_ICMP6_ADDR_UNREACH, out, sizeof(out));
	assert_int_equal(m, 1280);                     /* the IPv6 minimum MTU */
	assert_int_equal(out[0] >> 4, 6);
	assert_int_equal(out[4] << 8 | out[5], 1240);
	assert_int_equal(out[6], 58);
	assert_memory_equal(out + 8, from, 16);
	assert_memory_equal(out + 24, p + 8, 16);     /* back to the sender */
	assert_int_equal(out[40], 1);
	assert_int_equal(out[41], DLD_ICMP6_ADDR_UNREACH);
	assert_int_equal(icmp6_sum(out, m), 0);
	assert_memory_equal(out + 48, p, 1232);        /* the quote */
	n = mk6(p, 60, 17, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::9", 1, 2);
	m = dld_icmp6_unreach(p, n, from, DLD_ICMP6_ADDR_UNREACH, out, sizeof(out));
	assert_int_equal(m, 108);
	assert_int_equal(icmp6_sum(out, m), 0);
	/* An echo request gets one; an ICMPv6 error, a multicast destination,
	 * an unspecified or multicast source, a short buffer do not. */
	n = mk6(p, 64, 58, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::9", 0x8000, 0);
	assert_int_not_equal(dld_icmp6_unreach(p, n, from, 3, out, sizeof(out)), 0);
	n = mk6(p, 64, 58, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::9", 0x0103, 0);
	assert_int_equal(dld_icmp6_unreach(p, n, from, 3, out, sizeof(out)), 0);
	n = mk6(p, 64, 17, "fd5a:1b2c:3d4e:1::1", "ff02::1", 1, 2);
	assert_int_equal(dld_icmp6_unreach(p, n, from, 3, out, sizeof(out)), 0);
	n = mk6(p, 64, 17, "::", "fd5a:1b2c:3d4e:1::9", 1, 2);
	assert_int_equal(dld_icmp6_unreach(p, n, from, 3, out, sizeof(out)), 0);
	n = mk6(p, 64, 17, "ff02::1", "fd5a:1b2c:3d4e:1::9", 1, 2);
	assert_int_equal(dld_icmp6_unreach(p, n, from, 3, out, sizeof(out)), 0);
	n = mk6(p, 64, 17, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::9", 1, 2);
	assert_int_equal(dld_icmp6_unreach(p, n, from, 3, out, 1000), 0);
}

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
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	f->ctx->vnic.fd = sv[0];
	f->dev = sv[1];
	f->ctx->vnic.addr = 0xa9fe0001u;
	f->ctx->vnic.v6 = true;
	assert_int_equal(dld_tun_prefix6_parse(PREFIX, f->ctx->vnic.prefix6), 0);
	dld_tun_addr6_of(f->ctx->vnic.prefix6, 1, f->ctx->vnic.addr6);
	f->ctx->cfg.port = KNET_PORT;
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

	dld_chan_destroy(&f->ctx->chan);
	close(f->ctx->vnic.fd);
	close(f->dev);
	free(f->ctx);
	free(f);
	return 0;
}

/* The kernel sends an IPv6 packet into dl0; the daemon reads it. */
static void send6(struct fix *f, size_t len, uint8_t nh, const char *src, const char *dst,
		  uint16_t sport, uint16_t dport)
{
	uint8_t p[2000];

	mk6(p, len, nh, src, dst, sport, dport);
	assert_int_equal(write(f->dev, p, len), (ssize_t)len);
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

/* An ICMPv6 unreachable for `to` came back from `from`. */
static void expect_icmp6(struct fix *f, const char *from, const char *to)
{
	uint8_t p[1500], a[16];
	ssize_t n = read(f->dev, p, sizeof(p));

	assert_true(n > 48);
	assert_int_equal(p[6], 58);
	assert_int_equal(p[40], 1);
	assert_int_equal(p[41], DLD_ICMP6_ADDR_UNREACH);
	a6(from, a);
	assert_memory_equal(p + 8, a, 16);
	a6(to, a);
	assert_memory_equal(p + 24, a, 16);
	assert_int_equal(icmp6_sum(p, (size_t)n), 0);
}

static void test_path6(void **state)
{
	struct fix *f = *state;
	struct dld_qmsg m;

	send6(f, 100, 17, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::2", 1, KNET_PORT);
	assert_true(next_record(f, &m));
	assert_int_equal(m.ndst, 1);
	assert_int_equal(m.dst[0], 2);
	assert_int_equal(m.len, 100);
	/* Multicast from our address: every peer. */
	send6(f, 80, 58, "fd5a:1b2c:3d4e:1::1", "ff02::1", 0x8000, 0);
	assert_true(next_record(f, &m));
	assert_int_equal(m.ndst, 2);
	/* The kernel's own (MLD report from fe80::, DAD from ::): dropped. */
	send6(f, 76, 58, "fe80::1234", "ff02::16", 0x8f00, 0);
	send6(f, 64, 58, "::", "ff02::1:ff00:1", 0x8700, 0);
	assert_false(next_record(f, &m));
	assert_int_equal(f->ctx->vnic.st.bad_drops, 2);
	/* Peer 3 is down, ::9 is nobody's, another /64 neither. */
	send6(f, 64, 58, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::3", 0x8000, 0);
	expect_icmp6(f, "fd5a:1b2c:3d4e:1::3", "fd5a:1b2c:3d4e:1::1");
	send6(f, 64, 6, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::9", 1, 22);
	expect_icmp6(f, "fd5a:1b2c:3d4e:1::9", "fd5a:1b2c:3d4e:1::1");
	send6(f, 64, 6, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:7::2", 1, 22);
	expect_icmp6(f, "fd5a:1b2c:3d4e:7::2", "fd5a:1b2c:3d4e:1::1");
	assert_false(next_record(f, &m));
	assert_int_equal(f->ctx->vnic.st.icmp_sent, 3);
	/* tun_ipv6 off: IPv6 is not carried. */
	f->ctx->vnic.v6 = false;
	send6(f, 100, 17, "fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::2", 1, KNET_PORT);
	assert_false(next_record(f, &m));
	assert_int_equal(f->ctx->vnic.st.bad_drops, 3);
}

/* The child delivers an IPv6 packet from node `from`. */
static void deliver6(struct fix *f, uint16_t from, const char *src, const char *dst)
{
	uint8_t p[60];

	mk6(p, sizeof(p), 17, src, dst, 1, 2);
	assert_int_equal(dld_q_push(f->ctx->chan.rx, from, NULL, 0, p, sizeof(p)), 0);
	dld_tun_deliver(f->ctx);
}

static void test_deliver6(void **state)
{
	struct fix *f = *state;
	uint8_t p[100];

	deliver6(f, 2, "fd5a:1b2c:3d4e:1::2", "fd5a:1b2c:3d4e:1::1");
	assert_int_equal(read(f->dev, p, sizeof(p)), 60);
	deliver6(f, 2, "fd5a:1b2c:3d4e:1::2", "ff02::1");
	assert_int_equal(read(f->dev, p, sizeof(p)), 60);
	assert_int_equal(f->ctx->vnic.st.pkts_in, 2);
	deliver6(f, 2, "fd5a:1b2c:3d4e:1::3", "fd5a:1b2c:3d4e:1::1");  /* node 3's address */
	deliver6(f, 2, "fe80::2", "ff02::1");                         /* not its address */
	deliver6(f, 2, "fd5a:1b2c:3d4e:1::2", "fd5a:1b2c:3d4e:1::3");  /* not for us */
	f->ctx->vnic.v6 = false;
	deliver6(f, 2, "fd5a:1b2c:3d4e:1::2", "fd5a:1b2c:3d4e:1::1");  /* IPv6 off */
	assert_int_equal(read(f->dev, p, sizeof(p)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(f->ctx->vnic.st.rx_drops, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan6),
		cmocka_unit_test(test_classify6),
		cmocka_unit_test(test_icmp6_unreach),
		cmocka_unit_test_setup_teardown(test_path6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver6, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
