/* The parent process's one context: sockets, control, signals, timers,
 * the I/O child it supervises and the counters only it keeps.  The
 * parent never touches the device.
 *
 * Each part registers its fds in ctx->loop with its own handler
 * (loop.h, which also states the parent's error conventions); main.c
 * only wires the parts together, and no part calls into main.c.  The
 * calls between the parts go one way:
 *   control -> role -> supervise,
 *   control -> status_* -> mirror_status -> corosync_mode -> cmap_config,
 *   corosync_mode -> crypto_guard,
 *   corosync_mode -> sockets -> owner,
 *   corosync_mode -> sockets -> supervise -> (the I/O child),
 *   timing -> supervise (io_timeout_ms derived from knet's ping timeout),
 *   main -> tun -> tun_io -> supervise (TUN mode, tun.h),
 *   corosync_mode -> tun, privileges (TUN mode in corosync mode),
 * and the child's channel handler (ctx->on_child_rx) is given by main.c. */
#ifndef DLD_CTX_H
#define DLD_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "coalesce.h"
#include "corosync_mode.h"
#include "dld.h"
#include "inflight.h"
#include "loop.h"
#include "shm_queue.h"
#include "timing.h"
#include "tun.h"

#define DLD_CTL_CLIENTS 64          /* silent clients cannot lock out the agent */
#define DLD_CTL_IDLE_MS 2000u       /* a client that sends no line is closed */
#define DLD_CTL_REPLY_MAX (256u << 10) /* a reply larger is cut            */
#define DLD_TICK_MS     100u           /* deadline and restart checks  */
#define DLD_RECV_BUF    65536u
#define DLD_ANSWER_MAX  300u           /* a role answer, one line      */

struct dld_peer_rt {
	int fd;                        /* bound on the peer's link address  */
	uint64_t dgrams_out, bytes_out;   /* from local knet, queued for the disk */
	uint64_t dgrams_in, bytes_in;     /* from the disk, sent to local knet    */
	uint64_t send_drops;           /* sends to local knet that failed   */
};

/* A "role ROLE" request waiting for the I/O child (role.c). */
struct dld_role_req {
	bool wait;                     /* the request waits for the disk    */
	uint32_t seq;                  /* of that request in the channel    */
	uint32_t role;
	pid_t child;                   /* the child asked                   */
	uint64_t deadline_ns;
};

struct dld_ctl_client {
	int fd;                        /* -1: unused                        */
	bool may_role;                 /* root: may change the role         */
	struct dld_role_req role;
	size_t have;
	char buf[128];
	uint64_t deadline_ns;          /* closed then, answered or not      */
	char *out;                     /* the reply being sent (malloc)     */
	size_t out_len, out_off;
};

/* What the crypto guard found (crypto_guard.c). */
enum dld_crypto {
	DLD_CRYPTO_UNKNOWN = 0,        /* explicit mode, or not read yet    */
	DLD_CRYPTO_ON,                 /* a crypto_hash is set              */
	DLD_CRYPTO_PLAIN,              /* none, but allow_plaintext = yes   */
	DLD_CRYPTO_REFUSED,            /* none: the relay is refused        */
};

/* Who holds the local knet end, as last looked up (owner.h). */
struct dld_knet_owner {
	bool valid;                    /* looked up since the last change   */
	bool ok;                       /* every socket there is the expected uid's */
	uint32_t count;                /* sockets on it                     */
	uid_t uid;                     /* the foreign owner, when !ok       */
	uint64_t inode;
	uint64_t at_ns;                /* when it was looked up             */
};

/* Datagrams from one wake-up waiting to be queued: identical ones sent
 * to several peers merge into one record with a destination set. */
struct dld_pending {
	bool armed;                    /* the coalescing timer runs         */
	struct dld_coal set;           /* coalesce.h                        */
};

