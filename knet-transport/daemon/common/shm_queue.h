/* The parent/child exchange: one shared mapping (created before fork)
 * holding two single-producer/single-consumer queues of variable-length
 * messages, a status area the I/O child publishes under a sequence lock,
 * the deadline word of the I/O request in progress, and the parent's
 * requests (stop, tunables).  Each queue has an eventfd for wake-ups. */
#ifndef DLD_SHM_QUEUE_H
#define DLD_SHM_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring_reader.h"
#include "dld.h"

/* ---- queue ------------------------------------------------------- */
struct dld_q {
	_Atomic uint64_t head;         /* bytes produced (producer writes)  */
	uint8_t pad1[56];
	_Atomic uint64_t tail;         /* bytes consumed (consumer writes)  */
	uint8_t pad2[56];
	uint64_t cap;                  /* power of two                      */
	uint8_t pad3[56];
	uint8_t data[];
};

/* One message as the consumer sees it (pointers into the queue, valid
 * until the consumer releases past it). */
struct dld_qmsg {
	uint16_t node;                 /* rx: the peer it came from         */
	uint16_t ndst;                 /* tx: destinations                  */
	const uint16_t *dst;
	const uint8_t *data;
	uint32_t len;
	uint64_t t_ns;                 /* when it was queued (CLOCK_MONOTONIC
					* of the producer's clock)          */
};

/* Producer: 0, or -1/ENOBUFS when it does not fit (the caller counts a drop;
 * EINVAL: ndst 0xffff, the wrap marker).
 * The message is stamped with dld_mono_ns(); dld_q_push_at() stamps it
 * with t_ns (a producer with a clock of its own: the I/O child, the
 * simulator).  The consumer judges a message's age by it (max_age). */
int dld_q_push(struct dld_q *q, uint16_t node, const uint16_t *dst, uint16_t ndst,
	       const uint8_t *data, uint32_t len);
int dld_q_push_at(struct dld_q *q, uint64_t t_ns, uint16_t node, const uint16_t *dst,
		  uint16_t ndst, const uint8_t *data, uint32_t len);
/* How old a message stamped t_ns is at now (0 when the stamp is later). */
static inline uint64_t dld_q_age(uint64_t t_ns, uint64_t now)
{
	return now > t_ns ? now - t_ns : 0;
}
/* The age budget of each side of the volume (doc/format.md, "Age
 * rules"): half of max_age_ms, 0 no limit.  The writer's side runs from
 * the enqueue to the end of the write, the reader's from the start of
 * the read that last found a peer's ring without new data to the hand
 * over to knet: the two add up to max_age at most. */
static inline uint64_t dld_age_budget_ns(uint32_t max_age_ms)
{
	return (uint64_t)max_age_ms * 500000u;
}
/* Is m older than budget_ns (0: no limit) at now?  The age rule of a
 * consumer: such a message is dropped and counted. */
static inline bool dld_q_too_old(const struct dld_qmsg *m, uint64_t budget_ns, uint64_t now)
{
	return budget_ns && dld_q_age(m->t_ns, now) > budget_ns;
}
/* Consumer: read the message at *pos (start at dld_q_tail()); 1 and *pos
 * advanced, 0 when there is none. */
int dld_q_read(struct dld_q *q, uint64_t *pos, struct dld_qmsg *m);
uint64_t dld_q_tail(struct dld_q *q);
/* Consumer: everything before pos may be overwritten. */
void dld_q_release(struct dld_q *q, uint64_t pos);
int dld_q_empty(struct dld_q *q);

/* ---- status published by the I/O child --------------------------- */
enum dld_dev_state { DLD_DEV_STARTING = 0, DLD_DEV_OK, DLD_DEV_STALLED, DLD_DEV_FAILED };
enum dld_peer_state { DLD_PEER_UNKNOWN = 0, DLD_PEER_UP, DLD_PEER_STALE, DLD_PEER_DOWN };
/* The path a peer's ring is read through (doc/replication.md). */
enum dld_mirror_state {
	DLD_MIRROR_UNKNOWN = 0,        /* path failed or nothing known yet  */
	DLD_MIRROR_HEALTHY,
	DLD_MIRROR_LAGGING,            /* advancing, lag above lag_warn_ms  */
	DLD_MIRROR_FROZEN,             /* slot active, nothing moved for frozen_ms */
	DLD_MIRROR_GONE,               /* the peer left (slot stopped/absent, or corosync) */
};
#define DLD_PATH_TEXT 128

struct dld_peer_status {
	uint32_t node_id;
	uint32_t state;                /* enum dld_peer_state               */
	int32_t  slot;                 /* -1: no slot claimed by the peer   */
	uint32_t slot_state;           /* DL_SLOT_* of its header           */
	uint64_t generation;
	uint64_t last_block_mono_ns;   /* 0: none yet                       */
	uint64_t latency_us;           /* write time to delivery, smoothed  */
	struct dl_reader_stats rs;
	/* The path (device) the ring is read from, and what it shows. */
	char     path[DLD_PATH_TEXT];
	uint32_t path_ok;              /* 0: the peer's path failed         */
	char     path_error[200];
	uint32_t mirror;               /* enum dld_mirror_state             */
	int64_t  lag_ms;               /* newest block's delay; -1 unknown  */
	uint32_t role;                 /* DL_ROLE_* in the peer's slot header */
};

