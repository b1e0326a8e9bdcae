/* TUN mode: what a packet read from the interface is, and the ICMP
 * errors written back into it (doc/vnic.md).  Pure functions over the
 * packet's bytes (IFF_NO_PI: the packet starts with its IP header). */
#ifndef DLD_TUN_PKT_H
#define DLD_TUN_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dld_pkt_kind {
	DLD_PKT_BAD = 0,       /* not an IP packet we carry (short, bad header) */
	DLD_PKT_UNICAST,       /* to one node of the plan: info.node (IPv6: the
				* interface identifier, the caller checks the prefix) */
	DLD_PKT_ALL,           /* broadcast or multicast: to every peer */
	DLD_PKT_NOBODY,        /* to an address no node owns: ICMP back */
};

enum dld_pkt_class {
	DLD_CLASS_BULK = 0,    /* rate-limited, queued behind the rest  */
	DLD_CLASS_PRIO,        /* knet's UDP port, ICMP: never held back */
};

struct dld_pkt_info {
	enum dld_pkt_kind kind;
	enum dld_pkt_class cls;
	uint32_t node;         /* DLD_PKT_UNICAST: the destination node */
	uint32_t src, dst;     /* IPv4: host byte order                 */
	uint8_t family;        /* 4 or 6 (0: DLD_PKT_BAD)               */
	uint8_t src6[16], dst6[16]; /* IPv6                             */
};

/* Classify packet p (len bytes); prio_port: knet's UDP port (0: none).
 * Always fills *info; returns info->kind. */
enum dld_pkt_kind dld_pkt_classify(const uint8_t *p, size_t len, uint16_t prio_port,
				   struct dld_pkt_info *info);

/* ICMP codes of "destination unreachable" we send. */
#define DLD_ICMP_NET_UNREACH  0u
#define DLD_ICMP_HOST_UNREACH 1u

/* Build into out (cap bytes, at least 576) the ICMP destination
 * unreachable (code) answering packet p, sent from address from (host
 * order).  The length written, or 0 when no ICMP error may answer p (an
 * ICMP error itself, a fragment but the first, a broadcast, multicast or
 * unspecified source, a bad header: RFC 1122 3.2.2). */
size_t dld_icmp_unreach(const uint8_t *p, size_t len, uint32_t from, uint8_t code,
			uint8_t *out, size_t cap);

/* ICMPv6 code of "destination unreachable" we send (RFC 4443 3.1). */
#define DLD_ICMP6_ADDR_UNREACH 3u

/* The same for IPv6 packet p: an ICMPv6 destination unreachable from
 * address from, into out (cap at least 1280: it quotes as much of p as
 * fits the IPv6 minimum MTU).  0 when none may answer p (an ICMPv6
 * error, a multicast destination, an unspecified or multicast source, a
 * bad header: RFC 4443 2.4(e)). */
size_t dld_icmp6_unreach(const uint8_t *p, size_t len, const uint8_t from[16], uint8_t code,
			 uint8_t *out, size_t cap);

/* The Internet checksum (RFC 1071) of n bytes. */
uint16_t dld_inet_csum(const uint8_t *p, size_t n);

#endif
