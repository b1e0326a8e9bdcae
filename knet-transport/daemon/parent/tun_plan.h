/* TUN mode's address plan (doc/vnic.md): the interface carries one
 * on-link IPv4 prefix, 169.254.0.0/16 by default, and node N's address is
 * the prefix's base plus N: 169.254.(N >> 8).(N & 255).
 *
 * Node ids whose address would land in a held-back /24 (the lab's
 * 169.254.77.0/24, so that the plan never clashes with it), node id 0 and
 * the prefix's broadcast address have no address in the plan: such a node
 * sets its address in the configuration (tun_address).  Addresses are in
 * host byte order here. */
#ifndef DLD_TUN_PLAN_H
#define DLD_TUN_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define DLD_TUN_PREFIX      0xa9fe0000u    /* 169.254.0.0 */
#define DLD_TUN_PREFIX_LEN  16u
#define DLD_TUN_HOLE        0xa9fe4d00u    /* 169.254.77.0/24: the lab's */
#define DLD_TUN_HOLE_LEN    24u

/* Node id -> its address in the plan.  0, or -1/EDOM (no address: id 0,
 * too large for the prefix, the broadcast address, or in the hole). */
int dld_tun_addr_of(uint32_t node_id, uint32_t *addr);
/* Address -> the node id that owns it in the plan.  0, or -1/ENOENT
 * (outside the prefix, or an address no node id maps to). */
int dld_tun_node_of(uint32_t addr, uint32_t *node_id);
/* addr is in the on-link prefix. */
bool dld_tun_in_prefix(uint32_t addr);

/* Node id's IPv4 address on the interface (host order): ss when it is
 * IPv4 (as configured), else its address in the plan, else 0 (corosync
 * mode on an IPv6 link, an id without one: no IPv4). */
uint32_t dld_tun_v4_of(const struct sockaddr_storage *ss, uint32_t node_id);

/* IPv6 (optional, tun_ipv6): a /64 unique local prefix (RFC 4193,
 * fd00::/8), node N's address is prefix::N (the interface identifier is
 * the node id, 1 to 65535).  Addresses and prefixes in network order. */
#define DLD_TUN_PREFIX6_LEN 64u

/* "fdXX:XXXX:XXXX:XXXX::/64" -> the prefix's 8 bytes.  0, or -1/EINVAL
 * (not an IPv6 prefix, not /64, not in fd00::/8, host bits set). */
int dld_tun_prefix6_parse(const char *text, uint8_t prefix[8]);
/* Node id's address in the prefix (node_id 1 to 65535). */
void dld_tun_addr6_of(const uint8_t prefix[8], uint32_t node_id, uint8_t addr[16]);
/* The node id owning addr in the prefix: 0, or -1/ENOENT (outside the
 * prefix, or an interface identifier that is not 1 to 65535). */
int dld_tun_node6_of(const uint8_t prefix[8], const uint8_t addr[16], uint32_t *node_id);

#endif
