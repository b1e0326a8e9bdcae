/* TUN mode: what a packet read from the interface is, and the ICMP
 * errors written back into it (doc/vnic.md).  Pure functions over the
 * packet's bytes (IFF_NO_PI: the packet starts with its IP header). */
#ifndef DLD_TUN_PKT_H
#define DLD_TUN_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dld_pkt_kind {
	DLD_PKT_BAD = 0,       /* not an IPv4 packet we carry (IPv6, short, bad header) */
	DLD_PKT_UNICAST,       /* to one node of the plan: info.node    */
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
	uint32_t src, dst;     /* host byte order                       */
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

/* The Internet checksum (RFC 1071) of n bytes. */
uint16_t dld_inet_csum(const uint8_t *p, size_t n);

#endif
