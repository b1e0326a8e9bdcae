/* disklinkd's addresses: parsing and printing a link address, and
 * checking the local address and the peers' (dld_config_resolve); the
 * device a peer's ring is read from. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dld.h"

int dld_addr_parse(const char *text, uint32_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

void dld_addr_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a6->sin6_port));
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a4->sin_port));
	}
}

int dld_config_resolve(struct dld_config *c, char *err, size_t errlen)
{
	if (dld_addr_parse(c->local_text, c->port, &c->local, &c->local_len)) {
		snprintf(err, errlen, "invalid local address '%s': give an IPv4 or IPv6 address",
			 c->local_text);
		return -1;
	}
	for (uint32_t i = 0; i < c->peer_count; i++) {
		struct dld_peer_conf *p = &c->peers[i];

		if (p->node_id == c->node_id) {
			snprintf(err, errlen, "peer %u is this node's own id: list only the other "
				 "nodes", p->node_id);
			return -1;
		}
		if (dld_addr_parse(p->text, c->port, &p->addr, &p->addr_len)) {
			snprintf(err, errlen, "invalid address '%s' of peer %u: give an IPv4 or "
				 "IPv6 address", p->text, p->node_id);
			return -1;
		}
		if (p->addr.ss_family != c->local.ss_family) {
			snprintf(err, errlen, "peer %u address %s is not of the local address's "
				 "family", p->node_id, p->text);
			return -1;
		}
		if (!memcmp(&p->addr, &c->local, c->local_len)) {
			snprintf(err, errlen, "peer %u address %s is the local address: each needs "
				 "its own", p->node_id, p->text);
			return -1;
		}
		for (uint32_t j = 0; j < i; j++)
			if (!memcmp(&p->addr, &c->peers[j].addr, p->addr_len)) {
				snprintf(err, errlen, "peers %u and %u have the same address %s",
					 c->peers[j].node_id, p->node_id, p->text);
				return -1;
			}
	}
	return 0;
}
