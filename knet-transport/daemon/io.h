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

struct dld_io_peer {
	uint32_t node_id;
	int32_t  slot;                 /* -1 while the peer has no slot     */
	bool     reader_ok;            /* rd initialised for slot           */
	struct dl_reader rd;
	uint64_t hdr_seq;              /* of the last header read           */
	uint64_t generation;           /* of the last header read           */
	uint32_t slot_state;
	uint64_t last_change_ns;       /* ring or header moved (monotonic)  */
	uint64_t last_block_ns;
	uint32_t ahead;                /* blocks to read at the next poll   */
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
