/* TUN mode's address plan (tun_plan.h, doc/vnic.md). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tun_plan.h"

static uint32_t mask_of(uint32_t len)
{
	return len ? ~0u << (32u - len) : 0u;
}

bool dld_tun_in_prefix(uint32_t addr)
{
	return (addr & mask_of(DLD_TUN_PREFIX_LEN)) == DLD_TUN_PREFIX;
}

static bool usable(uint32_t addr)
{
	uint32_t host = addr & ~mask_of(DLD_TUN_PREFIX_LEN);

	return dld_tun_in_prefix(addr) && host != 0 && host != ~mask_of(DLD_TUN_PREFIX_LEN) &&
	       (addr & mask_of(DLD_TUN_HOLE_LEN)) != DLD_TUN_HOLE;
}

int dld_tun_addr_of(uint32_t node_id, uint32_t *addr)
{
	uint32_t a = DLD_TUN_PREFIX + node_id;

	if (node_id > ~mask_of(DLD_TUN_PREFIX_LEN) || !usable(a)) {
		errno = EDOM;
		return -1;
	}
	*addr = a;
	return 0;
}

int dld_tun_node_of(uint32_t addr, uint32_t *node_id)
{
	if (!usable(addr)) {
		errno = ENOENT;
		return -1;
	}
	*node_id = addr & ~mask_of(DLD_TUN_PREFIX_LEN);
	return 0;
}

int dld_tun_prefix6_parse(const char *text, uint8_t prefix[8])
{
	char buf[64];
	const char *slash = strchr(text, '/');
	uint8_t a[16];

	if (!slash || strcmp(slash, "/64") || (size_t)(slash - text) >= sizeof(buf))
		goto bad;
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash - text), text);
	if (inet_pton(AF_INET6, buf, a) != 1 || a[0] != 0xfd)
		goto bad;
	for (size_t i = 8; i < 16; i++)
		if (a[i])
			goto bad;
	memcpy(prefix, a, 8);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

void dld_tun_addr6_of(const uint8_t prefix[8], uint32_t node_id, uint8_t addr[16])
{
	memcpy(addr, prefix, 8);
	memset(addr + 8, 0, 8);
	addr[12] = (uint8_t)(node_id >> 24);
	addr[13] = (uint8_t)(node_id >> 16);
	addr[14] = (uint8_t)(node_id >> 8);
	addr[15] = (uint8_t)node_id;
}

int dld_tun_node6_of(const uint8_t prefix[8], const uint8_t addr[16], uint32_t *node_id)
{
	uint32_t id = (uint32_t)addr[14] << 8 | addr[15];

	if (memcmp(addr, prefix, 8) || addr[8] || addr[9] || addr[10] || addr[11] || addr[12] ||
	    addr[13] || !id) {
		errno = ENOENT;
		return -1;
	}
	*node_id = id;
	return 0;
}

uint32_t dld_tun_v4_of(const struct sockaddr_storage *ss, uint32_t node_id)
{
	uint32_t a = 0;

	if (ss->ss_family == AF_INET)
		return ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
	if (dld_tun_addr_of(node_id, &a))
		a = 0;
	return a;
}
