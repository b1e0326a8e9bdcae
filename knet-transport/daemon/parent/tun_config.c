/* The mode setting and TUN mode's addresses (doc/vnic.md): in TUN mode
 * the local address is this node's address on the interface (from the
 * address plan when not given) and each peer's address is its address
 * there; all are IPv4 addresses in the interface's prefix.  In corosync
 * mode (--link N) they come from corosync.conf's link N, whose ringN_addr
 * must then be the nodes' dl0 addresses: in 169.254.0.0/16, or each
 * node's address in the IPv6 prefix (tun_ipv6) when the link is IPv6. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dld.h"
#include "tun.h"
#include "tun_plan.h"

static int in_prefix(const char *text, const char *what, uint32_t id, char *err, size_t errlen)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) == 1 && dld_tun_in_prefix(ntohl(a.s_addr)))
		return 0;
	snprintf(err, errlen, "TUN mode: the address '%s' of %s %u is not in 169.254.0.0/16 "
		 "(the interface's prefix, doc/vnic.md)", text, what, id);
	return -1;
}

/* Explicit mode: this node's address from the plan when not given. */
static int local_default(struct dld_config *c, char *err, size_t errlen)
{
	uint32_t a;
	struct in_addr ia;

	if (dld_tun_addr_of(c->node_id, &a)) {
		snprintf(err, errlen, "TUN mode: node id %u has no address in the plan "
			 "(doc/vnic.md): give local_addr", c->node_id);
		return -1;
	}
	ia.s_addr = htonl(a);
	inet_ntop(AF_INET, &ia, c->local_text, sizeof(c->local_text));
	return 0;
}

int dld_tun_config_check(struct dld_config *c, char *err, size_t errlen)
{
	uint8_t p6[8];

	if (!strcmp(c->mode, "relay"))
		return 0;
	if (strcmp(c->mode, "tun")) {
		snprintf(err, errlen, "invalid mode '%s': give relay or tun", c->mode);
		return -1;
	}
	if (c->tun_ipv6[0] && dld_tun_prefix6_parse(c->tun_ipv6, p6)) {
		snprintf(err, errlen, "TUN mode: tun_ipv6 '%s' is not a unique local /64 prefix: "
			 "give fdXX:XXXX:XXXX:XXXX::/64 (RFC 4193, doc/vnic.md)", c->tun_ipv6);
		return -1;
	}
	/* Corosync mode: the node id and addresses come later, from cmap. */
	if (!c->local_text[0] && c->node_id && c->link < 0 && local_default(c, err, errlen))
		return -1;
	if (c->local_text[0] && in_prefix(c->local_text, "node", c->node_id, err, errlen))
		return -1;
	for (uint32_t i = 0; i < c->peer_count; i++)
		if (in_prefix(c->peers[i].text, "peer", c->peers[i].node_id, err, errlen))
			return -1;
	return 0;
}

/* A ringN_addr of node id on a TUN mode link: its dl0 address. */
static bool dl0_addr(const struct dld_config *c, const char *text, uint32_t id)
{
	struct in_addr a;
	uint8_t a6[16], p6[8], want[16];

	if (inet_pton(AF_INET, text, &a) == 1)
		return dld_tun_in_prefix(ntohl(a.s_addr));
	if (!c->tun_ipv6[0] || inet_pton(AF_INET6, text, a6) != 1 ||
	    dld_tun_prefix6_parse(c->tun_ipv6, p6))
		return false;
	dld_tun_addr6_of(p6, id, want);
	return !memcmp(a6, want, sizeof(want));
}

int dld_tun_corosync_check(const struct dld_config *c, char *err, size_t errlen)
{
	const char *text = c->local_text;
	uint32_t id = c->node_id;

	if (strcmp(c->mode, "tun"))
		return 0;
	for (uint32_t i = 0; i <= c->peer_count; i++) {
		if (i) {
			text = c->peers[i - 1].text;
			id = c->peers[i - 1].node_id;
		}
		if (dl0_addr(c, text, id))
			continue;
		snprintf(err, errlen, "TUN mode: corosync.conf gives node %u ring%d_addr %s, not "
			 "its dl0 address (in 169.254.0.0/16%s%s): put link %d on the dl0 addresses "
			 "(disklink corosync-link --tun --link %d)", id, c->link, text,
			 c->tun_ipv6[0] ? ", or prefix::node id in " : "", c->tun_ipv6, c->link, c->link);
		return -1;
	}
	return 0;
}
