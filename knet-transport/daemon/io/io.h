/* The disk I/O child: the one process that touches the volume.  It owns
 * no socket; it exchanges datagrams with the parent through the shared
 * queues (shm_queue.h) and publishes its state in the status area. */
#ifndef DLD_IO_H
#define DLD_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "ring_reader.h"
#include "ring_writer.h"
#include "volume.h"

#include "dld.h"
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
};

struct dld_io_peer {
	uint32_t node_id;
	struct dld_io_pdev *dev;       /* NULL: read from the main device   */
	int32_t  slot;                 /* -1 while the peer has no slot     */
	bool     reader_ok;            /* rd initialised for slot           */
	struct dl_reader rd;
	uint64_t hdr_seq;              /* of the last header read           */
	uint64_t generation;           /* of the last header read           */
	uint32_t slot_state;
	uint64_t last_change_ns;       /* ring or header moved (monotonic)  */
	uint64_t last_block_ns;
	uint32_t ahead;                /* blocks to read at the next poll   */
	uint32_t role;                 /* DL_ROLE_* of its last header      */
	int64_t  lag_ms;               /* newest block's delay, -1 unknown  */
	bool     resync;               /* read the whole ring next poll     */
};

struct dld_io {
	const struct dld_config *cfg;
	struct dld_chan *ch;
	struct dld_shm *shm;
	struct dld_tunables tun;
	uint32_t tun_seq;
	const char *device;            /* resolved path                     */
	char device_buf[4096];
	struct dl_volume vol;
	bool vol_open;
	uint32_t slot;
	struct dl_slot_hdr hdr;        /* our slot header as last written   */
	struct dl_slot_hdr claimed;    /* our header as found at the claim:
					* its acks say where reading stopped */
	bool peers_scanned;            /* the first scan for peers is done  */
	bool hdr_written;              /* by this generation: check it stays ours */
	bool write_failed;             /* the last write failed: only a write clears it */
	struct dl_writer w;
	uint8_t *ring;                 /* one ring of blocks, aligned       */
	uint8_t *wbuf;                 /* max_batch blocks, aligned         */
	uint32_t max_batch;
	/* the batch being packed */
	struct dl_dgram *dg;
	uint16_t (*dst)[DL_DEST_MAX];
	uint64_t *dg_end;              /* queue position after each entry   */
	uint32_t dg_cap;
	uint32_t npeers;
	uint32_t peers_seq;            /* of the parent's peer table        */
	struct dld_io_peer peers[DLD_MAX_PEERS];
	struct dld_status st;
	struct dld_sched sched;
	uint64_t next_poll_ns, next_hdr_ns, next_sb_ns, next_pub_ns;
	bool delivered;                /* kick the parent's rx eventfd      */
	bool read_failed;              /* last peer read failed             */
	uint32_t role_seq;             /* last role request handled         */
};

/* io_child.c */
int dld_io_child_main(const struct dld_config *cfg, struct dld_chan *ch);
/* Wait up to ns for a stop request: true when asked to stop. */
bool dld_io_wait(struct dld_io *io, uint64_t ns);
bool dld_io_stop_requested(struct dld_io *io);
void dld_io_fail(struct dld_io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dld_io_ok(struct dld_io *io);
/* Buffers sized from the open volume. */
int dld_io_alloc(struct dld_io *io);
/* The write buffer holds one largest datagram for every peer: grow it
 * when peers were added.  0, or -1 (logged; the old size stays). */
int dld_io_resize(struct dld_io *io);

/* Timed device access: the deadline word tells the parent an I/O is in
 * progress since when; latency and errors are counted. */
int dld_io_read_blocks(struct dld_io *io, uint32_t slot, uint32_t first, uint32_t n,
		       void *buf);
int dld_io_write_blocks(struct dld_io *io, uint32_t first, uint32_t n, const void *buf);
int dld_io_read_slot(struct dld_io *io, uint32_t slot, struct dl_slot_hdr *h);
int dld_io_write_slot(struct dld_io *io, struct dl_slot_hdr *h);
void dld_io_begin(struct dld_io *io);
void dld_io_end(struct dld_io *io, bool write, int rc);

/* io_volume.c: open, validate, claim, header, superblock check. */
int dld_io_attach(struct dld_io *io);
int dld_io_write_header(struct dld_io *io, uint32_t state);
int dld_io_check_volume(struct dld_io *io);
/* A role request from the parent: write it into our header, answer. */
int dld_io_role_check(struct dld_io *io);

/* io_peerdev.c: peers read through their own devices (mirrors). */
/* Give p its own device when the configuration names one. */
void dld_io_pdev_setup(struct dld_io *io, struct dld_io_peer *p);
void dld_io_pdev_free(struct dld_io_peer *p);
/* The volume and ring buffer p is read through; NULL while its own
 * device is not open (failed path). */
struct dl_volume *dld_io_peer_vol(struct dld_io *io, struct dld_io_peer *p);
uint8_t *dld_io_peer_ring(struct dld_io *io, struct dld_io_peer *p);
/* Open (or retry) and re-check the peer's own device when due.  true
 * when p can be read now. */
bool dld_io_pdev_usable(struct dld_io *io, struct dld_io_peer *p, uint64_t now);
/* A read through p's path failed: mark its own device failed. */
void dld_io_pdev_error(struct dld_io *io, struct dld_io_peer *p, const char *what, int err);
/* Timed reads through p's path (the main device or its own). */
int dld_io_peer_read_blocks(struct dld_io *io, struct dld_io_peer *p, uint32_t first,
			    uint32_t n, void *buf);
int dld_io_peer_read_slot(struct dld_io *io, struct dld_io_peer *p, uint32_t slot,
			  struct dl_slot_hdr *h);
/* Find p's slot on its own device: 0 with slot and header, else -1. */
int dld_io_pdev_find(struct dld_io *io, struct dld_io_peer *p, uint32_t *slot,
		     struct dl_slot_hdr *h);

/* io_write.c: drain the tx queue into the ring (group commit). */
void dld_io_drain_tx(struct dld_io *io);

/* io_read.c: the peers' rings and headers. */
void dld_io_peers_init(struct dld_io *io);
/* Adopt a new peer table from the parent, if it published one. */
void dld_io_peers_check(struct dld_io *io, uint64_t now);
void dld_io_peers_free(struct dld_io *io);
void dld_io_poll_peers(struct dld_io *io, uint64_t now);
void dld_io_peer_headers(struct dld_io *io, uint64_t now);
void dld_io_peers_status(struct dld_io *io, uint64_t now);

#endif
