/* TUN mode's address plan (tun_plan.h, doc/vnic.md). */
#include "config.h"

#include <errno.h>

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
