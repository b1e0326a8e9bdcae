/* TUN mode's address plan (daemon/parent/tun_plan.c) and its packets
 * (tun_pkt.c): every node id maps to one address of 169.254.0.0/16 and
 * back, none in the lab's 169.254.77.0/24; packets are classified by
 * destination and priority (knet's UDP port, ICMP); an ICMP unreachable
 * answers a packet with valid checksums and quotes it, and never answers
 * an ICMP error, a later fragment or a broadcast. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tun_pkt.h"
#include "tun_plan.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static void test_plan_round_trip(void **state)
{
	uint32_t a, id, with = 0;

	(void)state;
	for (uint32_t n = 0; n <= 65536; n++) {
		if (dld_tun_addr_of(n, &a)) {
			assert_int_equal(errno, EDOM);
			continue;
		}
		with++;
		assert_true(dld_tun_in_prefix(a));
		assert_int_not_equal(a & 0xffffff00u, IP(169, 254, 77, 0));
		assert_int_equal(dld_tun_node_of(a, &id), 0);
		assert_int_equal(id, n);
	}
	/* 65535 ids but 0, the broadcast and the held-back /24. */
	assert_int_equal(with, 65534u - 256u);
	assert_int_equal(dld_tun_addr_of(1, &a), 0);
	assert_int_equal(a, IP(169, 254, 0, 1));
	assert_int_equal(dld_tun_addr_of(258, &a), 0);
	assert_int_equal(a, IP(169, 254, 1, 2));
	assert_int_equal(dld_tun_addr_of(77 * 256 + 5, &a), -1);
	assert_int_equal(dld_tun_addr_of(0, &a), -1);
	assert_int_equal(dld_tun_addr_of(65535, &a), -1);
	assert_int_equal(dld_tun_node_of(IP(169, 254, 77, 5), &id), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dld_tun_node_of(IP(10, 0, 0, 1), &id), -1);
	assert_int_equal(dld_tun_node_of(IP(169, 254, 0, 0), &id), -1);
}

