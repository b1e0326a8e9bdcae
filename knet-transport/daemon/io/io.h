/* The disk I/O child: the one process that touches the volume.  It owns
 * no socket; it exchanges datagrams with the parent through the shared
 * queues (shm_queue.h) and publishes its state in the status area.
 *
 * Layers, each calling only those below it:
 *   io_child.c    the process: set-up, attach, then the loop
 *   io_loop.c     the loop (wait, tick, publish), also run by the simulator
 *   io_volume.c   attach (open, validate, claim), our slot header, the
 *                 superblock check, role requests
 *   io_write.c    the tx queue into our ring       io_read.c  the peers
 *   io_peerdev.c  the peers' own devices (mirror paths), their upkeep
 *   io_dev.c      timed device access and device state, buffers
 *
 * One error convention: 0, or -1 with errno.  A step that may end the
 * child also sets *exit_code: the DLD_EXIT_* status to end with, or
 * DLD_EXIT_OK (0) when the child goes on (a failed write marks the
 * device failed and is no reason to end).  A stop request met while
 * waiting is -1 with errno ECANCELED and *exit_code DLD_EXIT_OK. */
#ifndef DLD_IO_H
#define DLD_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring_reader.h"
#include "ring_writer.h"
#include "volume.h"

#include "dld.h"
#include "io_dev.h"
#include "poll_sched.h"
#include "shm_queue.h"

/* A peer's ring read through its own device (--peer-device: its mirror),
 * opened read-only by io_peerdev.c. */
struct dld_io_pdev {
	char     path[DLD_PEER_DEV_MAX];  /* as configured                  */
	char     resolved[4096];
	struct dl_volume vol;
	bool     open;
	uint8_t *ring;                 /* one ring of this volume, aligned  */
	uint8_t  uuid[16];             /* the volume first seen here        */
	bool     have_uuid;
	bool     failed;
	char     error[200];
	uint64_t retry_ns;             /* next open attempt (monotonic)     */
	uint64_t next_check_ns;        /* next superblock re-check          */
	struct dld_lograte fail_log;   /* one message per failure reason   */
};

struct dld_io_peer {
	uint32_t node_id;
	struct dld_io_pdev *dev;       /* NULL: read from the main device   */
	int32_t  slot;                 /* -1 while the peer has no slot     */
	bool     reader_ok;            /* rd initialised for slot           */
	struct dl_reader rd;
	uint64_t hdr_seq;              /* of the last header read           */
	uint64_t generation;           /* of the last header read           */
	uint64_t hdr_last_seq;         /* its header's last_seq at attach: the
					* first sync starts after it when the
					* ring holds nothing of this generation */
	uint32_t slot_state;
	uint64_t last_change_ns;       /* ring or header moved (monotonic)  */
	uint64_t last_block_ns;
	uint32_t ahead;                /* blocks to read at the next poll:
					* 1 idle, else io_read.c's read_size */
	uint32_t role;                 /* DL_ROLE_* of its last header      */
	int64_t  lag_ms;               /* newest block's delay, -1 unknown  */
	bool     resync;               /* read the whole ring next poll     */
	uint32_t mark;                 /* its entry in io->marks + 1, 0 none */
	uint64_t origin_ns;            /* max_age: start of the last read that
					* found no new block, 0 unknown     */
	uint64_t alive_ns;             /* max_age: its header last seen moving
					* (io_read.c: silent), 0 never      */
	uint64_t hdr_read_ns;          /* our last read of its header       */
	uint64_t absent_ns;            /* last scan that found no slot of it */
	uint64_t head_ring_ns;         /* ring last read (io_head.c)        */
};

/* Where this child last read a node's ring, kept when the node stops
 * being a peer or its path closes: a re-attach starts after it. */
#define DLD_IO_MARKS (2u * DL_SLOTS_MAX)

/* The largest ring read of a busy peer (io_read.c, read_size): 64 blocks
 * of 4 KiB, more than a 64 KiB datagram with its headers. */
