/* Timing guards: disklinkd's deadlines against knet's.  knet declares a
 * link down when no pong came within knet_ping_timeout (corosync's
 * runtime.config.totem.interface.N.knet_ping_timeout, token /
 * knet_pong_count: 1500 ms with corosync 3's defaults).  A disk that
 * stalls must be seen as stalled well before that, so in corosync mode
 * the default io_timeout_ms is a third of it (followed across corosync
 * reloads), and a warning goes to the log, systemd's STATUS= and the
 * status when io_timeout_ms or the measured link latency reaches half of
 * it.  The maximum datagram age (max_age_ms) defaults to knet_ping_timeout
 * itself, likewise followed. */
#ifndef DLD_TIMING_H
#define DLD_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct dld_ctx;

#define DLD_TIMING_RETRY_MS  5000u    /* reconnect to cmap               */
#define DLD_TIMING_WARN_MAX  200u

struct dld_timing {
	bool active;                   /* corosync mode: follows cmap       */
	bool connected;
	bool changed;                  /* a tracked key changed             */
	bool io_timeout_given;         /* the operator set io_timeout_ms    */
	uint64_t cmap;                 /* cmap_handle_t                     */
	uint64_t track;                /* cmap_track_handle_t               */
	int fd;                        /* cmap's fd, -1: none               */
	uint64_t retry_ns;             /* next connection attempt           */
	uint32_t ping_timeout_ms;      /* 0: unknown                        */
	uint32_t derived_ms;           /* io_timeout_ms set from it, 0: none */
	bool max_age_given;            /* the operator set max_age_ms       */
	uint32_t age_derived_ms;       /* max_age_ms set from it, 0: none   */
	char warning[DLD_TIMING_WARN_MAX]; /* "": none                      */
	struct dld_lograte warn_log;
};

/* The default io_timeout_ms for a knet_ping_timeout: a third of it, at
 * least 100 ms. */
uint32_t dld_timing_default_io_timeout(uint32_t ping_timeout_ms);
/* Is io_timeout_ms or the link latency (us) within half of
 * ping_timeout_ms?  true with the warning's text in buf. */
bool dld_timing_check(uint32_t ping_timeout_ms, uint32_t io_timeout_ms, uint64_t latency_us,
		      char *buf, size_t len);

/* Corosync mode: read knet_ping_timeout of the link from cmap and track
 * it (a failure is retried from dld_timing_tick).  Explicit mode: none
 * is known, io_timeout_ms stays as configured. */
void dld_timing_start(struct dld_ctx *ctx);
void dld_timing_stop(struct dld_ctx *ctx);
/* A knet_ping_timeout (0: unknown): derive io_timeout_ms and max_age_ms
 * when the operator did not set them, and check. */
void dld_timing_set_ping(struct dld_ctx *ctx, uint32_t ping_timeout_ms);
/* After SIGHUP: an io_timeout_ms (max_age_ms) other than the derived one
 * is the operator's from now on; else the derived one stays. */
void dld_timing_reloaded(struct dld_ctx *ctx);
/* The parent's tick: reconnect, and check the latencies measured. */
void dld_timing_tick(struct dld_ctx *ctx, uint64_t now);

#endif