/* An IPv4 packet of len bytes, proto, src -> dst, ports for UDP. */
static size_t mk(uint8_t *p, size_t len, uint8_t proto, uint32_t src, uint32_t dst,
		 uint16_t sport, uint16_t dport)
{
	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = proto;
	for (int i = 0; i < 4; i++) {
		p[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	return len;
}

static void test_classify(void **state)
{
	uint8_t p[1500];
	struct dld_pkt_info in;
	size_t n;

	(void)state;
	n = mk(p, 100, 17, IP(169, 254, 0, 1), IP(169, 254, 0, 2), 5406, 5406);
	assert_int_equal(dld_pkt_classify(p, n, 5406, &in), DLD_PKT_UNICAST);
	assert_int_equal(in.node, 2);
	assert_int_equal(in.cls, DLD_CLASS_PRIO);
	assert_int_equal(in.src, IP(169, 254, 0, 1));
	/* Another UDP port, TCP: bulk. */
	assert_int_equal(dld_pkt_classify(p, n, 5405, &in), DLD_PKT_UNICAST);
	assert_int_equal(in.cls, DLD_CLASS_BULK);
	n = mk(p, 100, 6, IP(169, 254, 0, 1), IP(169, 254, 1, 2), 5406, 5406);
	assert_int_equal(dld_pkt_classify(p, n, 5406, &in), DLD_PKT_UNICAST);
	assert_int_equal(in.node, 258);
	assert_int_equal(in.cls, DLD_CLASS_BULK);
	/* ICMP: priority (ping is what the operator checks with). */
	n = mk(p, 84, 1, IP(169, 254, 0, 1), IP(169, 254, 0, 3), 0x0800, 0);
	assert_int_equal(dld_pkt_classify(p, n, 5406, &in), DLD_PKT_UNICAST);
	assert_int_equal(in.cls, DLD_CLASS_PRIO);
	/* Broadcast and multicast: every peer. */
	n = mk(p, 60, 17, IP(169, 254, 0, 1), IP(169, 254, 255, 255), 1, 2);
	assert_int_equal(dld_pkt_classify(p, n, 5406, &in), DLD_PKT_ALL);
	n = mk(p, 60, 17, IP(169, 254, 0, 1), IP(224, 0, 0, 251), 1, 2);
	assert_int_equal(dld_pkt_classify(p, n, 5406, &in), DLD_PKT_ALL);
	/* Nobody's: the hole, outside the prefix. */
	n = mk(p, 60, 17, IP(169, 254, 0, 1), IP(169, 254, 77, 2), 1, 2);
	assert_int_equal(dld_pkt_classify(p, n, 5406, &in), DLD_PKT_NOBODY);
	n = mk(p, 60, 17, IP(169, 254, 0, 1), IP(192, 168, 1, 1), 1, 2);
	assert_int_equal(dld_pkt_classify(p, n, 5406, &in), DLD_PKT_NOBODY);
	/* Bad: IPv6 whose payload length is beyond the buffer (IPv6 is
	 * carried now: test_ipv6), short, total length beyond the buffer,
	 * IHL < 5. */
	n = mk(p, 60, 17, IP(169, 254, 0, 1), IP(169, 254, 0, 2), 1, 2);
	p[0] = 0x60;
	p[4] = 0;
	p[5] = 21;
	assert_int_equal(dld_pkt_classify(p, n, 0, &in), DLD_PKT_BAD);
	p[0] = 0x45;
	assert_int_equal(dld_pkt_classify(p, 19, 0, &in), DLD_PKT_BAD);
	assert_int_equal(dld_pkt_classify(p, 59, 0, &in), DLD_PKT_BAD);
	p[0] = 0x44;
	assert_int_equal(dld_pkt_classify(p, n, 0, &in), DLD_PKT_BAD);
}

static void test_icmp_unreach(void **state)
{
	uint8_t p[2000], out[600];
	size_t n, m;

	(void)state;
	n = mk(p, 1000, 6, IP(169, 254, 0, 1), IP(169, 254, 0, 9), 40000, 22);
	m = dld_icmp_unreach(p, n, IP(169, 254, 0, 1), DLD_ICMP_HOST_UNREACH, out, sizeof(out));
	assert_int_equal(m, 576);
	assert_int_equal(out[0], 0x45);
	assert_int_equal(out[2] << 8 | out[3], 576);
	assert_int_equal(out[9], 1);
	assert_int_equal(dld_inet_csum(out, 20), 0);          /* header checksum */
	assert_int_equal(dld_inet_csum(out + 20, m - 20), 0); /* ICMP checksum   */
	assert_int_equal(out[20], 3);
	assert_int_equal(out[21], DLD_ICMP_HOST_UNREACH);
	assert_memory_equal(out + 16, p + 12, 4);             /* back to the sender */
	assert_memory_equal(out + 28, p, 548);                /* the quote */
	/* A small packet is quoted whole. */
	n = mk(p, 40, 17, IP(169, 254, 0, 1), IP(169, 254, 0, 9), 1, 2);
	m = dld_icmp_unreach(p, n, IP(169, 254, 0, 1), DLD_ICMP_NET_UNREACH, out, sizeof(out));
	assert_int_equal(m, 68);
	assert_int_equal(dld_inet_csum(out + 20, m - 20), 0);
	assert_int_equal(out[21], DLD_ICMP_NET_UNREACH);
	/* Never for an ICMP error, a later fragment, a multicast, a short buffer. */
	n = mk(p, 56, 1, IP(169, 254, 0, 1), IP(169, 254, 0, 9), 0x0301, 0);
	assert_int_equal(dld_icmp_unreach(p, n, 1, 1, out, sizeof(out)), 0);
	n = mk(p, 84, 1, IP(169, 254, 0, 1), IP(169, 254, 0, 9), 0x0800, 0);
	assert_int_not_equal(dld_icmp_unreach(p, n, 1, 1, out, sizeof(out)), 0);
	n = mk(p, 40, 17, IP(169, 254, 0, 1), IP(169, 254, 0, 9), 1, 2);
	p[7] = 10;                     /* fragment offset 80 */
	assert_int_equal(dld_icmp_unreach(p, n, 1, 1, out, sizeof(out)), 0);
	n = mk(p, 40, 17, IP(169, 254, 0, 1), IP(224, 0, 0, 1), 1, 2);
	assert_int_equal(dld_icmp_unreach(p, n, 1, 1, out, sizeof(out)), 0);
	n = mk(p, 40, 17, 0, IP(169, 254, 0, 9), 1, 2);
	assert_int_equal(dld_icmp_unreach(p, n, 1, 1, out, sizeof(out)), 0);
	n = mk(p, 40, 17, IP(169, 254, 0, 1), IP(169, 254, 0, 9), 1, 2);
	assert_int_equal(dld_icmp_unreach(p, n, 1, 1, out, 100), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_round_trip),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_icmp_unreach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
