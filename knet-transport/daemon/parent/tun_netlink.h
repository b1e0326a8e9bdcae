/* TUN mode: the interface's configuration over rtnetlink (doc/vnic.md
 * says why plain netlink: three requests, no new library). */
#ifndef DLD_TUN_NETLINK_H
#define DLD_TUN_NETLINK_H

#include <stdint.h>

/* Give interface ifindex the MTU, the IPv4 address addr/prefix_len (host
 * order; 0: none), the IPv6 address addr6/64 (network order; NULL: none)
 * and bring it up, each request acknowledged by the kernel.  0, or -1
 * with errno (the kernel's answer). */
int dld_nl_configure(int ifindex, uint32_t mtu, uint32_t addr, uint32_t prefix_len,
		     const uint8_t *addr6);

#endif
