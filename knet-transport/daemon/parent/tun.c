/* TUN mode: the interface's life (tun.h).  It is created only under a
 * name no interface has, configured over rtnetlink (tun_netlink.c) while
 * the daemon still has CAP_NET_ADMIN, and it is not persistent: it goes
 * away with the fd, on stop, on a failed start and when the daemon dies. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctx.h"
#include "tun_io.h"
#include "tun_netlink.h"
#include "tun_plan.h"

#define TUN_DEV "/dev/net/tun"

__attribute__((format(printf, 3, 4)))
static int fail(struct dld_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	log_err(DLD_SUB_TUN, "%s", ctx->error);
	ctx->exit_code = code;
	return -1;
}

/* The host has address a (family fam, n bytes) on ifname. */
static bool host_has(const struct ifaddrs *all, int fam, const void *a, char *ifname, size_t len)
{
	for (const struct ifaddrs *i = all; i; i = i->ifa_next) {
		const void *b;

		if (!i->ifa_addr || i->ifa_addr->sa_family != fam)
			continue;
		b = fam == AF_INET ? (const void *)&((const struct sockaddr_in *)i->ifa_addr)->sin_addr :
				     (const void *)&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (!memcmp(a, b, fam == AF_INET ? 4 : 16)) {
			snprintf(ifname, len, "%s", i->ifa_name);
			return true;
		}
	}
	return false;
}

/* Node id's addresses (ss: as configured) on one of the host's
 * interfaces: its name in ifname, the address in what, true. */
static bool clash_one(const struct dld_ctx *ctx, const struct ifaddrs *all,
		      const struct sockaddr_storage *ss, uint32_t id, char *ifname, size_t len,
		      char *what, size_t wlen)
{
	uint32_t a4 = htonl(dld_tun_v4_of(ss, id));
	uint8_t a6[16];

	if (a4 && host_has(all, AF_INET, &a4, ifname, len)) {
		inet_ntop(AF_INET, &a4, what, (socklen_t)wlen);
		return true;
	}
	if (!ctx->vnic.v6)
		return false;
	dld_tun_addr6_of(ctx->vnic.prefix6, id, a6);
	if (!host_has(all, AF_INET6, a6, ifname, len))
		return false;
	inet_ntop(AF_INET6, a6, what, (socklen_t)wlen);
	return true;
}

/* An address of ours or of a peer already on one of the host's
 * interfaces: its name in ifname, true. */
static bool clash(const struct dld_ctx *ctx, char *ifname, size_t len, char *what, size_t wlen)
{
	struct ifaddrs *all;
	bool found;

	if (getifaddrs(&all))
		return false;
	found = clash_one(ctx, all, &ctx->cfg.local, ctx->cfg.node_id, ifname, len, what, wlen);
	for (uint32_t p = 0; p < ctx->cfg.peer_count && !found; p++)
		found = clash_one(ctx, all, &ctx->cfg.peers[p].addr, ctx->cfg.peers[p].node_id,
				  ifname, len, what, wlen);
	freeifaddrs(all);
	return found;
}

/* Open the device and create the interface: the fd, or -1 (ctx->error). */
static int create(struct dld_ctx *ctx, const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd, err;

	fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT || err == ENODEV || err == ENXIO)
			return fail(ctx, DLD_EXIT_RUNTIME, "no %s: load the tun module (modprobe "
				    "tun) or give the service the device", TUN_DEV);
		return fail(ctx, DLD_EXIT_RUNTIME, "cannot open %s: %s", TUN_DEV, strerror(err));
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		err = errno;
		close(fd);
		if (err == EPERM || err == EACCES)
			return fail(ctx, DLD_EXIT_RUNTIME, "cannot create the interface %s: no "
				    "CAP_NET_ADMIN (run as root or grant it)", name);
		if (err == EBUSY || err == EEXIST || err == EINVAL)
			return fail(ctx, DLD_EXIT_USAGE, "the interface name %s is taken: "
				    "choose another tun_name", name);
		return fail(ctx, DLD_EXIT_RUNTIME, "cannot create the interface %s: %s", name,
			    strerror(err));
	}
	return fd;
}

/* The interface's addresses from the configuration. */
static void addresses(struct dld_ctx *ctx)
{
	struct dld_vnic *v = &ctx->vnic;

	v->addr = dld_tun_v4_of(&ctx->cfg.local, ctx->cfg.node_id);
	v->v6 = ctx->cfg.tun_ipv6[0] && !dld_tun_prefix6_parse(ctx->cfg.tun_ipv6, v->prefix6);
	if (v->v6)
		dld_tun_addr6_of(v->prefix6, ctx->cfg.node_id, v->addr6);
}

