/* TUN mode (doc/vnic.md): a layer-3 network interface (default dl0)
 * whose packets travel through the volume.  Each packet read from it
 * becomes one record in the tx queue, addressed to the peer that owns its
 * destination address; each packet the I/O child delivers is checked
 * (IPv4 or IPv6, from that peer's address) and written into it.  The fd lives in
 * the parent: a stuck I/O child cannot keep the interface, and closing
 * the fd removes it (the interface is not persistent). */
#ifndef DLD_TUN_H
#define DLD_TUN_H

#include <stdbool.h>
#include <stdint.h>

#include "dl_clock.h"
#include "log.h"
#include "tun_queue.h"

struct dld_ctx;
struct dld_config;

struct dld_vnic_stats {
	uint64_t pkts_out, bytes_out;  /* from the interface, queued for the disk */
	uint64_t pkts_in, bytes_in;    /* from the disk, written into the interface */
	uint64_t icmp_sent;            /* unreachables written back           */
	uint64_t bad_drops;            /* not IP, bad header, IPv6 off, the
					* kernel's own IPv6 multicast        */
	uint64_t bulk_drops;           /* bulk queue full, its packet too old or
					* its peer down, the daemon stopped;
					* no limit: the tx queue half full   */
	uint64_t bulk_queued;          /* bulk packets waiting for tokens now */
	uint64_t queue_drops;          /* tx queue full, or no child          */
	uint64_t rx_drops;             /* delivered packets refused or unwritable */
};

struct dld_vnic {
	int fd;                        /* -1: relay mode, or not open         */
	int ifindex;
	uint32_t addr;                 /* this node's address, host order; 0: no IPv4 */
	bool v6;                       /* tun_ipv6: IPv6 on the interface too */
	uint8_t prefix6[8];            /* its /64 prefix                      */
	uint8_t addr6[16];             /* this node's address in it           */
	uint64_t tokens;               /* bulk bytes that may go now          */
	uint64_t refill_ns;            /* when tokens were last refilled      */
	const struct dl_clock *clock;  /* NULL: the system's (a test sets one) */
	int bulk_tfd;                  /* the bulk queue's release timer      */
	bool bulk_timer;               /* bulk_tfd is open and watched        */
	struct dld_lograte bulk_log;   /* the timer could not be made          */
	struct dld_tunq bulk;          /* bulk waiting for tokens (tun_queue.h) */
	struct dld_vnic_stats st;
};

/* In TUN mode, create the interface, configure it and watch it (before
 * the capabilities are dropped).  0 (also in relay mode), or -1 with the
 * one-line reason in ctx->error and the exit status in ctx->exit_code;
 * no interface is left then.  In corosync mode the interface is only
 * created (its name taken): dld_tun_configure gives it its addresses
 * once corosync gave them, and the capabilities are dropped then. */
int dld_tun_open(struct dld_ctx *ctx);
/* Corosync mode: the interface exists and waits for its addresses (the
 * daemon keeps CAP_NET_ADMIN until then). */
bool dld_tun_pending(const struct dld_ctx *ctx);
/* Configure the interface with ctx->cfg's addresses and watch it.  0, or
 * -1 as dld_tun_open (the interface is removed). */
int dld_tun_configure(struct dld_ctx *ctx);
/* Corosync mode, TUN mode: corosync's ringN_addr (in c) are the nodes'
 * dl0 addresses.  0, or -1 with a one-line reason naming the fix. */
int dld_tun_corosync_check(const struct dld_config *c, char *err, size_t errlen);
/* Corosync mode, a reload: take nc's peers; this node's address stays
 * (0), or -1 with the reason when corosync changed it. */
int dld_tun_update(struct dld_ctx *ctx, const struct dld_config *nc, char *err, size_t errlen);
/* Remove the interface (close its fd). */
void dld_tun_close(struct dld_ctx *ctx);
/* The child delivered packets: write each into the interface. */
void dld_tun_deliver(struct dld_ctx *ctx);

#endif