struct dld_ctx {
	struct dld_config cfg;
	struct dld_loop loop;
	int sigfd, tickfd, ctl_fd;
	gid_t ctl_gid;                 /* the status group, (gid_t)-1: none */
	int coalfd;                    /* timerfd: end of a coalescing window */
	int ready_fd;                  /* daemonize: tells the launcher, -1 */
	struct dld_ctl_client clients[DLD_CTL_CLIENTS];
	struct dld_peer_rt peers[DLD_MAX_PEERS];
	uint64_t foreign_drops;        /* datagrams from anyone but local knet */
	struct dld_lograte foreign_log; /* the first foreign datagram is logged */
	uint64_t owner_drops;          /* of foreign_drops: knet end not owned by the expected uid */
	struct dld_lograte owner_log;  /* logged once per foreign uid       */
	struct dld_knet_owner knet;    /* owner of the local knet end       */
	char refused[200];             /* why the relay is refused, "" relays */
	uint64_t refused_drops;        /* datagrams not relayed for that    */
	enum dld_crypto crypto;
	uint64_t tx_queue_drops;       /* queue full, device stalled or down */
	uint64_t aged_drops;           /* rx queue: older than max_age      */
	uint64_t coalesced;            /* datagrams merged into another's entry */
	uint64_t start_ns;

	/* The I/O child. */
	struct dld_chan chan;          /* shm == NULL: no child             */
	dld_loop_fn on_child_rx;       /* its channel has data (main.c wires) */
	pid_t child;                   /* 0: none                           */
	pid_t abandoned;               /* killed while stuck, not reaped    */
	bool abandoned_inflight;       /* reaped, its io_uring requests not */
	dld_inflight_fn inflight;      /* the probe, NULL: dld_inflight_read */
	uint64_t child_start_ns;
	uint64_t child_ready_ns;       /* 0: not ready yet                  */
	uint64_t restart_at_ns;        /* 0: none scheduled                 */
	uint32_t backoff_ms;
	uint32_t children;             /* started so far                    */
	bool ever_ready;
	bool notified;                 /* READY=1 sent                      */
	bool stalled;
	uint64_t stalled_since_ns;
	uint8_t uuid[16];
	bool have_uuid;
	uint64_t last_generation;
	uint64_t last_alive_ns;        /* the last child's last loop turn (max_age) */
	struct dld_status snap;        /* last status read from a child    */
	char error[200];               /* why the device failed, when no child */
	uint32_t role;                 /* replication role held (DL_ROLE_*) */
	uint32_t role_seq;             /* requests sent to the child        */

	/* Shutdown. */
	bool stopping;
	uint64_t stop_deadline_ns;
	int exit_code;                 /* what main() returns               */

	/* Corosync mode (--link): where the configuration comes from. */
	struct dld_cs cs;
	struct dld_timing timing;      /* knet's ping timeout (timing.h)    */
	struct dld_link_state *links;  /* does the disk carry totem (link_state.h) */

	struct dld_vnic vnic;          /* TUN mode's interface (tun.h)      */
	struct dld_pending pend;
	bool tx_kick;                  /* queued something: wake the child  */
	uint8_t rxbuf[DLD_RECV_BUF];
};

_Static_assert(DLD_LOOP_MAX >= DLD_MAX_PEERS + DLD_CTL_CLIENTS + 16u,
	       "DLD_LOOP_MAX (loop.h): room for the peers and the control clients");

/* ctx.c: a fresh context: all zero, every fd -1 (none open), no child.
 * The loop, the configuration and the channel are set up by their own
 * modules (dld_loop_init, dld_config_defaults, dld_chan_create). */
void dld_ctx_init(struct dld_ctx *ctx);

/* Stop the daemon with exit status code (the loop ends after this
 * handler; ctx->error may hold the one-line reason). */
static inline void dld_ctx_exit(struct dld_ctx *ctx, int code)
{
	ctx->exit_code = code;
	dld_loop_quit(&ctx->loop);
}