#define DLD_READ_BURST_BYTES (256u * 1024u)

struct dld_io_mark {
	uint32_t node_id;
	uint32_t slot;
	uint64_t seq;                  /* last block consumed (0: none)     */
	uint64_t origin_ns;            /* its reader's origin then (max_age) */
};

struct dld_io {
	const struct dld_config *cfg;
	struct dld_chan *ch;
	struct dld_shm *shm;
	struct dld_tunables tun;
	uint32_t tun_seq;
	const char *device;            /* resolved path                     */
	char device_buf[4096];
	struct dld_io_dev dev;         /* the main device, timed (io_dev.h) */
	uint32_t slot;
	struct dl_slot_hdr hdr;        /* our slot header as last written   */
	struct dl_slot_hdr claimed;    /* our header as found at the claim:
					* its acks say where reading stopped */
	bool peers_scanned;            /* the first scan for peers is done  */
	bool hdr_written;              /* by this generation: check it stays ours */
	bool takeover;                 /* the slot was left active by a
					* predecessor whose writes may land */
	struct dld_lograte late_hdr_log; /* a predecessor's late header */
	struct dl_writer w;
	uint64_t void_first;           /* sequences of failed writes, to be */
	uint32_t void_n;               /* voided before the next data       */
	/* the batch being packed (io_write.c) */
	struct dl_dgram *dg;
	uint16_t (*dst)[DL_DEST_MAX];
	uint64_t *dg_end;              /* queue position after each entry   */
	uint64_t *dg_t;                /* its oldest enqueue time (max_age) */
	uint32_t dg_cap;
	uint32_t npeers;
	uint32_t peers_seq;            /* of the parent's peer table        */
	struct dld_io_peer peers[DLD_MAX_PEERS];
	struct dld_io_mark marks[DLD_IO_MARKS];
	uint32_t nmarks;
	struct dld_status st;
	struct dld_sched sched;
	uint64_t next_poll_ns, next_hdr_ns, next_sb_ns, next_pub_ns;
	bool delivered;                /* kick the parent's rx eventfd      */
	bool read_failed;              /* last peer read failed             */
	uint32_t role_seq;             /* last role request handled         */
	/* The idle wait: until timeout_ns passes on the device's clock or the
	 * tx eventfd is kicked.  NULL: dld_chan_wait_tx (a simulator puts
	 * its own here, with its own clock). */
	int (*wait_tx)(struct dld_io *io, uint64_t timeout_ns);
	struct dld_io_heads *heads;    /* the head area (io_head.c)         */
	struct dld_io_pre *pre;        /* the poll's reads (io_prefetch.c)  */
};

/* The idle wait of io (its wait_tx, else dld_chan_wait_tx). */
static inline int dld_io_wait_tx(struct dld_io *io, uint64_t timeout_ns)
{
	return io->wait_tx ? io->wait_tx(io, timeout_ns) : dld_chan_wait_tx(io->ch, timeout_ns);
}

/* io_loop.c: serve an attached volume (peers, status, ready) until a stop
 * request or a fatal condition: the exit status (DLD_EXIT_*). */
int dld_io_serve(struct dld_io *io);

/* io_child.c: the entry point (supervise.c forks it); parent: the pid of
 * the process that forked it (getpid() before the fork), which may be 1
 * in a container where disklinkd is PID 1. */
int dld_io_child_main(const struct dld_config *cfg, struct dld_chan *ch, pid_t parent);

/* io_volume.c: open, validate, claim, header, superblock check. */
int dld_io_attach(struct dld_io *io, int *exit_code);
/* Write our slot header in state: -1 with errno when it was not written
 * (*exit_code says whether the child must end). */
int dld_io_write_header(struct dld_io *io, uint32_t state, int *exit_code);
int dld_io_check_volume(struct dld_io *io, int *exit_code);
/* A role request from the parent: write it into our header, answer. */
int dld_io_role_check(struct dld_io *io, int *exit_code);

