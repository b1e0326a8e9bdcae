/* The reader of one peer's ring: new-block detection, torn-block retry
 * then skip, overrun and generation-change resynchronisation, stale-lap
 * detection, and delivery of the datagrams addressed to this node. */
#ifndef DL_RING_READER_H
#define DL_RING_READER_H

#include <stdint.h>

#include "reassembly.h"
#include "superblock.h"

struct dl_reader_stats {
	uint64_t blocks;               /* new blocks consumed                  */
	uint64_t dgrams;               /* datagrams delivered                  */
	uint64_t bytes;                /* bytes delivered                      */
	uint64_t torn_retries;         /* polls that found the next block torn */
	uint64_t torn_skipped;         /* torn blocks given up on (lost)       */
	uint64_t invalid;              /* checksummed blocks with bad fields   */
	uint64_t lost_blocks;          /* skipped by overrun or gap            */
	uint64_t overruns;             /* resynchronisations after a lap       */
	uint64_t gen_changes;          /* writer restarts seen                 */
	uint64_t stale;                /* blocks of an older generation/volume */
	uint64_t frag_dropped;         /* partial datagrams thrown away        */
};

struct dl_reader {
	uint32_t block_size;
	uint32_t ring_blocks;
	uint32_t slot_index;
	uint32_t self_id;              /* deliver records addressed to us    */
	uint8_t  uuid[16];
	int      synced;
	uint32_t writer_id;            /* node id seen in the ring           */
	uint64_t generation;
	uint64_t next_seq;
	uint32_t torn_polls;
	uint32_t torn_limit;           /* polls before a torn block is skipped
					* (2 once a later block is valid)    */
	uint64_t torn_wait_ns;         /* and time since the first poll that
					* found it torn (0: polls only)      */
	uint64_t torn_since_ns;        /* now_ns of that first poll          */
	uint64_t now_ns;               /* the caller's monotonic clock, set
					* before each dl_reader_poll         */
	uint64_t last_write_time_ns;   /* writer's clock in the newest block */
	uint64_t min_generation;       /* the writer's generation from its slot
					* header (the caller raises it): a
					* block of a lower one is a superseded
					* incarnation's late write, never
					* delivered (counted stale)          */
	/* Set before the first resync (attach), both optional: */
	uint64_t resume_seq;           /* next seq this node had not read yet
					* (from its acknowledgements): what the
					* writer wrote since is counted lost  */
	uint64_t attach_gen;           /* deliver this generation from its
					* first block (a writer that started
					* after this reader was looking)     */
	uint64_t attach_after_seq;     /* with attach_gen: the last block this
					* node read of that ring before it
					* re-attached; nothing at or below it
					* is delivered again, a gap after it
					* is counted lost                    */
	struct dl_reasm reasm;
	struct dl_reader_stats st;
};

typedef void (*dl_deliver_fn)(void *ctx, uint32_t src_node, const uint8_t *data,
			      uint32_t len);

#define DL_TORN_LIMIT_DEFAULT 4u

int dl_reader_init(struct dl_reader *r, const struct dl_sb *sb, uint32_t slot_index,
		   uint32_t self_id);
void dl_reader_free(struct dl_reader *r);

/* Ring index where the next block is expected. */
static inline uint32_t dl_reader_next_index(const struct dl_reader *r)
{
	return (uint32_t)(r->next_seq % r->ring_blocks);
}

/* One poll: the caller sets now_ns (its monotonic clock, read after the
 * blocks were read) when torn_wait_ns is set; blocks[0..n) are the ring blocks at the indexes of next_seq,
 * next_seq + 1, ... (consecutive, the caller stops at the end of the
 * ring).  Consumes what is new, delivering datagrams.  Returns the number
 * of blocks consumed; *resync is set when the reader must be given the
 * whole ring (dl_reader_resync): a lap was lost or the writer jumped. */
uint32_t dl_reader_poll(struct dl_reader *r, const uint8_t *blocks, uint32_t n,
			dl_deliver_fn deliver, void *ctx, int *resync);

/* Resynchronise from the whole ring (ring_blocks blocks in index order).
 * At the first call (attach) the reader starts after the newest block and
 * delivers nothing old (counting as lost what came after resume_seq), or,
 * with attach_gen set, delivers the unbroken run of blocks of that
 * generation or newer; later it skips to the oldest block it has not
 * seen that starts an unbroken run to the newest, counts the loss and
 * delivers the run.  hint_seq is the slot header's last_seq (0 if
 * unknown), used when the ring holds no block of min_generation: at the
 * first call, and later, once min_generation is above the generation
 * consumed, to skip a superseded generation's blocks not read yet
 * (counted stale).  Never delivers a sequence number twice. */
void dl_reader_resync(struct dl_reader *r, const uint8_t *ring, uint64_t hint_seq,
		      dl_deliver_fn deliver, void *ctx);

#endif
