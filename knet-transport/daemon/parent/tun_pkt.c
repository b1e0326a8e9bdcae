/* TUN mode: packet classification and ICMP errors (tun_pkt.h). */
#include "config.h"

#include <string.h>

#include "tun_pkt.h"
#include "tun_plan.h"

#define IP_HDR_MIN   20u
#define ICMP_HDR     8u
#define ICMP_MAX     576u              /* RFC 1812 4.3.2.3: at most this */
#define PROTO_ICMP   1u
#define PROTO_UDP    17u

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

uint16_t dld_inet_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (; n > 1; p += 2, n -= 2)
		sum += be16(p);
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The IPv4 header's length, or 0 when p holds no valid IPv4 header. */
static size_t ip_hdr_len(const uint8_t *p, size_t len)
{
	size_t ihl;

	if (len < IP_HDR_MIN || p[0] >> 4 != 4)
		return 0;
	ihl = (size_t)(p[0] & 15u) * 4u;
	if (ihl < IP_HDR_MIN || ihl > len || be16(p + 2) < ihl || be16(p + 2) > len)
		return 0;
	return ihl;
}

static bool is_multi(uint32_t a)
{
	return (a >> 28) == 0xeu || a == 0xffffffffu ||
	       (dld_tun_in_prefix(a) && (a & 0xffffu) == 0xffffu);
}

static bool first_fragment(const uint8_t *p)
{
	return (be16(p + 6) & 0x1fffu) == 0;
}

enum dld_pkt_kind dld_pkt_classify(const uint8_t *p, size_t len, uint16_t prio_port,
				   struct dld_pkt_info *info)
{
	size_t ihl = ip_hdr_len(p, len);

	*info = (struct dld_pkt_info){ .kind = DLD_PKT_BAD, .cls = DLD_CLASS_BULK };
	if (!ihl)
		return info->kind;
	info->src = be32(p + 12);
	info->dst = be32(p + 16);
	if (p[9] == PROTO_ICMP)
		info->cls = DLD_CLASS_PRIO;
	else if (p[9] == PROTO_UDP && prio_port && first_fragment(p) && len >= ihl + 4 &&
		 (be16(p + ihl) == prio_port || be16(p + ihl + 2) == prio_port))
		info->cls = DLD_CLASS_PRIO;
	if (is_multi(info->dst))
		info->kind = DLD_PKT_ALL;
	else if (dld_tun_node_of(info->dst, &info->node) == 0)
		info->kind = DLD_PKT_UNICAST;
	else
		info->kind = DLD_PKT_NOBODY;
	return info->kind;
}

/* An ICMP error must not answer an ICMP error (RFC 1122 3.2.2). */
static bool is_icmp_error(const uint8_t *p, size_t ihl, size_t len)
{
	if (p[9] != PROTO_ICMP || !first_fragment(p))
		return false;
	if (len < ihl + 1)
		return true;
	return !(p[ihl] == 0 || p[ihl] == 8 || p[ihl] == 13 || p[ihl] == 14 ||
		 p[ihl] == 15 || p[ihl] == 16 || p[ihl] == 17 || p[ihl] == 18);
}

size_t dld_icmp_unreach(const uint8_t *p, size_t len, uint32_t from, uint8_t code,
			uint8_t *out, size_t cap)
{
	size_t ihl = ip_hdr_len(p, len), quote, total;
	uint32_t src;

	if (!ihl || cap < ICMP_MAX || !first_fragment(p) || is_icmp_error(p, ihl, len))
		return 0;
	src = be32(p + 12);
	if (src == 0 || is_multi(src) || is_multi(be32(p + 16)))
		return 0;
	len = be16(p + 2);
	quote = len < ICMP_MAX - IP_HDR_MIN - ICMP_HDR ? len : ICMP_MAX - IP_HDR_MIN - ICMP_HDR;
	total = IP_HDR_MIN + ICMP_HDR + quote;
	memset(out, 0, IP_HDR_MIN + ICMP_HDR);
	out[0] = 0x45;
	out[1] = 0xc0;                 /* internetwork control */
	put16(out + 2, (uint16_t)total);
	out[8] = 64;
	out[9] = PROTO_ICMP;
	put32(out + 12, from);
	put32(out + 16, src);
	put16(out + 10, dld_inet_csum(out, IP_HDR_MIN));
	out[IP_HDR_MIN] = 3;           /* destination unreachable */
	out[IP_HDR_MIN + 1] = code;
	memcpy(out + IP_HDR_MIN + ICMP_HDR, p, quote);
	put16(out + IP_HDR_MIN + 2, dld_inet_csum(out + IP_HDR_MIN, ICMP_HDR + quote));
	return total;
}