struct dld_io_status {
	uint64_t writes;               /* write requests                    */
	uint64_t reads;                /* read requests                     */
	uint64_t errors;
	uint64_t write_latency_us;     /* smoothed                          */
	uint64_t read_latency_us;
	uint64_t blocks_written;
	uint64_t dgrams_written;
	uint64_t coalesced;            /* datagrams merged into a record    */
	uint64_t write_drops;          /* datagrams lost to write errors    */
	uint64_t aged_queued;          /* queued longer than max_age: dropped */
	uint64_t aged_late;            /* in a write that took longer than
					* max_age: voided                   */
};

struct dld_status {
	uint32_t device_state;         /* enum dld_dev_state (not STALLED)  */
	char     device_error[200];
	char     volume_uuid[40];
	char     cluster[DL_CLUSTER_NAME_MAX];
	int32_t  slot;
	uint32_t role;                 /* DL_ROLE_* in our slot header      */
	uint64_t generation;
	uint64_t next_seq;
	uint32_t block_size;
	uint32_t ring_blocks;
	struct dld_io_status io;
	uint64_t rx_queue_drops;
	uint64_t aged_read;            /* returned by a read that took longer
					* than max_age, or found after a gap
					* in reading longer than it: dropped */
	uint32_t peer_count;
	struct dld_peer_status peers[DLD_MAX_PEERS];
};

/* ---- the shared area --------------------------------------------- */
struct dld_shm {
	_Atomic uint32_t st_seq;       /* odd while the child updates st    */
	struct dld_status st;
	_Atomic uint64_t io_start_ns;  /* CLOCK_MONOTONIC start of the I/O in progress, 0 none */
	_Atomic uint64_t alive_ns;     /* CLOCK_MONOTONIC of the child's last loop turn */
	_Atomic uint32_t ready;        /* slot claimed, header written      */
	_Atomic uint32_t stop;         /* parent: mark the slot stopped and exit */
	_Atomic uint32_t tun_seq;      /* parent bumps after changing tun   */
	_Atomic uint32_t disk_totem;   /* parent: a peer's network links are down,
					* totem flows through the disk: poll fast */
	struct dld_tunables tun;
	uint8_t  expect_uuid[16];      /* parent: the volume seen before    */
	uint32_t have_uuid;
	uint64_t prev_generation;      /* parent: our previous child's generation */
	_Atomic uint64_t claimed_generation; /* child: the generation it may write,
					* stored before its first write of it: the
					* parent learns it even when the child dies
					* or is abandoned before it is ready */
	uint64_t prev_alive_ns;        /* parent: our previous child's last loop
					* turn (its alive_ns), 0 none: a reader
					* gap longer than max_age drops the backlog */
	/* Replication role: the parent sets role and bumps role_seq (kicks
	 * tx_efd); the child writes its header and sets role_done to that
	 * seq with role_err ("" when the header is on disk), kicks rx_efd. */
	_Atomic uint32_t role_seq;
	uint32_t role;
	_Atomic uint32_t role_done;
	char     role_err[160];
	/* parent: the peers' node ids (corosync reloads change them); odd
	 * peers_seq while the parent writes. */
	_Atomic uint32_t peers_seq;
	uint32_t peer_count;
	uint32_t peer_ids[DLD_MAX_PEERS];
	size_t   tx_off, rx_off;       /* queues, from the mapping's start  */
	size_t   map_len;
};

struct dld_chan {
	struct dld_shm *shm;
	struct dld_q *tx;              /* parent -> child: dst list + datagram */
	struct dld_q *rx;              /* child -> parent: source + datagram   */
	int tx_efd;                    /* child waits on it                 */
	int rx_efd;                    /* parent's epoll has it             */
};

/* Create a fresh channel (before each fork).  0 or -1 with errno. */
int dld_chan_create(struct dld_chan *ch, uint32_t queue_kib);
void dld_chan_destroy(struct dld_chan *ch);
void dld_efd_kick(int efd);
void dld_efd_drain(int efd);
/* The child's event wait: up to timeout_ns for a kick on tx_efd (a
 * datagram queued, a request from the parent), drained.  0, or -1 with
 * errno (a signal is no error). */
int dld_chan_wait_tx(struct dld_chan *ch, uint64_t timeout_ns);
/* The parent asked the child to stop (mark its slot stopped and exit). */
bool dld_chan_stop_asked(struct dld_chan *ch);

/* Status publication (child) and snapshot (parent; 0, or -1 when the
 * child stayed mid-update, e.g. stopped: *out then holds a best effort). */
/* The peer table: the parent publishes the peers' node ids; the child
 * reads them when peers_seq differs from *seq (1 and the table copied,
 * else 0). */
void dld_peers_publish(struct dld_shm *shm, const uint32_t *ids, uint32_t n);
int dld_peers_read(struct dld_shm *shm, uint32_t *seq, uint32_t *ids, uint32_t *n);

void dld_status_publish(struct dld_shm *shm, const struct dld_status *st);
int dld_status_snapshot(struct dld_shm *shm, struct dld_status *out);

#endif
