/* The status a reply shows, filled in one place (status_view.c) from the
 * context and the I/O child's snapshot; the outputs only print it: JSON
 * ("status", status_json.c), shell assignments ("status shell",
 * status_shell.c) and the table ("status text", status_text.c).  JSON
 * and shell walk the same keys (dld_status_emit). */
#ifndef DLD_STATUS_VIEW_H
#define DLD_STATUS_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "shm_queue.h"
#include "tun.h"

struct dld_ctx;

struct dld_peer_view {
	uint32_t node_id;
	const char *addr;
	const char *state;             /* up, stale, down, unknown          */
	int32_t slot;
	uint64_t generation;
	bool seen;                     /* a block was read from it          */
	uint64_t last_block_age_ns;    /* when seen                         */
	const struct dl_reader_stats *rs;
	uint64_t dgrams_out, bytes_out;   /* from local knet to the disk    */
	uint64_t dgrams_to_knet, knet_send_drops;
	uint64_t latency_us;
	/* The path the peer's ring is read from (doc/replication.md). */
	const char *path;
	const char *path_error;        /* "": none                          */
	const char *mirror;
	bool lag_known;
	int64_t lag_ms;
	bool lag_warn, lag_max_exceeded;
	const char *role;
};

struct dld_status_view {
	uint32_t node_id;
	const char *node_name, *device, *volume_uuid, *cluster;
	int32_t slot;                  /* -1 without an I/O child           */
	uint64_t generation;
	const char *device_state;
	char device_error[256];
	const struct dld_io_status *io;
	uint64_t stalled_ms, coalesced;
	uint64_t foreign_drops, tx_queue_drops, rx_queue_drops;
	uint64_t owner_drops;          /* of foreign_drops: the knet end's owner */
	uint64_t refused_drops;        /* not relayed: the link is refused  */
	const char *link_refused;      /* why (the crypto guard), or ""     */
	const char *crypto;            /* "on", "plaintext", "refused", "unknown" */
	uint32_t port;
	const char *local_addr;
	int link;                      /* -1: no corosync link              */
	const char *corosync;
	const char *corosync_why;      /* why not configured, or ""         */
	uint32_t corosync_reloads;
	const char *role;
	uint32_t lag_warn_ms, lag_max_ms;
	int pid, io_pid;
	uint32_t io_restarts;
	uint64_t uptime_s;
	uint32_t io_timeout_ms;
	uint32_t max_age_ms;           /* 0: no limit                       */
	uint64_t aged_read;            /* the I/O child's reader (age rules) */
	uint64_t aged_delivery;        /* the parent's delivery path        */
	uint32_t knet_ping_timeout_ms; /* 0: unknown (explicit mode)        */
	const char *timing_warning;    /* "": none (timing.h)               */
	/* TUN mode (doc/vnic.md): NULL in relay mode. */
	const struct dld_vnic_stats *tun;
	const char *tun_name;
	uint32_t tun_mtu, tun_prefix_len;
	uint32_t peer_count;
	struct dld_peer_view peers[DLD_MAX_PEERS];
};

/* Fill v from ctx (the snapshot taken for this reply); v points into
 * ctx, and is valid until ctx changes. */
void dld_status_view(struct dld_ctx *ctx, struct dld_status_view *v);

/* What an output does with one key of the view; key is NULL for an
 * element of an array.  open takes '{' or '[', close '}' or ']'. */
struct dld_status_sink {
	void (*open)(struct dld_status_sink *s, const char *key, char kind);
	void (*close)(struct dld_status_sink *s, char kind);
	void (*str)(struct dld_status_sink *s, const char *key, const char *v);
	void (*u64)(struct dld_status_sink *s, const char *key, uint64_t v);
	void (*i64)(struct dld_status_sink *s, const char *key, int64_t v);
	void (*boolean)(struct dld_status_sink *s, const char *key, bool v);
	void (*null)(struct dld_status_sink *s, const char *key);
};

/* Walk the keys of the JSON document (the pinned interface of `disklink
 * status --json`, doc/disklinkd.8), in their order, into s. */
void dld_status_emit(const struct dld_status_view *v, struct dld_status_sink *s);

#endif
