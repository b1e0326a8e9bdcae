/* disklinkd: the daemon's one context, its configuration and the pieces
 * shared between its files.  See doc/daemon.md for the architecture. */
#ifndef DLD_H
#define DLD_H

#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <disklink/format.h>

#include "paths.h"

#include "clock.h"
#include "log.h"

#define DLD_MAX_PEERS        (DL_SLOTS_MAX - 1u)
#define DLD_DEFAULT_CONFIG   "/etc/disklink/disklink.conf"
#define DLD_ADDR_TEXT        64

/* Exit statuses (doc/disklinkd.8, EXIT STATUS).  The I/O child uses the
 * same numbers to tell the parent why it stopped. */
enum dld_exit {
	DLD_EXIT_OK = 0,          /* clean stop                              */
	DLD_EXIT_RUNTIME = 1,     /* runtime error (device unavailable ...)  */
	DLD_EXIT_USAGE = 2,       /* usage or configuration error            */
	DLD_EXIT_VOLUME = 3,      /* not a volume of ours, wrong cluster ... */
	DLD_EXIT_COLLISION = 4,   /* node id already active on the volume    */
};

/* Tunables: the config file sets them, SIGHUP rereads them. */
/* max_age_ms outside corosync mode: corosync 3's default knet_ping_timeout
 * (token 3000 ms / knet_pong_count 2). */
#define DLD_MAX_AGE_DEFAULT_MS 1500u

struct dld_tunables {
	uint32_t poll_fast_us;        /* poll period while traffic flows      */
	uint32_t poll_idle_us;        /* poll period when idle                */
	uint32_t fast_window_ms;      /* fast polling after traffic in or out */
	uint32_t header_interval_ms;  /* own slot header refresh              */
	uint32_t io_timeout_ms;       /* request deadline: then "stalled"     */
	uint32_t abandon_ms;          /* stalled this long: kill child (0 no) */
	uint32_t stop_timeout_ms;     /* SIGTERM: wait for a clean stop       */
	uint32_t restart_min_ms;      /* child restart back-off, first        */
	uint32_t restart_max_ms;      /* child restart back-off, limit        */
	uint32_t sb_check_ms;         /* superblock re-read                   */
	uint32_t read_ahead;          /* blocks read per peer while busy      */
	uint32_t max_batch_blocks;    /* blocks written at once (at least one datagram) */
	uint32_t torn_limit;          /* polls before a torn block is skipped */
	uint32_t torn_wait_ms;        /* and time since it was first seen torn */
	uint32_t queue_kib;           /* size of each parent/child queue      */
	uint32_t coalesce_us;         /* hold a datagram for identical copies */
	uint32_t dsync;               /* O_DSYNC writes (next device open)    */
	uint32_t debug;               /* debug logging                        */
	uint32_t lag_warn_ms;         /* mirror lag reported as lag_warn      */
	uint32_t lag_max_ms;          /* lag the disk path cannot carry totem */
	uint32_t frozen_ms;           /* ring and header still this long: frozen (0: 3 header intervals) */
	uint32_t tun_bulk_kib;        /* TUN mode: bulk packets, KiB/s (0: no limit) */
	uint32_t max_age_ms;          /* nothing older is delivered (0: no limit) */
	uint32_t poll_slow_ms;        /* background poll once pings are learned (0: never) */
};

struct dld_peer_conf {
	uint32_t node_id;
	struct sockaddr_storage addr; /* ADDR_M:port, bound here              */
	socklen_t addr_len;
	char text[DLD_ADDR_TEXT];
};

/* A peer's ring read through its own device (a mirror, R2), not --device. */
#define DLD_PEER_DEV_MAX 128
struct dld_peer_dev {
	uint32_t node_id;
	char path[DLD_PEER_DEV_MAX];   /* device path or UUID=<volume uuid> */
};

