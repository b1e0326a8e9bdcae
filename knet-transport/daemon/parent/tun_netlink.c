/* TUN mode: rtnetlink requests (tun_netlink.h).  Each request asks for
 * an acknowledgement and waits for it: the kernel's error comes back as
 * errno. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tun_netlink.h"

struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
	} u;
	uint8_t attrs[64];
};

static void add_attr(struct nl_req *r, uint16_t type, const void *data, uint16_t len)
{
	struct rtattr *ra = (struct rtattr *)((uint8_t *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	ra->rta_type = type;
	ra->rta_len = (uint16_t)RTA_LENGTH(len);
	memcpy(RTA_DATA(ra), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(ra->rta_len);
}

/* Send r and wait for its acknowledgement.  0, or -1 with errno. */
static int transact(int fd, struct nl_req *r, uint32_t seq)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr h;
		uint8_t b[1024];
	} ans;
	ssize_t n;

	r->h.nlmsg_seq = seq;
	r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -1;
	for (;;) {
		n = recv(fd, &ans, sizeof(ans), 0);
		if (n < 0)
			return -1;
		for (struct nlmsghdr *h = &ans.h; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (e->error) {
				errno = -e->error;
				return -1;
			}
			return 0;
		}
	}
}

/* Add address a (family fam) to the interface. */
static int add_addr(int fd, int ifindex, int fam, const void *a, uint32_t prefix_len, uint32_t seq)
{
	struct nl_req r;
	uint16_t n = fam == AF_INET ? 4 : 16;

	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.u.ifa));
	r.h.nlmsg_type = RTM_NEWADDR;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.u.ifa.ifa_family = (uint8_t)fam;
	r.u.ifa.ifa_prefixlen = (uint8_t)prefix_len;
	/* IPv4 link-local; the IPv6 ULA is global scope, no duplicate
	 * detection (the plan gives each node its own address). */
	r.u.ifa.ifa_scope = fam == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	r.u.ifa.ifa_flags = fam == AF_INET ? 0 : IFA_F_NODAD;
	r.u.ifa.ifa_index = (uint32_t)ifindex;
	add_attr(&r, IFA_LOCAL, a, n);
	if (fam == AF_INET)
		add_attr(&r, IFA_ADDRESS, a, n);
	return transact(fd, &r, seq);
}

int dld_nl_configure(int ifindex, uint32_t mtu, uint32_t addr, uint32_t prefix_len,
		     const uint8_t *addr6)
{
	struct nl_req r;
	uint32_t a = htonl(addr);
	int fd, rc = -1, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.u.ifi));
	r.h.nlmsg_type = RTM_NEWLINK;
	r.u.ifi.ifi_family = AF_UNSPEC;
	r.u.ifi.ifi_index = ifindex;
	add_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	if (transact(fd, &r, 1))
		goto out;
	if (addr && add_addr(fd, ifindex, AF_INET, &a, prefix_len, 2))
		goto out;
	if (addr6 && add_addr(fd, ifindex, AF_INET6, addr6, 64, 3))
		goto out;
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.u.ifi));
	r.h.nlmsg_type = RTM_NEWLINK;
	r.u.ifi.ifi_family = AF_UNSPEC;
	r.u.ifi.ifi_index = ifindex;
	r.u.ifi.ifi_flags = IFF_UP;
	r.u.ifi.ifi_change = IFF_UP;
	rc = transact(fd, &r, 4);
out:
	err = errno;
	close(fd);
	errno = err;
	return rc;
}
