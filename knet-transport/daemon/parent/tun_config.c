/* The mode setting and TUN mode's addresses (doc/vnic.md): in TUN mode
 * the local address is this node's address on the interface (from the
 * address plan when not given) and each peer's address is its address
 * there; all are IPv4 addresses in the interface's prefix. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dld.h"
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

int dld_tun_config_check(struct dld_config *c, char *err, size_t errlen)
{
	if (!strcmp(c->mode, "relay"))
		return 0;
	if (strcmp(c->mode, "tun")) {
		snprintf(err, errlen, "invalid mode '%s': give relay or tun", c->mode);
		return -1;
	}
	if (c->link >= 0) {
		snprintf(err, errlen, "mode tun does not take --link: give the node id, port and "
			 "peers (corosync's knet link uses the interface's addresses)");
		return -1;
	}
	if (!c->local_text[0] && c->node_id) {
		uint32_t a;
		struct in_addr ia;

		if (dld_tun_addr_of(c->node_id, &a)) {
			snprintf(err, errlen, "TUN mode: node id %u has no address in the plan "
				 "(doc/vnic.md): give local_addr", c->node_id);
			return -1;
		}
		ia.s_addr = htonl(a);
		inet_ntop(AF_INET, &ia, c->local_text, sizeof(c->local_text));
	}
	if (c->local_text[0] && in_prefix(c->local_text, "node", c->node_id, err, errlen))
		return -1;
	for (uint32_t i = 0; i < c->peer_count; i++)
		if (in_prefix(c->peers[i].text, "peer", c->peers[i].node_id, err, errlen))
			return -1;
	return 0;
}