/* sockets.c */
/* The coalescing timer.  0, or -1 with errno. */
int dld_sockets_init(struct dld_ctx *ctx);
/* Bind every peer's address and watch it.  0, or -1 (logged). */
int dld_sockets_open(struct dld_ctx *ctx);
void dld_sockets_close(struct dld_ctx *ctx);
/* A new link configuration (corosync reload): take nc's port, local
 * address and peers; keep the sockets of peers whose address stays, close
 * those of removed peers, bind the new ones.  0, or -1 when a new address
 * could not be bound (logged; that peer stays unbound until the next
 * update). */
int dld_sockets_update(struct dld_ctx *ctx, const struct dld_config *nc);
/* End of a wake-up: read what the other peer sockets hold by now, queue
 * the pending records and wake the child; only when more copies of a
 * broadcast are predicted (dld_coal_partial) hold them up to coalesce_us.
 * force: queue now (the coalescing window ended). */
void dld_sockets_flush(struct dld_ctx *ctx, bool force);
/* The child delivered datagrams: send each to local knet from its peer's socket. */
void dld_sockets_deliver(struct dld_ctx *ctx);
/* The local knet end may have changed hands (corosync went away or came
 * back, the configuration changed): look its owner up again. */
void dld_sockets_recheck(struct dld_ctx *ctx);
/* true when datagrams may pass to and from the local knet end now: no
 * refusal (crypto guard) and its socket owned by the expected uid. */
bool dld_sockets_trusted(struct dld_ctx *ctx);

/* crypto_guard.c: corosync mode's totem.crypto_cipher and crypto_hash
 * (NULL: not set, corosync's default none).  Sets or clears ctx->refused
 * and logs a change once. */
void dld_crypto_guard(struct dld_ctx *ctx, const char *cipher, const char *hash);

/* supervise.c */
/* READY=1 for systemd, 0 for a waiting launcher (once). */
void dld_notify_ready(struct dld_ctx *ctx);
/* Fork an I/O child on a fresh channel.  0, or -1 with errno (logged; a
 * restart is scheduled). */
int dld_child_start(struct dld_ctx *ctx);
void dld_child_reap(struct dld_ctx *ctx);
void dld_child_tick(struct dld_ctx *ctx, uint64_t now);
void dld_child_stop(struct dld_ctx *ctx);
void dld_child_tunables(struct dld_ctx *ctx);
/* The peer list changed (corosync reload): tell the child. */
void dld_child_peers(struct dld_ctx *ctx);
/* A fresh status snapshot from the running child (for a reply). */
void dld_child_snapshot(struct dld_ctx *ctx);
/* Device state as reported (child snapshot + the parent's deadline view). */
const char *dld_device_state(struct dld_ctx *ctx, char *err, size_t errlen);
bool dld_child_accepts(struct dld_ctx *ctx);

/* control.c: the control socket and its clients. */
/* 0, or -1 (logged). */
int dld_control_open(struct dld_ctx *ctx);
void dld_control_close(struct dld_ctx *ctx);
/* Answer the clients whose role request is done, failed or timed out
 * (the child's channel woke us, or the tick). */
void dld_control_poll(struct dld_ctx *ctx, uint64_t now);

/* role.c: "role primary|secondary|none" written into our slot header.
 * Each returns true when the answer (one line, in text) is ready: the
 * client is then answered and closed; false: the request waits for the
 * disk (req says for what). */
bool dld_role_request(struct dld_ctx *ctx, struct dld_role_req *req, const char *arg,
		      char *text, size_t len);
bool dld_role_check(struct dld_ctx *ctx, struct dld_role_req *req, uint64_t now,
		    char *text, size_t len);

/* status_json.c, status_shell.c, status_text.c: the reply to "status",
 * "status shell" and "status text" (each prints the status view,
 * status_view.h). */
void dld_status_json(struct dld_ctx *ctx, FILE *out);
void dld_status_shell(struct dld_ctx *ctx, FILE *out);
void dld_status_text(struct dld_ctx *ctx, FILE *out);
const char *dld_peer_state_name(uint32_t state);
/* The child's status of the parent's peer i (matched by node id). */
const struct dld_peer_status *dld_peer_snap(const struct dld_ctx *ctx, uint32_t i);

#endif
