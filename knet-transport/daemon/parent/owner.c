/* The owner of the local knet end (owner.h), through inet_diag.  Plain
 * netlink: one dump request of the family's UDP sockets, filtered here
 * on the port and address (no libnl: the daemon links nothing it does
 * not need, and the request is one struct). */
#include "config.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "owner.h"

#define OWNER_BUF 16384u

/* Does the socket id bind the address and port of addr (or the
 * wildcard on that port)? */
static int matches(const struct inet_diag_sockid *id, const struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)addr;

		return id->idiag_sport == a->sin_port &&
		       (id->idiag_src[0] == a->sin_addr.s_addr || id->idiag_src[0] == 0);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
		static const uint32_t any[4] = { 0, 0, 0, 0 };

		return id->idiag_sport == a->sin6_port &&
		       (!memcmp(id->idiag_src, &a->sin6_addr, 16) ||
			!memcmp(id->idiag_src, any, 16));
	}
}

static int ask(int fd, int family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1,
		},
		.req = {
			.sdiag_family = (uint8_t)family,
			.sdiag_protocol = IPPROTO_UDP,
			.idiag_states = ~0u,
		},
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return -1;
	return 0;
}

static void take(const struct inet_diag_msg *m, const struct sockaddr_storage *addr,
		 uid_t want, struct dld_owner *o)
{
	if (!matches(&m->id, addr))
		return;
	if (o->count == 0 || (o->uid == want && m->idiag_uid != want)) {
		o->uid = m->idiag_uid;
		o->inode = m->idiag_inode;
	}
	o->count++;
}

/* Read the dump: 1 at its end, 0 for more, -1 on error. */
static int read_part(int fd, const struct sockaddr_storage *addr, uid_t want,
		     struct dld_owner *o, uint8_t *buf)
{
	ssize_t n = recv(fd, buf, OWNER_BUF, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;

	if (n < 0)
		return -1;
	for (size_t left = (size_t)n; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			errno = e->error ? -e->error : EPROTO;
			return -1;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			take(NLMSG_DATA(h), addr, want, o);
	}
	return 0;
}

int dld_owner_lookup(const struct sockaddr_storage *addr, uid_t want, struct dld_owner *o)
{
	uint8_t buf[OWNER_BUF] __attribute__((aligned(8)));
	int fd, r = 0, err;

	*o = (struct dld_owner){ .uid = want };
	if (addr->ss_family != AF_INET && addr->ss_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	if (ask(fd, addr->ss_family) == 0)
		while ((r = read_part(fd, addr, want, o, buf)) == 0)
			;
	else
		r = -1;
	err = errno;
	close(fd);
	if (r < 0) {
		errno = err;
		return -1;
	}
	return 0;
}