/* Which settings came from the command line (they win over the file). */
enum dld_set {
	DLD_SET_DEVICE = 1u << 0,
	DLD_SET_NODE_ID = 1u << 1,
	DLD_SET_PORT = 1u << 2,
	DLD_SET_LOCAL = 1u << 3,
	DLD_SET_PEERS = 1u << 4,
	DLD_SET_CONTROL = 1u << 5,
	DLD_SET_NODE_NAME = 1u << 6,
	DLD_SET_LOG_FILE = 1u << 7,
	DLD_SET_DEBUG = 1u << 8,
	DLD_SET_PID_FILE = 1u << 9,
	DLD_SET_LINK = 1u << 10,
	DLD_SET_CLUSTER = 1u << 11,
	DLD_SET_PEER_DEVS = 1u << 12,
	DLD_SET_CONFIG = 1u << 13,      /* --config: a missing file is an error */
	DLD_SET_IO_TIMEOUT = 1u << 14,  /* io_timeout_ms given (timing.h)     */
	DLD_SET_MODE = 1u << 15,        /* --mode (doc/vnic.md)               */
	DLD_SET_MAX_AGE = 1u << 16,     /* max_age_ms given (timing.h)        */
};

struct dld_config {
	char device[PATH_MAX];
	uint32_t node_id;
	char node_name[DL_NODE_NAME_MAX];
	uint32_t port;
	char local_text[DLD_ADDR_TEXT];
	struct sockaddr_storage local; /* the local knet's ADDR:port         */
	socklen_t local_len;
	uint32_t peer_count;
	struct dld_peer_conf peers[DLD_MAX_PEERS];
	uint32_t peer_dev_count;       /* --peer-device ID=DEV              */
	struct dld_peer_dev peer_devs[DLD_MAX_PEERS];
	char cluster[DL_CLUSTER_NAME_MAX]; /* expected cluster name, "" any  */
	char control[108];
	char config_file[PATH_MAX];
	char log_file[PATH_MAX];
	char pid_file[PATH_MAX];
	bool foreground;
	int32_t link;                  /* corosync mode: knet link, else -1  */
	uint32_t set;                  /* enum dld_set bits                  */
	uint32_t given;                /* enum dld_set: set by command line or file */
	int32_t log_target;            /* libqb target of the log file, or -1 */
	uint32_t allow_plaintext;      /* relay without knet crypto (doc/security.md) */
	uint32_t knet_uid;             /* explicit mode: uid owning the knet end */
	char status_group[64];         /* may read status on the control socket */
	char mode[8];                  /* "relay" (loopback) or "tun" (doc/vnic.md) */
	char tun_name[16];             /* TUN mode: the interface (IFNAMSIZ) */
	uint32_t tun_mtu;              /* TUN mode: the interface's MTU      */
	char tun_ipv6[48];             /* TUN mode: the IPv6 ULA /64, "" none */
	char io_engine[8];             /* "auto", "uring" or "psync" (bio_uring.h) */
	struct dld_tunables tun;
};

/* parent/settings.c: every setting at its default (the settings table). */
void dld_config_defaults(struct dld_config *c);
/* parent/config.c */
/* Command line then config file; 0, or the exit status (usage printed). */
int dld_config_load(struct dld_config *c, int argc, char **argv, bool *exit_now);
/* SIGHUP: reread the file's tunables into *tun; logs settings that need a
 * restart.  c: the configuration as given (command line and file, before
 * corosync filled it in).  0, or -1 (logged; the old tunables stay). */
int dld_config_reload(const struct dld_config *c, struct dld_tunables *tun);
/* parent/tun_config.c: check the mode; in TUN mode fill in the local
 * address from the address plan and check the addresses.  0, or -1 with
 * a one-line reason. */
int dld_tun_config_check(struct dld_config *c, char *err, size_t errlen);
/* parent/config_addr.c.  Fill in c->local, the peers' addresses and ports from the text fields and
 * check them (duplicates, families).  0, or -1 with a one-line reason. */
int dld_config_resolve(struct dld_config *c, char *err, size_t errlen);
int dld_addr_parse(const char *text, uint32_t port, struct sockaddr_storage *ss,
		   socklen_t *len);
void dld_addr_format(const struct sockaddr_storage *ss, char *buf, size_t len);

/* The device peer node_id's ring is read from: its --peer-device, or
 * NULL (read it from --device). */
static inline const char *dld_peer_device(const struct dld_config *c, uint32_t node_id)
{
	for (uint32_t i = 0; i < c->peer_dev_count; i++)
		if (c->peer_devs[i].node_id == node_id)
			return c->peer_devs[i].path;
	return NULL;
}

#endif