static int configure_failed(struct dld_ctx *ctx, const char *name)
{
	int err = errno;

	close(ctx->vnic.fd);           /* not persistent: the interface goes */
	ctx->vnic.fd = -1;
	if (err == EPERM || err == EACCES)
		return fail(ctx, DLD_EXIT_RUNTIME, "cannot configure the interface %s: "
			    "no CAP_NET_ADMIN", name);
	return fail(ctx, DLD_EXIT_RUNTIME, "cannot configure the interface %s: %s", name,
		    strerror(err));
}

int dld_tun_configure(struct dld_ctx *ctx)
{
	const char *name = ctx->cfg.tun_name;
	char on[IF_NAMESIZE + 1], what[INET6_ADDRSTRLEN];
	char a4[INET_ADDRSTRLEN] = "no IPv4", a6[INET6_ADDRSTRLEN] = "";
	struct in_addr ia;

	addresses(ctx);
	if (clash(ctx, on, sizeof(on), what, sizeof(what))) {
		close(ctx->vnic.fd);
		ctx->vnic.fd = -1;
		return fail(ctx, DLD_EXIT_USAGE, "the address %s is already on the host's "
			    "interface %s: give TUN mode addresses of its own", what, on);
	}
	ctx->vnic.ifindex = (int)if_nametoindex(name);
	if (!ctx->vnic.ifindex ||
	    dld_nl_configure(ctx->vnic.ifindex, ctx->cfg.tun_mtu, ctx->vnic.addr,
			     DLD_TUN_PREFIX_LEN, ctx->vnic.v6 ? ctx->vnic.addr6 : NULL))
		return configure_failed(ctx, name);
	if (dld_loop_add(&ctx->loop, ctx->vnic.fd, EPOLLIN, dld_tun_on_readable, ctx)) {
		close(ctx->vnic.fd);
		ctx->vnic.fd = -1;
		return fail(ctx, DLD_EXIT_RUNTIME, "cannot watch the interface %s: %s", name,
			    strerror(errno));
	}
	ia.s_addr = htonl(ctx->vnic.addr);
	if (ctx->vnic.addr)
		inet_ntop(AF_INET, &ia, a4, sizeof(a4));
	if (ctx->vnic.v6)
		inet_ntop(AF_INET6, ctx->vnic.addr6, a6, sizeof(a6));
	log_notice(DLD_SUB_TUN, "interface %s up: %s/%u%s%s%s, MTU %u, %u peers", name, a4,
		   DLD_TUN_PREFIX_LEN, a6[0] ? ", " : "", a6, a6[0] ? "/64" : "",
		   ctx->cfg.tun_mtu, ctx->cfg.peer_count);
	return 0;
}

int dld_tun_open(struct dld_ctx *ctx)
{
	const char *name = ctx->cfg.tun_name;

	if (strcmp(ctx->cfg.mode, "tun"))
		return 0;
	if (if_nametoindex(name))
		return fail(ctx, DLD_EXIT_USAGE, "the interface name %s is taken: disklinkd "
			    "never takes an interface it did not create (choose another tun_name)",
			    name);
	ctx->vnic.fd = create(ctx, name);
	if (ctx->vnic.fd < 0)
		return -1;
	if (ctx->cfg.link >= 0)
		return 0;              /* corosync gives the addresses */
	return dld_tun_configure(ctx);
}

bool dld_tun_pending(const struct dld_ctx *ctx)
{
	return ctx->vnic.fd >= 0 && ctx->cfg.link >= 0 && !ctx->cs.configured;
}

int dld_tun_update(struct dld_ctx *ctx, const struct dld_config *nc, char *err, size_t errlen)
{
	if (strcmp(nc->local_text, ctx->cfg.local_text)) {
		snprintf(err, errlen, "corosync.conf now gives this node ring%d_addr %s, not %s: "
			 "the interface keeps %s until disklinkd restarts", nc->link, nc->local_text,
			 ctx->cfg.local_text, ctx->cfg.local_text);
		return -1;
	}
	ctx->cfg.peer_count = nc->peer_count;
	memcpy(ctx->cfg.peers, nc->peers, sizeof(ctx->cfg.peers));
	return 0;
}

void dld_tun_close(struct dld_ctx *ctx)
{
	dld_tun_io_stop(ctx);
	if (ctx->vnic.fd < 0)
		return;
	dld_loop_del(&ctx->loop, ctx->vnic.fd);
	close(ctx->vnic.fd);
	ctx->vnic.fd = -1;
	log_notice(DLD_SUB_TUN, "interface %s removed", ctx->cfg.tun_name);
}
