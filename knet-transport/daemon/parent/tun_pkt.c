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
#define IP6_HDR      40u
#define IP6_MIN_MTU  1280u             /* RFC 4443 2.4(c): at most this */
#define PROTO_ICMP6  58u

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

/* The one's complement sum of n bytes (RFC 1071), added to sum. */
static uint32_t sum_add(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += be16(p);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t dld_inet_csum(const uint8_t *p, size_t n)
{
	return fold(sum_add(p, n, 0));
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

/* An IPv6 header, its payload within len. */
static bool ip6_ok(const uint8_t *p, size_t len)
{
	return len >= IP6_HDR && p[0] >> 4 == 6 && IP6_HDR + be16(p + 4) <= len;
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* IPv6: knet's port and ICMPv6 (when no extension header comes first)
 * are priority; ff00::/8 goes to all; the interface identifier ::N names
 * node N (the caller checks the /64 prefix). */
static enum dld_pkt_kind classify6(const uint8_t *p, size_t len, uint16_t prio_port,
				   struct dld_pkt_info *info)
{
	if (!ip6_ok(p, len))
		return info->kind;
	info->family = 6;
	memcpy(info->src6, p + 8, 16);
	memcpy(info->dst6, p + 24, 16);
	if (p[6] == PROTO_ICMP6)
		info->cls = DLD_CLASS_PRIO;
	else if (p[6] == PROTO_UDP && prio_port && len >= IP6_HDR + 4 &&
		 (be16(p + IP6_HDR) == prio_port || be16(p + IP6_HDR + 2) == prio_port))
		info->cls = DLD_CLASS_PRIO;
	info->node = be16(info->dst6 + 14);
	if (info->dst6[0] == 0xff)
		info->kind = DLD_PKT_ALL;
	else if (zero(info->dst6 + 8, 6) && info->node)
		info->kind = DLD_PKT_UNICAST;
	else
		info->kind = DLD_PKT_NOBODY;
	return info->kind;
}

enum dld_pkt_kind dld_pkt_classify(const uint8_t *p, size_t len, uint16_t prio_port,
				   struct dld_pkt_info *info)
{
	size_t ihl = ip_hdr_len(p, len);

	*info = (struct dld_pkt_info){ .kind = DLD_PKT_BAD, .cls = DLD_CLASS_BULK };
	if (len && p[0] >> 4 == 6)
		return classify6(p, len, prio_port, info);
	if (!ihl)
		return info->kind;
	info->family = 4;
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

size_t dld_icmp6_unreach(const uint8_t *p, size_t len, const uint8_t from[16], uint8_t code,
			 uint8_t *out, size_t cap)
{
	const uint8_t *src = p + 8;
	size_t quote, icmp_len;
	uint32_t sum;

	if (!ip6_ok(p, len) || cap < IP6_MIN_MTU || src[0] == 0xff || zero(src, 16) ||
	    p[24] == 0xff)
		return 0;
	if (p[6] == PROTO_ICMP6 && (len <= IP6_HDR || p[IP6_HDR] < 128))
		return 0;              /* an ICMPv6 error (or no type) */
	len = IP6_HDR + be16(p + 4);
	quote = len < IP6_MIN_MTU - IP6_HDR - ICMP_HDR ? len : IP6_MIN_MTU - IP6_HDR - ICMP_HDR;
	icmp_len = ICMP_HDR + quote;
	memset(out, 0, IP6_HDR + ICMP_HDR);
	out[0] = 0x60;
	put16(out + 4, (uint16_t)icmp_len);
	out[6] = PROTO_ICMP6;
	out[7] = 64;
	memcpy(out + 8, from, 16);
	memcpy(out + 24, src, 16);
	out[IP6_HDR] = 1;              /* destination unreachable */
	out[IP6_HDR + 1] = code;
	memcpy(out + IP6_HDR + ICMP_HDR, p, quote);
	/* The pseudo-header: addresses, length, next header (RFC 8200 8.1). */
	sum = sum_add(out + 8, 32, (uint32_t)icmp_len + PROTO_ICMP6);
	put16(out + IP6_HDR + 2, fold(sum_add(out + IP6_HDR, icmp_len, sum)));
	return IP6_HDR + icmp_len;
}
