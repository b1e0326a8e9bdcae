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

static uint32_t v4(const struct sockaddr_storage *ss)
{
	return ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
}

/* An address of ours or of a peer already on one of the host's
 * interfaces: its name in ifname, true. */
static bool clash(const struct dld_ctx *ctx, char *ifname, size_t len, char *what, size_t wlen)
{
	struct ifaddrs *all, *i;
	bool found = false;

	if (getifaddrs(&all))
		return false;
	for (i = all; i && !found; i = i->ifa_next) {
		struct sockaddr_storage ss = { 0 };

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		memcpy(&ss, i->ifa_addr, sizeof(struct sockaddr_in));
		if (v4(&ss) == v4(&ctx->cfg.local))
			found = snprintf(what, wlen, "%s", ctx->cfg.local_text) > 0;
		for (uint32_t p = 0; p < ctx->cfg.peer_count && !found; p++)
			if (v4(&ss) == v4(&ctx->cfg.peers[p].addr))
				found = snprintf(what, wlen, "%s", ctx->cfg.peers[p].text) > 0;
		if (found)
			snprintf(ifname, len, "%s", i->ifa_name);
	}
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

int dld_tun_open(struct dld_ctx *ctx)
{
	const char *name = ctx->cfg.tun_name;
	char on[IF_NAMESIZE + 1], what[DLD_ADDR_TEXT];
	int fd;

	if (strcmp(ctx->cfg.mode, "tun"))
		return 0;
	if (if_nametoindex(name))
		return fail(ctx, DLD_EXIT_USAGE, "the interface name %s is taken: disklinkd "
			    "never takes an interface it did not create (choose another tun_name)",
			    name);
	if (clash(ctx, on, sizeof(on), what, sizeof(what)))
		return fail(ctx, DLD_EXIT_USAGE, "the address %s is already on the host's "
			    "interface %s: give TUN mode addresses of its own", what, on);
	fd = create(ctx, name);
	if (fd < 0)
		return -1;
	ctx->vnic.ifindex = (int)if_nametoindex(name);
	ctx->vnic.addr = v4(&ctx->cfg.local);
	if (!ctx->vnic.ifindex ||
	    dld_nl_configure(ctx->vnic.ifindex, ctx->cfg.tun_mtu, ctx->vnic.addr,
			     DLD_TUN_PREFIX_LEN)) {
		int err = errno;

		close(fd);             /* not persistent: the interface goes */
		if (err == EPERM || err == EACCES)
			return fail(ctx, DLD_EXIT_RUNTIME, "cannot configure the interface %s: "
				    "no CAP_NET_ADMIN", name);
		return fail(ctx, DLD_EXIT_RUNTIME, "cannot configure the interface %s: %s", name,
			    strerror(err));
	}
	if (dld_loop_add(&ctx->loop, fd, EPOLLIN, dld_tun_on_readable, ctx)) {
		close(fd);
		return fail(ctx, DLD_EXIT_RUNTIME, "cannot watch the interface %s: %s", name,
			    strerror(errno));
	}
	ctx->vnic.fd = fd;
	log_notice(DLD_SUB_TUN, "interface %s up: %s/%u, MTU %u, %u peers", name,
		   ctx->cfg.local_text, DLD_TUN_PREFIX_LEN, ctx->cfg.tun_mtu, ctx->cfg.peer_count);
	return 0;
}

void dld_tun_close(struct dld_ctx *ctx)
{
	if (ctx->vnic.fd < 0)
		return;
	dld_loop_del(&ctx->loop, ctx->vnic.fd);
	close(ctx->vnic.fd);
	ctx->vnic.fd = -1;
	log_notice(DLD_SUB_TUN, "interface %s removed", ctx->cfg.tun_name);
}