/* io_peerdev.c: peers read through their own devices (mirrors). */
/* Give p its own device when the configuration names one. */
void dld_io_pdev_setup(struct dld_io *io, struct dld_io_peer *p);
void dld_io_pdev_free(struct dld_io_peer *p);
/* Path upkeep, once a loop turn: open (or retry) and re-check the peers'
 * own devices when due.  A path that fails or reopens loses its reader
 * (p->slot -1) here, never in the middle of a read. */
void dld_io_paths_upkeep(struct dld_io *io, uint64_t now);
/* The volume and ring buffer p is read through; NULL while its own
 * device is not open (failed path). */
struct dl_volume *dld_io_peer_vol(struct dld_io *io, struct dld_io_peer *p);
uint8_t *dld_io_peer_ring(struct dld_io *io, struct dld_io_peer *p);
/* Timed reads through p's path (the main device or its own); a failed
 * read of its own device marks the path failed. */
int dld_io_peer_read_blocks(struct dld_io *io, struct dld_io_peer *p, uint32_t first,
			    uint32_t n, void *buf);
int dld_io_peer_read_slot(struct dld_io *io, struct dld_io_peer *p, uint32_t slot,
			  struct dl_slot_hdr *h);
/* Find p's slot on its own device: 0 with slot and header, else -1. */
int dld_io_pdev_find(struct dld_io *io, struct dld_io_peer *p, uint32_t *slot,
		     struct dl_slot_hdr *h);

/* io_write.c: drain the tx queue into the ring (group commit). */
int dld_io_batch_alloc(struct dld_io *io);
void dld_io_batch_free(struct dld_io *io);
void dld_io_drain_tx(struct dld_io *io);

/* io_read.c: the peers' rings and headers. */
/* io_head.c: our head after a ring commit of blocks (in dev.wbuf) from
 * seq first; the peers' heads, one read per poll; what p's head says. */
enum dld_head_use {
	DLD_HEAD_RING,                 /* read the ring                     */
	DLD_HEAD_IDLE,                 /* nothing new: no ring read         */
	DLD_HEAD_INLINE,               /* *blocks[0..*n): the next ring
					* blocks, rebuilt from the head     */
};
void dld_io_head_commit(struct dld_io *io, uint64_t first, uint32_t blocks);
void dld_io_heads_read(struct dld_io *io);
/* The area read of this poll as a transfer (x), for io_prefetch.c to
 * hand over with the rings' reads: the heads it covers, 0 none; then
 * what it read (0: the read failed). */
uint32_t dld_io_heads_want(struct dld_io *io, struct dld_dev_xfer *x);
void dld_io_heads_got(struct dld_io *io, uint32_t n);
/* io_prefetch.c: the poll's reads handed over together (the head area
 * and the next blocks of each busy peer's ring); what was read ahead
 * for p at ring index idx (n blocks), taken once: NULL when nothing,
 * else the blocks, *rc the read's result (errno set) and *start when it
 * began. */
void dld_io_prefetch(struct dld_io *io);
const uint8_t *dld_io_prefetched(struct dld_io *io, const struct dld_io_peer *p,
				 uint32_t idx, uint32_t n, int *rc, uint64_t *start);
void dld_io_prefetch_free(struct dld_io *io);
enum dld_head_use dld_io_head_use(struct dld_io *io, struct dld_io_peer *p, uint64_t now,
				  const uint8_t **blocks, uint32_t *n);
void dld_io_heads_free(struct dld_io *io);

void dld_io_peers_init(struct dld_io *io);
/* Adopt a new peer table from the parent, if it published one. */
void dld_io_peers_check(struct dld_io *io, uint64_t now);
void dld_io_peers_free(struct dld_io *io);
void dld_io_poll_peers(struct dld_io *io, uint64_t now);
void dld_io_peer_headers(struct dld_io *io, uint64_t now);
void dld_io_peers_status(struct dld_io *io, uint64_t now);

#endif
